"""The dashboard's 「监测预警」 card: the unit's active alerts, registered with incidents.dashboard_cards
from monitoring's AppConfig.ready() (the dashboard imports nothing of monitoring)."""

from typing import Any

from django.http import HttpRequest

from incidents.dashboard_cards import DashboardCard
from monitoring.alerts import alerts_active
from organizations.policies import unit_allows

CARD_ALERTS = 10


def alerts_card(request: HttpRequest, organization_id: int) -> dict[str, Any] | None:
    """The unit's active alerts (one query, schemes joined) for those who may handle them."""
    if not unit_allows("handle_alerts", request.user, organization_id):
        return None
    alerts = alerts_active(organization_id, limit=CARD_ALERTS)
    return {"alerts": alerts, "more": len(alerts) >= CARD_ALERTS}


ALERTS_CARD = DashboardCard("monitoring_alerts", "monitoring/alerts/dashboard_card.html", alerts_card, order=50)
