"""Cards other apps add to the dashboard (monitoring's active alerts, …).

A capability app registers its card in its AppConfig.ready(); the dashboard draws every registered
card it is given a context for and imports none of them, so dependencies run one way. The dashboard
has a time budget (bench/pages.py): a card's context should cost at most one query.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class DashboardCard:
    name: str
    template: str
    # (request, organization_id) -> the template's context (as `card`), or None: not shown to this user.
    context: Callable[[HttpRequest, int], dict[str, Any] | None]
    order: int = 100


_cards: dict[str, DashboardCard] = {}


def card_register(card: DashboardCard) -> None:
    _cards[card.name] = card


def cards_registered() -> list[DashboardCard]:
    return sorted(_cards.values(), key=lambda card: (card.order, card.name))


def cards_for(request: HttpRequest, organization_id: int) -> list[dict[str, Any]]:
    """The cards this user sees on the dashboard: [{"name", "template", "context"}], in order."""
    shown = []
    for card in cards_registered():
        context = card.context(request, organization_id)
        if context is not None:
            shown.append({"name": card.name, "template": card.template, "context": context})
    return shown
