"""The actions a user can take on an incident page: which form, which rule decides whether the
button is drawn (incidents.policies, the same rule the service enforces), which service runs."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from incidents import assessment_aids
from incidents import forms as f
from incidents.models import Deadline
from incidents.selectors import review_prefill, written_report_prefill
from incidents.services import incidents as svc
from incidents.services import records, statements
from incidents.services.deadline_clock import deadline_acknowledge
from incidents.services.deadlines import deadline_decide
from incidents.views import corrections
from incidents.views.context import ActionContext
from opinion_ops.errors import DomainError
from organizations.roles import Role

FormFactory = Callable[[ActionContext, Any, bool], forms.Form]
Runner = Callable[[ActionContext, dict[str, Any]], Any]


@dataclass(frozen=True)
class Action:
    name: str
    label: Promise
    done: Promise
    rule: str
    run: Runner
    form: FormFactory | None = None
    style: str = ""  # "primary" for the next step of the lifecycle, "danger" for a step that ends it
    confirm: Promise | None = None
    # The form is drawn with the page (a step the page is mostly opened for); other forms are fetched
    # when their panel is opened.
    drawn: bool = False

    def allowed(self, ctx: ActionContext) -> bool:
        """Draw the button? The rule of the action, as the service will apply it."""
        return ctx.may(self.rule)


def plain(form_class: type[forms.Form]) -> FormFactory:
    def build(ctx: ActionContext, data: Any, display: bool) -> forms.Form:
        return form_class(data, initial={"expected_version": ctx.incident.version}, prefix=None)

    return build


def _v(data: dict[str, Any]) -> int | None:
    return data.get("expected_version")


def _transition_runner(service: Callable[..., Any], *fields: str) -> Runner:
    def run(ctx: ActionContext, data: dict[str, Any]) -> Any:
        kwargs = {name: data[name] for name in fields}
        return service(incident_id=ctx.incident.pk, actor=ctx.user, expected_version=_v(data), **kwargs)

    return run


def _records_runner(service: Callable[..., Any], *fields: str) -> Runner:
    def run(ctx: ActionContext, data: dict[str, Any]) -> Any:
        return service(incident_id=ctx.incident.pk, actor=ctx.user, **{name: data[name] for name in fields})

    return run


def _assessment_words(assessment: Any) -> str:
    """A first draft of the warning text, from the analysts' latest judgement."""
    words = _("研判结论：%(nature)s；影响范围：%(scope)s；发展趋势%(trend)s，风险%(risk)s。") % {
        "nature": assessment.nature,
        "scope": assessment.scope,
        "trend": assessment.get_trend_display(),
        "risk": assessment.get_risk_display(),
    }
    if assessment.recommendation:
        words += _("处置建议：%(recommendation)s") % {"recommendation": assessment.recommendation}
    return str(words)


def _level_form(ctx: ActionContext, data: Any, display: bool) -> forms.Form:
    levels = ctx.levels_i_may_set if display else ctx.levels
    initial: dict[str, Any] = {"expected_version": ctx.incident.version}
    if display:
        latest = ctx.latest_assessments
        proposed = [a.proposed_level_id for a in latest if a.proposed_level_id]
        if proposed:
            initial["level"] = proposed[-1]
        if latest:
            initial["text"] = _assessment_words(latest[-1])
        initial["groups"] = ctx.assigned_group_ids
    return f.WarningNoticeForm(data, initial=initial, incident=ctx.incident, levels=levels, groups=ctx.groups)


def _change_level_form(ctx: ActionContext, data: Any, display: bool) -> forms.Form:
    levels = ctx.levels_i_may_set if display else ctx.levels
    if display and ctx.incident.level_id:
        levels = levels.exclude(pk=ctx.incident.level_id)
    initial = {"expected_version": ctx.incident.version, "groups": ctx.assigned_group_ids if display else []}
    return f.ChangeLevelForm(data, initial=initial, incident=ctx.incident, levels=levels, groups=ctx.groups)


def _notice_groups(data: dict[str, Any]) -> list[tuple[Any, str]]:
    """The groups ticked on a notice form, each with the requirement typed next to it."""
    return [(group, data.get(f"requirement_{group.pk}") or "") for group in data.get("groups") or []]


def _run_issue_warning(ctx: ActionContext, data: dict[str, Any]) -> Any:
    return svc.incident_issue_warning(
        incident_id=ctx.incident.pk,
        actor=ctx.user,
        expected_version=_v(data),
        level=data["level"],
        text=data.get("text", ""),
        groups=_notice_groups(data),
    )


def _run_change_level(ctx: ActionContext, data: dict[str, Any]) -> Any:
    notice: dict[str, Any] = {}
    if data.get("send_notice"):
        notice = {"text": data.get("text", ""), "groups": _notice_groups(data)}
    return svc.incident_change_level(
        incident_id=ctx.incident.pk,
        actor=ctx.user,
        expected_version=_v(data),
        level=data["level"],
        reason=data["reason"],
        **notice,
    )


