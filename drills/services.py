"""应急演练: writing scenarios, scheduling and cancelling drills, and the sweeper that runs them.

Each write is one function in one transaction with its configuration audit entry (and, once a
drill has an incident, its timeline entry). A drill is injected through the ordinary incident
service (incidents.services.incidents.incident_create) as a drill incident, so it runs through the
same lifecycle, clocks and notifications as a real one; its posts come in through the one ingest
path (monitoring.ingest) and are linked by the ordinary service (monitoring.services.mention_attach).
"""

import logging
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from drills.models import MAX_POST_MINUTES, Drill, Scenario, ScenarioPost
from drills.policies import drill_require
from drills.scoring import drill_report
from incidents.models import EmergencyPlan, Platform
from incidents.services.incidents import incident_create
from incidents.services.locking import incident_lock
from incidents.services.timeline import timeline_record
from incidents.states import OPEN_STATES
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import Mention, Source
from monitoring.services import mention_attach
from opinion_ops.db import retry_on_conflict
from opinion_ops.errors import DomainError, InvalidTransition
from opinion_ops.links_policy import http_url_check
from organizations.audit import audit_record, snapshot
from organizations.roles import user_organization_id

logger = logging.getLogger(__name__)

SPEEDS = (1, 10, 60)
DRILL_TITLE_MARK = "【演练】"
START_SKEW = timedelta(minutes=1)  # a start a few seconds in the past (the form took a while) is "now"
MAX_AHEAD = timedelta(days=366)
MAX_POSTS = 200
SWEEP_BATCH = 10
BACKOFF = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
SCENARIO_FIELDS = (
    "title",
    "description",
    "platform",
    "incident_type_name",
    "category_code",
    "expected_level_rank",
    "expected_level_name",
    "objectives",
)


@dataclass(frozen=True)
class PostDraft:
    """A post of a scenario as a form or a test hands it over."""

    text: str
    minutes_after: int = 0
    platform: str = Platform.OTHER
    author: str = ""
    url: str = ""


def _active_plan(organization_id: int) -> EmergencyPlan:
    plan = EmergencyPlan.objects.filter(organization_id=organization_id, status=EmergencyPlan.Status.ACTIVE).first()
    if plan is None:
        raise DomainError(_("本单位尚未启用应急预案，请联系管理员。"), code="no_active_plan")
    return plan


def _unit_of(actor: Any) -> int:
    organization_id = user_organization_id(actor)
    if organization_id is None:
        raise DomainError(_("您的账号尚未加入任何单位。"), code="not_found")
    return organization_id


def _checked_posts(posts: list[PostDraft]) -> list[PostDraft]:
    if not posts:
        raise DomainError(_("演练脚本至少要有一条舆情信息（演练开始后按时间投放到演练舆情上的帖文）。"), field="posts")
    if len(posts) > MAX_POSTS:
        raise DomainError(_("一个演练脚本最多 %(n)s 条信息。") % {"n": MAX_POSTS}, field="posts")
    checked = []
    for number, post in enumerate(posts, start=1):
        text = (post.text or "").strip()
        if not text:
            raise DomainError(_("第 %(n)s 条信息：请填写内容。") % {"n": number}, field="posts")
        if post.platform not in Platform.values:
            raise DomainError(_("第 %(n)s 条信息：请选择平台。") % {"n": number}, field="posts")
        minutes = post.minutes_after
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= MAX_POST_MINUTES:
            raise DomainError(
                _("第 %(n)s 条信息：投放时间须为 0 至 %(max)s 分钟的整数。") % {"n": number, "max": MAX_POST_MINUTES},
                field="posts",
            )
        url = (post.url or "").strip()
        if url:
            try:
                url = http_url_check(url, field="posts")
            except DomainError as error:
                raise DomainError(
                    _("第 %(n)s 条信息的链接：%(error)s") % {"n": number, "error": error.message}, field="posts"
                ) from error
        author = (post.author or "").strip()
        if len(author) > 200:
            raise DomainError(_("第 %(n)s 条信息：发布者不超过 200 个字。") % {"n": number}, field="posts")
        checked.append(PostDraft(text=text, minutes_after=minutes, platform=post.platform, author=author, url=url))
    return checked


