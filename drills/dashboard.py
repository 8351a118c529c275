"""The dashboard's 「应急演练」 card: when the plan's next drill is due and the next one scheduled.
Registered with incidents.dashboard_cards from this app's AppConfig.ready()."""

from typing import Any

from django.http import HttpRequest

from drills.policies import drill_allows
from drills.selectors import drill_due
from incidents.dashboard_cards import DashboardCard


def drill_card(request: HttpRequest, organization_id: int) -> dict[str, Any] | None:
    """Nothing when the active plan sets no drill interval, or for someone outside the unit."""
    if not drill_allows("view_drills", request.user, organization_id):
        return None
    return drill_due(organization_id)


DRILL_CARD = DashboardCard("drills_due", "drills/dashboard_card.html", drill_card, order=80)