def _assessment_form(ctx: ActionContext, data: Any, display: bool) -> forms.Form:
    """The 研判 form with what the registered aids show above it (clusters, heat, risk); the level an
    aid suggests is preselected, the analyst decides. A form shown again with its errors reads the
    aids only when drawn (a saved one never)."""
    if not display:
        incident = ctx.incident
        return f.AssessmentForm(
            data,
            incident=incident,
            levels=ctx.levels,
            categories=ctx.categories,
            aids=lambda: assessment_aids.aids_collect(incident),
        )
    aids = assessment_aids.aids_collect(ctx.incident)
    suggested = assessment_aids.suggested_level_id(aids)
    return f.AssessmentForm(
        data,
        initial={"proposed_level": suggested} if suggested else {},
        incident=ctx.incident,
        levels=ctx.levels,
        categories=ctx.categories,
        aids=aids,
    )


def _assign_form(ctx: ActionContext, data: Any, display: bool) -> forms.Form:
    return f.AssignGroupsForm(
        data,
        initial={"expected_version": ctx.incident.version, "groups": ctx.assigned_group_ids},
        incident=ctx.incident,
        groups=ctx.groups,
    )


def _task_form(ctx: ActionContext, data: Any, display: bool) -> forms.Form:
    people = f.unit_people(ctx.incident.organization_id)
    return f.TaskForm(data, incident=ctx.incident, groups=ctx.groups, people=people)


def _start_review_form(ctx: ActionContext, data: Any, display: bool) -> forms.Form:
    clocks = ctx.open_clocks if ctx.has(Role.LEADER) else []
    return f.StartReviewForm(data, initial={"expected_version": ctx.incident.version}, open_clocks=clocks)


def _run_start_review(ctx: ActionContext, data: dict[str, Any]) -> Any:
    form_clocks = {
        int(name.split("_", 1)[1]): {"resolution": value, "reason": data.get(f"reason_{name.split('_', 1)[1]}", "")}
        for name, value in data.items()
        if name.startswith("clock_")
    }
    return svc.incident_start_review(
        incident_id=ctx.incident.pk, actor=ctx.user, expected_version=_v(data), clocks=form_clocks
    )


def _not_found() -> Exception:
    return DomainError(_("记录不存在。"), code="not_found")


def _run_task_complete(ctx: ActionContext, data: dict[str, Any]) -> Any:
    task = ctx.incident.tasks.filter(pk=data["task_id"]).first()  # type: ignore[attr-defined]
    if task is None:
        raise _not_found()
    return records.task_complete(task_id=task.pk, actor=ctx.user, result=data["result"])


def _run_sign_off(ctx: ActionContext, data: dict[str, Any]) -> Any:
    report = ctx.incident.reports.filter(pk=data["object_id"]).first()  # type: ignore[attr-defined]
    if report is None:
        raise _not_found()
    return records.report_sign_off(report_id=report.pk, actor=ctx.user, comment=data.get("comment", ""))


def _deadline_of(ctx: ActionContext, data: dict[str, Any]) -> Deadline:
    deadline = ctx.incident.deadlines.filter(pk=data["object_id"]).first()  # type: ignore[attr-defined]
    if deadline is None:
        raise _not_found()
    return deadline  # type: ignore[no-any-return]


def _run_deadline_decide(ctx: ActionContext, data: dict[str, Any]) -> Any:
    deadline = _deadline_of(ctx, data)
    rule = f.DEADLINE_DECISIONS[data["decision"]][0]
    return deadline_decide(deadline_id=deadline.pk, actor=ctx.user, action=str(rule), reason=data["reason"])


def _run_acknowledge(ctx: ActionContext, data: dict[str, Any]) -> Any:
    return deadline_acknowledge(deadline_id=_deadline_of(ctx, data).pk, actor=ctx.user)