def _scenario_values(organization_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """The scenario's own fields, checked against the unit's active plan (level by rank, category by
    code, type by name, so that a later plan version still reads them)."""
    title = (values.get("title") or "").strip()
    if not title:
        raise DomainError(_("请填写演练舆情标题。"), field="title")
    if len(title) > 180:
        raise DomainError(_("标题不超过 180 个字。"), field="title")
    platform = values.get("platform") or Platform.OTHER
    if platform not in Platform.values:
        raise DomainError(_("请选择平台。"), field="platform")
    plan = _active_plan(organization_id)
    rank = values.get("expected_level_rank")
    level_name = ""
    if rank is not None:
        level = plan.levels.filter(rank=rank).first()  # type: ignore[attr-defined]
        if level is None:
            raise DomainError(_("现行预案中没有这个预警级别。"), field="expected_level_rank")
        level_name = level.name
    category_code = values.get("category_code") or ""
    if category_code and not plan.categories.filter(code=category_code).exists():  # type: ignore[attr-defined]
        raise DomainError(_("现行预案中没有这个处置类别。"), field="category_code")
    type_name = (values.get("incident_type_name") or "").strip()
    if type_name and not plan.incident_types.filter(name=type_name).exists():  # type: ignore[attr-defined]
        raise DomainError(_("现行预案中没有这个舆情类型。"), field="incident_type_name")
    return {
        "title": title,
        "description": (values.get("description") or "").strip(),
        "platform": platform,
        "incident_type_name": type_name,
        "category_code": category_code,
        "expected_level_rank": rank,
        "expected_level_name": level_name,
        "objectives": (values.get("objectives") or "").strip(),
    }


def _posts_save(scenario: Scenario, posts: list[PostDraft]) -> None:
    scenario.posts.all().delete()  # type: ignore[attr-defined]
    ScenarioPost.objects.bulk_create(
        ScenarioPost(
            scenario=scenario,
            minutes_after=post.minutes_after,
            platform=post.platform,
            author=post.author,
            url=post.url,
            text=post.text,
        )
        for post in posts
    )


def _posts_plain(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        {"minutes_after": p.minutes_after, "platform": p.platform, "author": p.author, "url": p.url, "text": p.text}
        for p in scenario.posts.all()  # type: ignore[attr-defined]
    ]


@retry_on_conflict
def scenario_create(*, actor: Any, posts: list[PostDraft], **values: Any) -> Scenario:
    """Write a new scenario of the actor's unit (a leader), with at least one post."""
    organization_id = _unit_of(actor)
    drill_require("manage_scenarios", actor, organization_id)
    fields = _scenario_values(organization_id, values)
    checked = _checked_posts(posts)
    with transaction.atomic():
        scenario = Scenario.objects.create(organization_id=organization_id, created_by=actor, **fields)
        _posts_save(scenario, checked)
        audit_record(
            organization=organization_id,
            actor=actor,
            action="drill.scenario_create",
            target=scenario,
            summary=_("新建演练脚本“%(title)s”（%(n)s 条信息）") % {"title": scenario.title, "n": len(checked)},
            after={**(snapshot(scenario, SCENARIO_FIELDS) or {}), "posts": _posts_plain(scenario)},
        )
    return scenario


def scenario_of_unit(organization_id: int, scenario_id: int) -> Scenario:
    scenario = Scenario.objects.filter(pk=scenario_id, organization_id=organization_id).first()
    if scenario is None:
        raise DomainError(_("演练脚本不存在。"), code="not_found")
    return scenario


@retry_on_conflict
def scenario_update(*, scenario_id: int, actor: Any, posts: list[PostDraft], **values: Any) -> Scenario:
    """Edit a scenario of the actor's unit (a leader); drills already injected keep the scenario as it
    was when they started (Drill.scenario_snapshot)."""
    organization_id = _unit_of(actor)
    drill_require("manage_scenarios", actor, organization_id)
    fields = _scenario_values(organization_id, values)
    checked = _checked_posts(posts)
    with transaction.atomic():
        scenario = Scenario.objects.select_for_update().filter(pk=scenario_id, organization_id=organization_id).first()
        if scenario is None:
            raise DomainError(_("演练脚本不存在。"), code="not_found")
        before = {**(snapshot(scenario, SCENARIO_FIELDS) or {}), "posts": _posts_plain(scenario)}
        for name, value in fields.items():
            setattr(scenario, name, value)
        scenario.save()
        _posts_save(scenario, checked)
        after = {**(snapshot(scenario, SCENARIO_FIELDS) or {}), "posts": _posts_plain(scenario)}
        if before != after:
            audit_record(
                organization=organization_id,
                actor=actor,
                action="drill.scenario_update",
                target=scenario,
                summary=_("修改演练脚本“%(title)s”") % {"title": scenario.title},
                before=before,
                after=after,
            )
    return scenario


def speed_check(speed: Any) -> int:
    """The drill's clock speed, or a clear error: only ×1, ×10 and ×60 exist."""
    if isinstance(speed, bool) or speed not in SPEEDS:
        raise DomainError(_("演练倍速只能是 ×1、×10 或 ×60。"), field="speed")
    return int(speed)


@retry_on_conflict
def drill_schedule(*, actor: Any, scenario_id: int, starts_at: datetime | None, speed: Any, note: str = "") -> Drill:
    """Schedule a drill of one of the unit's scenarios (a leader): from `starts_at` on, the sweeper
    injects it as a drill incident whose clocks run `speed` times faster than the plan's."""
    organization_id = _unit_of(actor)
    drill_require("schedule_drill", actor, organization_id)
    scenario = scenario_of_unit(organization_id, scenario_id)
    speed = speed_check(speed)
    now = timezone.now()
    if starts_at is None:
        raise DomainError(_("请填写演练开始时间。"), field="starts_at")
    if timezone.is_naive(starts_at):
        raise DomainError(_("开始时间须带时区。"), field="starts_at")
    if starts_at < now - START_SKEW:
        raise DomainError(_("演练开始时间不能早于当前时间。"), field="starts_at")
    if starts_at > now + MAX_AHEAD:
        raise DomainError(_("演练开始时间不能晚于一年以后。"), field="starts_at")
    if not scenario.posts.exists():  # type: ignore[attr-defined]
        raise DomainError(_("该演练脚本还没有任何舆情信息，请先补充后再安排演练。"), field="scenario")
    _active_plan(organization_id)
    with transaction.atomic():
        drill = Drill.objects.create(
            organization_id=organization_id,
            scenario=scenario,
            starts_at=max(starts_at, now),
            speed=speed,
            note=(note or "").strip(),
            scheduled_by=actor,
            next_action_at=max(starts_at, now),
        )
        audit_record(
            organization=organization_id,
            actor=actor,
            action="drill.schedule",
            target=drill,
            summary=_("安排应急演练“%(title)s”：%(at)s 开始，时限倍速 ×%(speed)s")
            % {
                "title": scenario.title,
                "at": timezone.localtime(drill.starts_at).strftime("%Y-%m-%d %H:%M"),
                "speed": speed,
            },
            after={"scenario": scenario.pk, "starts_at": drill.starts_at, "speed": speed, "note": drill.note},
        )
    return drill


@retry_on_conflict
def drill_cancel(*, drill_id: int, actor: Any, reason: str = "") -> Drill:
    """Cancel a drill that has not started yet (a leader); the reason is kept."""
    organization_id = _unit_of(actor)
    drill_require("cancel_drill", actor, organization_id)
    with transaction.atomic():
        drill = Drill.objects.select_for_update().filter(pk=drill_id, organization_id=organization_id).first()
        if drill is None:
            raise DomainError(_("应急演练不存在。"), code="not_found")
        if drill.status != Drill.Status.SCHEDULED:
            raise InvalidTransition(_("演练已经开始或已取消，不能取消。"))
        drill.status = Drill.Status.CANCELLED
        drill.cancelled_by = actor
        drill.cancelled_at = timezone.now()
        drill.cancel_reason = (reason or "").strip()
        drill.next_action_at = None
        drill.save()
        audit_record(
            organization=organization_id,
            actor=actor,
            action="drill.cancel",
            target=drill,
            summary=_("取消应急演练“%(title)s”（原定 %(at)s）：%(reason)s")
            % {
                "title": drill.scenario.title,
                "at": timezone.localtime(drill.starts_at).strftime("%Y-%m-%d %H:%M"),
                "reason": drill.cancel_reason or "—",
            },
            before={"status": Drill.Status.SCHEDULED},
            after={"status": drill.status, "reason": drill.cancel_reason},
        )
    return drill


# --- the sweeper


def _scenario_snapshot(scenario: Scenario) -> dict[str, Any]:
    return {
        "scenario_id": scenario.pk,
        "title": scenario.title,
        "description": scenario.description,
        "platform": scenario.platform,
        "incident_type_name": scenario.incident_type_name,
        "category_code": scenario.category_code,
        "expected_level_rank": scenario.expected_level_rank,
        "expected_level_name": scenario.expected_level_name,
        "objectives": scenario.objectives,
        "posts": _posts_plain(scenario),
    }


def _post_due(drill: Drill, minutes_after: int) -> datetime:
    """When a post of the scenario appears: its drill minutes after the start, in real time."""
    assert drill.started_at is not None
    return drill.started_at + timedelta(minutes=minutes_after) / drill.speed


def _speed_words(speed: int) -> str:
    if speed == 1:
        return _("时限按预案实际计时")
    return _("时限倍速 ×%(speed)s：预案的 %(speed)s 分钟在演练中为 1 分钟") % {"speed": speed}


def _inject(drill: Drill, now: datetime) -> None:
    """Start the drill: the drill incident, logged through the ordinary service, then its first posts."""
    scenario = Scenario.objects.prefetch_related("posts").get(pk=drill.scenario_id)
    facts = _scenario_snapshot(scenario)
    plan = _active_plan(drill.organization_id)
    types = plan.incident_types  # type: ignore[attr-defined]
    incident_type = types.filter(name=facts["incident_type_name"]).first() if facts["incident_type_name"] else None
    category = (
        plan.categories.filter(code=facts["category_code"]).order_by("order", "id").first()  # type: ignore[attr-defined]
        if facts["category_code"]
        else None
    )
    actor = drill.scheduled_by
    incident = incident_create(
        actor=actor,
        title=f"{DRILL_TITLE_MARK}{facts['title']}",
        discovered_at=now,
        description=facts["description"],
        platform=facts["platform"],
        incident_type=incident_type,
        category=category,
        is_drill=True,
        clock_speed=drill.speed,
    )
    drill.incident = incident
    drill.status = Drill.Status.RUNNING
    drill.started_at = now
    drill.scenario_snapshot = facts
    drill.posts_released = 0
    locked = incident_lock(incident.pk)
    timeline_record(
        incident=locked,
        kind="created",
        actor=None,
        summary=_("应急演练开始：按演练脚本注入（%(by)s 安排），%(speed)s。本事件为演练，不计入统计。")
        % {"by": actor.get_full_name() or actor.get_username(), "speed": _speed_words(drill.speed)},
        details={"drill_id": drill.pk, "scenario_id": scenario.pk, "clock_speed": drill.speed},
    )
    audit_record(
        organization=drill.organization_id,
        actor=None,
        action="drill.inject",
        target=drill,
        summary=_("应急演练“%(title)s”开始，生成演练舆情 %(ref)s（×%(speed)s）")
        % {"title": facts["title"], "ref": incident.reference, "speed": drill.speed},
        after={"incident": incident.pk, "reference": incident.reference, "speed": drill.speed},
    )


def _release_posts(drill: Drill, now: datetime) -> None:
    """Link the scenario's posts whose moment has come to the drill incident; set the next moment."""
    posts = sorted(drill.scenario_snapshot.get("posts", []), key=lambda p: p["minutes_after"])
    incident = drill.incident
    assert incident is not None
    if incident.state not in OPEN_STATES:
        drill.next_action_at = None  # the drill incident is closed: nothing more to show anyone
        return
    due = [p for p in posts[drill.posts_released :] if _post_due(drill, p["minutes_after"]) <= now]
    if due:
        source = source_of_kind(drill.organization_id, Source.Kind.MANUAL)
        mark = f"【演练 {incident.reference}】"
        result = posts_ingest(
            source_id=source.pk,
            posts=[
                PostIn(
                    text=mark + p["text"],
                    platform=p["platform"],
                    url=p["url"],
                    author=p["author"],
                    published_at=_post_due(drill, p["minutes_after"]),
                )
                for p in due
            ],
            actor=drill.scheduled_by,
            match=False,
        )
        if result.rejected:
            refused = result.rejected[0]
            raise DomainError(
                _("演练信息无法录入：%(message)s") % {"message": refused["message"]}, field=refused["field"]
            )
        # Drill posts raise no keyword alerts: the match sweeper picks up only posts never matched.
        Mention.objects.filter(pk__in=result.created).update(matched_at=now)
        for mention_id in result.created:
            mention_attach(mention_id=mention_id, incident_id=incident.pk, actor=drill.scheduled_by)
        drill.posts_released += len(due)
    rest = posts[drill.posts_released :]
    drill.next_action_at = _post_due(drill, rest[0]["minutes_after"]) if rest else None


def _advance(drill: Drill, now: datetime) -> None:
    if drill.status == Drill.Status.SCHEDULED:
        _inject(drill, now)
    if drill.status == Drill.Status.RUNNING:
        _release_posts(drill, now)
    else:
        drill.next_action_at = None
    drill.sweep_failures, drill.sweep_error = 0, ""
    drill.save()


def _set_aside(drill: Drill, now: datetime, error: BaseException) -> None:
    failures = drill.sweep_failures + 1
    backoff = min(BACKOFF * 2 ** (failures - 1), BACKOFF_MAX)
    text = "".join(traceback.format_exception_only(type(error), error)).strip()[:2000]
    if isinstance(error, DomainError):
        text = str(error.message)
    if failures == 1:
        logger.error("Drill %s set aside after a sweep failure", drill.pk, exc_info=error)
    Drill.objects.filter(pk=drill.pk).update(
        sweep_failures=F("sweep_failures") + 1, sweep_error=text, next_action_at=now + backoff
    )


def drills_claimable(at: datetime, size: int) -> Any:
    """Scheduled or running drills whose moment has come, row-locked; one another worker holds is
    skipped, never waited for (two workers never inject the same drill)."""
    return (
        Drill.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(next_action_at__lte=at, status__in=[Drill.Status.SCHEDULED, Drill.Status.RUNNING])
        .select_related("scheduled_by", "incident", "scenario")
        .order_by("next_action_at")[:size]
    )


def _finish(drill: Drill, now: datetime) -> None:
    """The drill incident is closed: the drill is over, scored against the plan once."""
    report = drill_report(drill, now=now)
    incident = drill.incident
    assert incident is not None
    drill.status = Drill.Status.FINISHED
    drill.finished_at = incident.closed_at or now
    drill.next_action_at = None
    drill.score = report.score
    drill.save()
    audit_record(
        organization=drill.organization_id,
        actor=None,
        action="drill.finish",
        target=drill,
        summary=_("应急演练“%(title)s”结束（演练舆情 %(ref)s 已%(state)s），评估得分 %(score)s")
        % {
            "title": drill.title,
            "ref": incident.reference,
            "state": incident.get_state_display(),
            "score": report.score if report.score is not None else "—",
        },
        after={"score": report.score, "finished_at": drill.finished_at},
    )


@retry_on_conflict
def _sweep_once(at: datetime, size: int) -> tuple[int, int]:
    done = failed = 0
    with transaction.atomic():
        for drill in drills_claimable(at, size):
            try:
                with transaction.atomic():
                    _advance(drill, at)
                done += 1
            except Exception as exc:  # one bad drill never stops the others: recorded on its row
                failed += 1
                _set_aside(drill, at, exc)
        closed = (
            Drill.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Drill.Status.RUNNING)
            .exclude(incident__state__in=OPEN_STATES)
            .select_related("incident", "scenario")[:size]
        )
        for drill in closed:
            try:
                with transaction.atomic():
                    _finish(drill, at)
                done += 1
            except Exception:  # scored at the next tick, or on demand on its page
                logger.exception("Drill %s could not be finished", drill.pk)
    return done, failed


def drills_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> dict[str, int]:
    """Inject the drills whose start has come, release the posts whose drill minute has come, and
    score the drills whose incident was closed. Safe with several workers (SKIP LOCKED on
    PostgreSQL) and idempotent: a drill is injected once, a post released once."""
    at = now or timezone.now()
    advanced = failed = 0
    while True:
        count, errors = _sweep_once(at, batch)
        advanced += count - errors
        failed += errors
        if count < batch:
            return {"advanced": advanced, "failed": failed}
