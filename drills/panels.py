"""The incident page's 「应急演练」 section for a drill incident: which drill, how fast its clocks run,
and the link to its report (registered as a panel; see incidents.panels). Nothing for a real
incident, and no query either."""

from typing import Any

from django.http import HttpRequest

from drills.models import Drill
from drills.policies import drill_allows
from incidents.models import Incident
from incidents.panels import Panel


def drill_panel(request: HttpRequest, incident: Incident, may_add: bool, overrides: dict[str, Any]) -> dict[str, Any]:
    if not incident.is_drill:
        return {"drill": None}
    drill = Drill.objects.filter(incident_id=incident.pk).first()
    return {
        "drill": drill,
        "speed": incident.clock_speed,
        "may_open": drill is not None and drill_allows("view_drills", request.user, incident.organization_id),
    }


DRILL_PANEL = Panel("drill", "drills/incident_panel.html", drill_panel, order=5)