def _run_statement_create(ctx: ActionContext, data: dict[str, Any]) -> Any:
    return statements.statement_create(
        incident_id=ctx.incident.pk, actor=ctx.user, title=data["title"], text=data["text"], kind=data["kind"]
    )


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        Action(
            "start_assessment",
            _("转入研判"),
            _("已转入研判。"),
            "start_assessment",
            _transition_runner(svc.incident_start_assessment),
            plain(f.VersionedForm),
            style="primary",
        ),
        Action(
            "assessment",
            _("录入研判意见"),
            _("研判意见已保存。"),
            "record_assessment",
            _records_runner(
                svc.assessment_record,
                "nature",
                "scope",
                "trend",
                "risk",
                "proposed_level",
                "proposed_category",
                "recommendation",
            ),
            _assessment_form,
            style="primary",
        ),
        Action(
            "issue_warning",
            _("发布预警"),
            _("预警已发布，预案已启动。"),
            "issue_warning",
            _run_issue_warning,
            _level_form,
            style="primary",
            drawn=True,
        ),
        Action(
            "dismiss",
            _("排除（非舆情）"),
            _("已排除。"),
            "dismiss",
            _transition_runner(svc.incident_dismiss, "reason"),
            plain(f.ReasonForm),
            style="danger",
        ),
        Action(
            "start_response",
            _("转入处置"),
            _("已转入处置。"),
            "start_response",
            _transition_runner(svc.incident_start_response),
            plain(f.VersionedForm),
            style="primary",
        ),
        Action(
            "start_tracking",
            _("处置完成，转入跟踪"),
            _("已转入动态跟踪。"),
            "start_tracking",
            _transition_runner(svc.incident_start_tracking),
            plain(f.VersionedForm),
            style="primary",
        ),
        Action(
            "rebound",
            _("舆情反弹，重新处置"),
            _("已重新转入处置。"),
            "rebound",
            _transition_runner(svc.incident_rebound, "reason"),
            plain(f.ReasonForm),
        ),
        Action(
            "start_review",
            _("转入总结评估"),
            _("已转入总结评估。"),
            "start_review",
            _run_start_review,
            _start_review_form,
            style="primary",
            drawn=True,
        ),
        Action(
            "review",
            _("填写总结评估"),
            _("总结评估已保存。"),
            "record_review",
            _records_runner(
                svc.review_record, "summary", "evaluation", "lessons", "plan_suggestions", "accountability"
            ),
            # Unbound: drafted from the record's figures (selectors.review_prefill).
            lambda c, d, display: f.ReviewForm(d, initial=None if d is not None else review_prefill(c.incident)),
            style="primary",
        ),
        Action(
            "archive",
            _("归档"),
            _("已归档。"),
            "archive",
            _transition_runner(svc.incident_archive),
            plain(f.VersionedForm),
            style="primary",
        ),
        Action(
            "change_level",
            _("调整级别"),
            _("级别已调整。"),
            "change_level",
            _run_change_level,
            _change_level_form,
        ),
        Action(
            "assign_groups",
            _("分派工作组"),
            _("承办工作组已更新。"),
            "assign_groups",
            _transition_runner(svc.incident_assign_groups, "groups"),
            _assign_form,
        ),
        Action(
            "task",
            _("交办任务"),
            _("任务已交办。"),
            "create_task",
            _records_runner(records.task_create, "title", "description", "assignee_group", "assignee", "due_at"),
            _task_form,
        ),
        Action(
            "measure",
            _("记录处置措施"),
            _("处置措施已记录。"),
            "record_measure",
            _records_runner(records.measure_record, "kind", "description", "taken_at", "target", "url", "outcome"),
            lambda c, d, display: f.MeasureForm(d),
        ),
        Action(
            "report",
            _("记录报告"),
            _("报告已记录。"),
            "record_report",
            _records_runner(
                records.report_record,
                "kind",
                "reported_to",
                "occurred_at",
                "summary",
                "cause",
                "facts",
                "measures_taken",
                "to_superior",
                "copy_number",
                "classification",
            ),
            # Unbound: drafted from the record (selectors.written_report_prefill), edited before recording.
            lambda c, d, display: f.ReportForm(
                d, initial=None if d is not None else written_report_prefill(c.incident)
            ),
        ),
        Action(
            "statement",
            _("起草回应稿"),
            _("回应稿已保存为草稿。"),
            "draft_statement",
            _run_statement_create,
            lambda c, d, display: f.StatementCreateForm(d),
        ),
        Action(
            "escalate",
            _("上报上级"),
            _("已上报上级主管部门。"),
            "escalate",
            _transition_runner(svc.incident_escalate, "note"),
            plain(f.EscalateForm),
        ),
        Action("edit", _("修改基本情况"), _("基本情况已更新。"), "edit", corrections.run_edit, corrections.edit_form),
        Action("link", _("关联其他舆情"), _("已关联。"), "link", corrections.run_link, plain(f.LinkForm)),
        Action(
            "merge",
            _("合并重复舆情"),
            _("已合并，本事件已关闭。"),
            "merge",
            corrections.run_merge,
            corrections.merge_form,
            style="danger",
        ),
    ]
}


@dataclass(frozen=True)
class RowAction:
    """An action on one row of the incident page (a task, a report, a clock), drawn next to the row;
    whether it is drawn is the rule asked about that row (see detail.py)."""

    name: str
    done: Promise
    run: Runner
    form: type[forms.Form]


ROW_ACTIONS: dict[str, RowAction] = {
    a.name: a
    for a in [
        RowAction("task_complete", _("任务已办结。"), _run_task_complete, f.TaskCompleteForm),
        RowAction("report_sign_off", _("报告已审阅签批。"), _run_sign_off, f.ReportSignOffForm),
        RowAction("deadline_decide", _("时限已处理。"), _run_deadline_decide, f.DeadlineDecisionForm),
        RowAction("deadline_acknowledge", _("已确认并督办，停止逐级上报。"), _run_acknowledge, f.ObjectForm),
    ]
}
