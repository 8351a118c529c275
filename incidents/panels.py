"""Sections other apps add to the incident page (the linked posts of monitoring, …).

A capability app registers its panel in its AppConfig.ready(); the incident page draws every
registered panel and imports none of them, so dependencies run one way.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from incidents.models import Incident


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    # (request, incident, may_add, overrides) -> the template's context; `may_add` is whether the
    # user may add to the incident now, `overrides` the bound form being shown again with its errors.
    context: Callable[[HttpRequest, Incident, bool, dict[str, Any]], dict[str, Any]]
    order: int = 100


_panels: dict[str, Panel] = {}


def panel_register(panel: Panel) -> None:
    _panels[panel.name] = panel


def panels_registered() -> list[Panel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.name))
