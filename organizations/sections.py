"""单位设置 is assembled from sections the apps register (members and groups here; plans, API tokens,
system webhooks and group channels in the apps that own them), so this app never imports them.
Apps that know more about a member (sign-in security) add to each row of the members page."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise

from organizations.policies import unit_allows


@dataclass(frozen=True)
class Section:
    key: str
    label: Promise
    url_name: str
    action: str  # the organizations.policies rule that decides who sees it
    order: int = 100


@dataclass(frozen=True)
class MemberExtension:
    """A column of the members page: `load(users)` returns {user id: value}, rendered per row by
    `template` with the value as `value` and the member's Membership as `member`."""

    heading: Promise
    template: str
    load: Callable[[list[Any]], dict[int, Any]]


_SECTIONS: dict[str, Section] = {}
_MEMBER_EXTENSIONS: list[MemberExtension] = []


def section_register(section: Section) -> None:
    _SECTIONS[section.key] = section


def member_extension_register(extension: MemberExtension) -> None:
    if extension not in _MEMBER_EXTENSIONS:
        _MEMBER_EXTENSIONS.append(extension)


def sections_for(actor: Any, organization_id: int | None) -> list[Section]:
    """The sections this person may open in their unit, in order."""
    return [
        section
        for section in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))
        if unit_allows(section.action, actor, organization_id)
    ]


def member_extensions() -> list[MemberExtension]:
    return list(_MEMBER_EXTENSIONS)
