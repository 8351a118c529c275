"""The monitoring reports' pages (舆情报告): the unit's issued reports, one report read in the browser
with its charts and downloaded as .docx or PDF, a report issued on demand for any period, and the
unit's daily, weekly and monthly schedules. Another unit's report is a 404; a refusal the 403 page."""

import json
import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from incidents.selectors import subordinate_unit_ids
from opinion_ops.pages import View, form_service_call, refused_page
from organizations.pages import unit_page
from organizations.policies import UNIT_RULES, unit_allows
from reports.forms import MonitoringReportForm, ReportScheduleForm, initial_period
from reports.models import SCHEDULED_KINDS, Kind, MonitoringReport, ReportSchedule
from reports.monitoring import monitoring_report_document
from reports.periods import default_period
from reports.services import monitoring_report_issue, report_schedule_save
from reports.views import FORMATS

logger = logging.getLogger(__name__)

PAGE_SIZE = 30


def reports_page(rule: str) -> Callable[[View], View]:
    """Signed in and allowed `rule` in their own unit; the view gets the unit id."""
    return unit_page(
        lambda user, organization_id: None if unit_allows(rule, user, organization_id) else UNIT_RULES[rule].forbidden
    )


def _report(organization_id: int, pk: int) -> MonitoringReport:
    report = (
        MonitoringReport.objects.select_related("organization", "created_by")
        .filter(pk=pk, organization_id=organization_id)
        .first()
    )
    if report is None:
        raise Http404(_("报告不存在或您无权查看。"))
    return report


