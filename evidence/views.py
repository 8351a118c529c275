"""Evidence on the incident page: upload (a plain multipart form, no script needed), withdraw, and
the files themselves, served only to those who may see the incident and never as a page: the
original always as a download, the thumbnail inline for the page's <img>, both with nosniff and a
sandboxing Content-Security-Policy."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from evidence.forms import EvidenceWithdrawForm
from evidence.models import Evidence
from evidence.panels import evidence_upload_form, withdraw_key
from evidence.selectors import evidence_visible_to
from evidence.services import evidence_attach, evidence_withdraw
from evidence.uploads import EvidenceSizeLimit, size_limit_install
from incidents.views.common import refused, section_form, visible_incident
from incidents.views.detail import render_detail
from opinion_ops.errors import DomainError, NotPermitted

SERVED_POLICY = "sandbox; default-src 'none'"


def _section(pk: int) -> str:
    return reverse("incident_detail", args=[pk]) + "#evidence"


@csrf_exempt  # checked below (csrf_protect), once the size limit is in place: the check reads the body
@login_required
@require_http_methods(["GET", "POST"])
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: upload. GET: the form, fetched by the incident page when its section is opened (htmx),
    or the page with the form drawn (a browser without script)."""
    if request.method == "GET":
        return _upload_form(request, pk)
    return _upload(request, pk, size_limit_install(request))


def _upload_form(request: HttpRequest, pk: int) -> HttpResponse:
    incident = visible_incident(request, pk)
    return section_form(
        request,
        incident,
        key="evidence",
        rule="attach_evidence",
        template="evidence/partials/upload_form.html",
        form=evidence_upload_form(incident),
    )


@csrf_protect
def _upload(request: HttpRequest, pk: int, limit: EvidenceSizeLimit) -> HttpResponse:
    incident = visible_incident(request, pk)
    form = evidence_upload_form(incident, request.POST, request.FILES, too_large=bool(limit.refused))
    if form.is_valid():
        try:
            evidence = evidence_attach(
                incident_id=incident.pk,
                actor=request.user,
                file=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
                **form.target_ids(),
            )
        except NotPermitted as error:
            return refused(request, error)
        except DomainError as error:
            if error.code == "not_found":
                raise Http404(str(error.message)) from error
            field = "target" if error.field in ("report", "mention") else error.field
            form.add_error(field if field in form.fields else None, str(error.message))
        else:
            messages.success(
                request,
                _("证据“%(name)s”已保存，SHA-256：%(sha)s。")
                % {"name": evidence.original_name, "sha": evidence.sha256},
            )
            return redirect(_section(pk))
    return render_detail(request, incident, status=400, overrides={"evidence": form}, open_action="evidence")


def _visible_evidence(request: HttpRequest, pk: int) -> Evidence:
    evidence = evidence_visible_to(request.user).select_related("withdrawal").filter(pk=pk).first()
    if evidence is None:
        raise Http404(_("证据不存在或您无权查看。"))
    return evidence


@login_required
@require_POST
def evidence_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = _visible_evidence(request, pk)
    form = EvidenceWithdrawForm(request.POST, prefix=f"withdraw-{evidence.pk}")
    if form.is_valid():
        try:
            evidence_withdraw(evidence_id=evidence.pk, actor=request.user, reason=form.cleaned_data["reason"])
        except NotPermitted as error:
            return refused(request, error)
        except DomainError as error:
            form.add_error("reason" if error.field == "reason" else None, str(error.message))
        else:
            messages.success(request, _("证据“%(name)s”已撤回，仍保留在记录中。") % {"name": evidence.original_name})
            return redirect(_section(evidence.incident_id))
    incident = visible_incident(request, evidence.incident_id)
    return render_detail(
        request, incident, status=400, overrides={withdraw_key(evidence.pk): form}, open_action="evidence_withdraw"
    )


def evidence_file_response(name: str, content_type: str, filename: str, *, attachment: bool) -> FileResponse:
    """Stream a stored file: nosniff, a sandbox policy and no caching, whatever it contains."""
    try:
        handle: Any = default_storage.open(name, "rb")
    except OSError as exc:
        raise Http404(_("文件不存在。")) from exc
    response = FileResponse(handle, as_attachment=attachment, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SERVED_POLICY
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@login_required
@require_GET
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """The original, byte for byte, always as a download (never shown as a page of this site)."""
    evidence = _visible_evidence(request, pk)
    return evidence_file_response(evidence.stored_name, evidence.content_type, evidence.original_name, attachment=True)


@login_required
@require_GET
def evidence_thumbnail(request: HttpRequest, pk: int) -> FileResponse:
    """The image's thumbnail (made at upload, no metadata), inline for the incident page."""
    evidence = _visible_evidence(request, pk)
    if not evidence.thumbnail_name:
        raise Http404(_("该证据没有缩略图。"))
    extension = evidence.thumbnail_name.rsplit(".", 1)[-1]
    content_type = "image/png" if extension == "png" else "image/jpeg"
    return evidence_file_response(
        evidence.thumbnail_name, content_type, f"thumbnail-{evidence.pk}.{extension}", attachment=False
    )
