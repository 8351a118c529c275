"""The incident page's section of linked posts (registered as a panel; see incidents.panels)."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from incidents.models import Incident
from incidents.panels import Panel
from monitoring.forms import MentionForm
from monitoring.models import Mention
from opinion_ops.db import compiled


@compiled
def _mentions(incident_id: int) -> QuerySet[Mention]:
    # Each post's attachments (the evidence app's relation, by name: this app does not import it).
    return (
        Mention.objects.filter(incident_id=incident_id)
        .select_related("captured_by")
        .prefetch_related("evidence__withdrawal")[:100]
    )


def mentions_panel(
    request: HttpRequest, incident: Incident, may_add: bool, overrides: dict[str, Any]
) -> dict[str, Any]:
    return {
        "mentions": _mentions(incident.pk),
        "may_add": may_add,
        # Drawn when shown again with its errors or asked for (?panel=mention); else fetched when opened.
        "form": overrides.get("mention")
        or (MentionForm() if may_add and request.GET.get("panel") == "mention" else None),
    }


MENTIONS = Panel("mentions", "monitoring/partials/incident_mentions.html", mentions_panel, order=50)
