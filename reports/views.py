"""Download a written report as an official document (.docx or PDF): only a written report of an
incident the user may see (else 404, as the incident page), never cached, and a failed export is a
message on the incident page (503), never a server error."""

import logging
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from incidents.views.common import visible_incident
from incidents.views.detail import render_detail
from reports.documents import written_report_document, written_report_for
from reports.docx_export import official_docx
from reports.official import OfficialDocument
from reports.pdf_export import official_pdf

logger = logging.getLogger(__name__)

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FORMATS: dict[str, tuple[str, Callable[[OfficialDocument], bytes]]] = {
    "docx": (DOCX_CONTENT_TYPE, official_docx),
    "pdf": ("application/pdf", official_pdf),
}


def _download(request: HttpRequest, report_pk: int, fmt: str) -> HttpResponse:
    report = written_report_for(request.user, report_pk)
    content_type, export = FORMATS[fmt]
    try:
        doc = written_report_document(report)
        content = export(doc)
    except Exception:
        logger.exception("Export of written report %s as %s failed", report.pk, fmt)
        messages.error(
            request,
            _("书面报告导出 %(format)s 失败，请稍后重试；如仍失败，请联系系统管理员。") % {"format": fmt.upper()},
        )
        return render_detail(request, visible_incident(request, report.incident_id), status=503)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=f"{doc.filename_stem}.{fmt}") or "attachment"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def written_docx(request: HttpRequest, report_pk: int) -> HttpResponse:
    return _download(request, report_pk, "docx")


@login_required
@require_GET
def written_pdf(request: HttpRequest, report_pk: int) -> HttpResponse:
    return _download(request, report_pk, "pdf")