@reports_page("read_monitoring_reports")
@require_GET
def monitoring_list(request: HttpRequest, organization_id: int) -> HttpResponse:
    reports = MonitoringReport.objects.filter(organization_id=organization_id).select_related("created_by")
    kind = request.GET.get("kind", "")
    if kind in Kind.values:
        reports = reports.filter(kind=kind)
    page = Paginator(reports.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    schedules = {s.kind: s for s in ReportSchedule.objects.filter(organization_id=organization_id)}
    return render(
        request,
        "reports/monitoring/list.html",
        {
            "page": page,
            "kind": kind,
            "kinds": Kind.choices,
            "schedules": [(k, schedules.get(k.value)) for k in SCHEDULED_KINDS],
            "may_issue": unit_allows("issue_monitoring_reports", request.user, organization_id),
        },
    )


def _chart(labels: list[str], name: str, data: list[int], color: str) -> dict[str, Any]:
    return {"days": labels, "series": [{"name": name, "data": data, "color": color}]}


@reports_page("read_monitoring_reports")
@require_GET
def monitoring_detail(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    report = _report(organization_id, pk)
    doc = monitoring_report_document(report, charts=False)
    trend = report.figures.get("trend", {})
    charts = []
    if any(trend.get("incidents", [])):
        charts.append(
            (
                "chart-incidents",
                _("新登记舆情（起）"),
                _chart(trend["labels"], _("舆情"), trend["incidents"], "#c00000"),
            )
        )
    if any(trend.get("posts", [])):
        charts.append(
            ("chart-posts", _("监测信息（条）"), _chart(trend["labels"], _("信息"), trend["posts"], "#1f5fa8"))
        )
    return render(
        request,
        "reports/monitoring/detail.html",
        {"report": report, "doc": doc, "charts": [(key, title, json.dumps(data)) for key, title, data in charts]},
    )


def _download(request: HttpRequest, organization_id: int, pk: int, fmt: str) -> HttpResponse:
    report = _report(organization_id, pk)
    content_type, export = FORMATS[fmt]
    try:
        doc = monitoring_report_document(report)
        content = export(doc)
    except Exception:
        logger.exception("Export of monitoring report %s as %s failed", report.pk, fmt)
        messages.error(
            request, _("报告导出 %(format)s 失败，请稍后重试；如仍失败，请联系系统管理员。") % {"format": fmt.upper()}
        )
        response = monitoring_detail(request, pk)
        response.status_code = 503
        return response
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=f"{doc.filename_stem}.{fmt}") or "attachment"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@reports_page("read_monitoring_reports")
@require_GET
def monitoring_docx(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    return _download(request, organization_id, pk, "docx")


@reports_page("read_monitoring_reports")
@require_GET
def monitoring_pdf(request: HttpRequest, organization_id: int, pk: int) -> HttpResponse:
    return _download(request, organization_id, pk, "pdf")


@reports_page("issue_monitoring_reports")
@require_http_methods(["GET", "POST"])
def monitoring_new(request: HttpRequest, organization_id: int) -> HttpResponse:
    subordinates = bool(subordinate_unit_ids(organization_id))
    if request.method == "POST":
        form = MonitoringReportForm(request.POST, organization_id=organization_id, has_subordinates=subordinates)
        if form.is_valid():
            data = form.cleaned_data
            report = form_service_call(
                form,
                lambda: monitoring_report_issue(
                    actor=request.user,
                    kind=data["kind"],
                    start=data["start"],
                    end=data["end"],
                    title=data["title"],
                    commentary=data["commentary"],
                    includes_subordinates=data.get("includes_subordinates", False),
                    recipients=[user.pk for user in data["recipients"]],
                    groups=[group.pk for group in data["groups"]],
                ),
            )
            if report is not None:
                messages.success(request, _("已生成《%(title)s》。") % {"title": report.title})
                return redirect("reports:monitoring_detail", report.pk)
        status = 400
    else:
        kind = request.GET.get("kind", Kind.DAILY)
        kind = kind if kind in Kind.values else Kind.DAILY
        start, end = default_period(kind, timezone.now())
        form = MonitoringReportForm(
            initial=initial_period(kind, start, end), organization_id=organization_id, has_subordinates=subordinates
        )
        status = 200
    return render(request, "reports/monitoring/new.html", {"form": form}, status=status)


@reports_page("read_monitoring_reports")
@require_http_methods(["GET", "POST"])
def schedules(request: HttpRequest, organization_id: int) -> HttpResponse:
    subordinates = bool(subordinate_unit_ids(organization_id))
    may_manage = unit_allows("issue_monitoring_reports", request.user, organization_id)
    saved = {s.kind: s for s in ReportSchedule.objects.filter(organization_id=organization_id)}
    forms = {}
    status = 200
    for kind in SCHEDULED_KINDS:
        schedule = saved.get(kind.value)
        initial = {"kind": kind.value, "enabled": False, "send_time": "08:00"}
        if schedule is not None:
            initial.update(
                enabled=schedule.enabled,
                send_time=schedule.send_time.strftime("%H:%M"),
                includes_subordinates=schedule.includes_subordinates,
                recipients=list(schedule.subscribers.values_list("pk", flat=True)),
                groups=list(schedule.groups.values_list("pk", flat=True)),
            )
        forms[kind.value] = ReportScheduleForm(
            initial=initial, prefix=kind.value, organization_id=organization_id, has_subordinates=subordinates
        )
    if request.method == "POST":
        if not may_manage:
            return refused_page(request, UNIT_RULES["issue_monitoring_reports"].forbidden)
        posted = request.POST.get("kind", "")
        if posted not in forms:
            return refused_page(request, _("请选择日报、周报或月报。"))
        form = ReportScheduleForm(
            request.POST, prefix=posted, organization_id=organization_id, has_subordinates=subordinates
        )
        forms[posted] = form
        if form.is_valid():
            data = form.cleaned_data
            schedule = form_service_call(
                form,
                lambda: report_schedule_save(
                    actor=request.user,
                    kind=posted,
                    enabled=data["enabled"],
                    send_time=data["send_time"],
                    includes_subordinates=data.get("includes_subordinates", False),
                    recipients=[user.pk for user in data["recipients"]],
                    groups=[group.pk for group in data["groups"]],
                ),
            )
            if schedule is not None:
                if schedule.enabled and schedule.next_due_at:
                    messages.success(
                        request,
                        _("已保存%(kind)s定期报送，下次报送时间：%(at)s。")
                        % {
                            "kind": schedule.get_kind_display(),
                            "at": timezone.localtime(schedule.next_due_at).strftime("%Y-%m-%d %H:%M"),
                        },
                    )
                else:
                    messages.success(request, _("已停用%(kind)s定期报送。") % {"kind": schedule.get_kind_display()})
                return redirect("reports:schedules")
        status = 400
    return render(
        request,
        "reports/monitoring/schedules.html",
        {
            "rows": [(kind, forms[kind.value], saved.get(kind.value)) for kind in SCHEDULED_KINDS],
            "may_manage": may_manage,
        },
        status=status,
    )
