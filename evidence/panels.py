"""The incident page's 存证 section (registered as a panel; see incidents.panels): every attachment,
withdrawn ones marked, image thumbnails, the upload form and each row's withdrawal, only where the
rules allow. A fixed number of queries whatever the number of attachments."""

from typing import Any

from django.http import HttpRequest

from evidence.content import allowed_extensions, size_label
from evidence.forms import EvidenceUploadForm, EvidenceWithdrawForm
from evidence.selectors import evidence_of_incident
from incidents import policies
from incidents.models import Incident, Report
from incidents.panels import Panel


def withdraw_key(evidence_id: int) -> str:
    return f"evidence_withdraw-{evidence_id}"


def evidence_panel(
    request: HttpRequest, incident: Incident, may_add: bool, overrides: dict[str, Any]
) -> dict[str, Any]:
    rows = []
    for evidence in evidence_of_incident(incident):
        evidence.incident = incident
        withdraw = None
        if not evidence.is_withdrawn and policies.allows("withdraw_evidence", request.user, incident, evidence):
            withdraw = overrides.get(withdraw_key(evidence.pk)) or EvidenceWithdrawForm(
                prefix=f"withdraw-{evidence.pk}"
            )
        rows.append(
            {
                "evidence": evidence,
                "size": size_label(evidence.size),
                "withdraw": withdraw,
            }
        )
    form = None
    if policies.allows("attach_evidence", request.user, incident):
        form = overrides.get("evidence") or EvidenceUploadForm(
            reports=list(Report.objects.filter(incident=incident).order_by("occurred_at", "id")),
            mentions=list(incident.mentions.order_by("-captured_at", "id")),  # type: ignore[attr-defined]
        )
    return {"rows": rows, "form": form, "extensions": allowed_extensions()}


EVIDENCE = Panel("evidence", "evidence/partials/incident_evidence.html", evidence_panel, order=60)
