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
    may_attach = policies.allows("attach_evidence", request.user, incident)
    # The upload form is drawn when it is shown again with its errors or asked for (?panel=evidence,
    # the link inside the closed section for a browser without script); else fetched when opened.
    form = None
    if may_attach and ("evidence" in overrides or request.GET.get("panel") == "evidence"):
        form = overrides.get("evidence") or evidence_upload_form(incident)
    return {"rows": rows, "may_attach": may_attach, "form": form, "extensions": allowed_extensions()}


def evidence_upload_form(incident: Incident, *args: Any, **kwargs: Any) -> EvidenceUploadForm:
    """The upload form, offering the incident's reports and posts to attach to."""
    return EvidenceUploadForm(
        *args,
        reports=list(Report.objects.filter(incident=incident).order_by("occurred_at", "id")),
        mentions=list(incident.mentions.order_by("-captured_at", "id")),  # type: ignore[attr-defined]
        **kwargs,
    )


EVIDENCE = Panel("evidence", "evidence/partials/incident_evidence.html", evidence_panel, order=60)
