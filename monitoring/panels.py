"""The incident page's section of linked posts (registered as a panel; see incidents.panels)."""

from typing import Any

from django.http import HttpRequest

from incidents.models import Incident
from incidents.panels import Panel
from monitoring.forms import MentionForm
from monitoring.models import Mention


def mentions_panel(
    request: HttpRequest, incident: Incident, may_add: bool, overrides: dict[str, Any]
) -> dict[str, Any]:
    return {
        # Each post's attachments (the evidence app's relation, by name: this app does not import it).
        "mentions": list(
            Mention.objects.filter(incident=incident)
            .select_related("captured_by")
            .prefetch_related("evidence__withdrawal")[:100]
        ),
        "may_add": may_add,
        # Drawn when shown again with its errors or asked for (?panel=mention); else fetched when opened.
        "form": overrides.get("mention")
        or (MentionForm() if may_add and request.GET.get("panel") == "mention" else None),
    }


MENTIONS = Panel("mentions", "monitoring/partials/incident_mentions.html", mentions_panel, order=50)
