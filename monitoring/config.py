"""Setting up a unit's monitoring: its sources (feeds it polls; the API, import and manual sources
made on first use), its 监测方案, its 值班表 and its unit-wide settings.

Every write asks organizations.policies ("manage_monitoring") for the actor's own unit before looking
anything up, finds rows only within that unit (another unit's id reads as "not found"), and writes
its audit entry (action `monitoring.…`) in the same transaction as the change. The readers at the
end serve the pages: one query per list, whatever its length.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import Platform
from monitoring.alerts import scheme_spec, scheme_try
from monitoring.matching.expression import ExpressionError, words_split
from monitoring.models import Alert, DutyShift, KeywordScheme, Mention, MonitoringSettings, PostPurge, Source
from monitoring.polling import sources_items_per_day
from monitoring.retention import DEFAULT_RETENTION_DAYS
from opinion_ops.errors import DomainError, StaleObject
from opinion_ops.links_policy import outbound_check
from organizations.audit import audit_record, snapshot
from organizations.models import Membership
from organizations.policies import unit_require
from organizations.roles import user_organization_id

INTERVAL_MINUTES = (1, 1440)
THRESHOLD_POSTS = (1, 100_000)
WINDOW_MINUTES = (1, 10_080)  # a week
RETENTION_DAYS = (7, 3650)
SHIFT_LONGEST = timedelta(days=31)
WORDS_LIMIT = 10_000  # characters of one word list or of the watched accounts
NOTE_LIMIT = 200
HEALTH_DAYS = 7

SOURCE_FIELDS = ("kind", "name", "platform", "url", "interval_minutes", "enabled")
SCHEME_FIELDS = (
    "name",
    "regions",
    "subjects",
    "events",
    "exclusions",
    "expression",
    "scope",
    "severity",
    "enabled",
    "threshold_posts",
    "window_minutes",
    "watched_accounts",
    "auto_incident",
)
SCHEME_TEXTS = ("regions", "subjects", "events", "exclusions", "expression", "watched_accounts")


def _unit_of(actor: Any) -> int:
    """The actor's unit, if they may manage its monitoring (NotPermitted otherwise)."""
    organization_id = user_organization_id(actor)
    unit_require("manage_monitoring", actor, organization_id)
    assert organization_id is not None  # unit_require refuses anyone without a unit
    return organization_id


def _not_found(what: str) -> DomainError:
    return DomainError(_("%(what)s不存在。") % {"what": what}, code="not_found")


def _in_range(value: Any, bounds: tuple[int, int], field: str, label: str) -> int:
    low, high = bounds
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = low - 1
    if not low <= number <= high:
        raise DomainError(
            _("%(label)s须在 %(low)s 到 %(high)s 之间。") % {"label": label, "low": low, "high": high}, field=field
        )
    return number


def _name_checked(value: str, field: str = "name") -> str:
    name = " ".join((value or "").split())
    if not name:
        raise DomainError(_("请填写名称。"), field=field)
    if len(name) > 100:
        raise DomainError(_("名称不超过 100 个字符。"), field=field)
    return name


# --- sources


def _source_snapshot(source: Source) -> dict[str, Any]:
    return snapshot(source, SOURCE_FIELDS) or {}


def _source_name_free(organization_id: int, name: str, exclude_id: int | None = None) -> None:
    taken = Source.objects.filter(organization_id=organization_id, name=name)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    if taken.exists():
        raise DomainError(_("本单位已有名为“%(name)s”的信息来源。") % {"name": name}, field="name")


def _platform_checked(platform: str) -> str:
    if platform not in Platform.values:
        raise DomainError(_("请选择平台。"), field="platform")
    return platform


def _source_locked(organization_id: int, source_id: int) -> Source:
    source = Source.objects.select_for_update().filter(pk=source_id, organization_id=organization_id).first()
    if source is None:
        raise _not_found(_("信息来源"))
    return source


def source_feed_add(
    *, actor: Any, name: str, url: str, platform: str, interval_minutes: int = 15, enabled: bool = True
) -> Source:
    """Add an RSS/Atom feed (or RSSHub route) to the unit; its address must pass the outbound
    policy. An enabled feed is due at once: the sweeper fetches it within its next tick."""
    organization_id = _unit_of(actor)
    name = _name_checked(name)
    platform = _platform_checked(platform)
    interval = _in_range(interval_minutes, INTERVAL_MINUTES, "interval_minutes", _("抓取间隔"))
    url = outbound_check(url, field="url")  # resolves the host: outside the transaction
    with transaction.atomic():
        _source_name_free(organization_id, name)
        source = Source.objects.create(
            organization_id=organization_id,
            kind=Source.Kind.FEED,
            name=name,
            url=url,
            platform=platform,
            interval_minutes=interval,
            enabled=bool(enabled),
            next_fetch_at=timezone.now() if enabled else None,
        )
        audit_record(
            organization=organization_id,
            actor=actor,
            action="monitoring.source_add",
            target=source,
            summary=_("新增信息来源“%(name)s”") % {"name": name},
            after=_source_snapshot(source),
        )
    return source


def source_update(
    *,
    actor: Any,
    source_id: int,
    name: str,
    platform: str,
    url: str | None = None,
    interval_minutes: int | None = None,
    enabled: bool | None = None,
) -> Source:
    """Edit a source. A feed's address, interval and switch may change (a new address must pass the
    outbound policy; a feed re-enabled or pointed elsewhere is due at once); the unit's API, import
    and manual sources keep everything but their name and platform."""
    organization_id = _unit_of(actor)
    name = _name_checked(name)
    platform = _platform_checked(platform)
    current = Source.objects.filter(pk=source_id, organization_id=organization_id).first()
    if current is None:
        raise _not_found(_("信息来源"))
    is_feed = current.kind == Source.Kind.FEED
    if not is_feed and (url is not None or interval_minutes is not None or enabled is not None):
        raise DomainError(_("接口推送、文件导入和手工录入来源只能修改名称和平台。"))
    if is_feed:
        interval_minutes = _in_range(interval_minutes, INTERVAL_MINUTES, "interval_minutes", _("抓取间隔"))
        url = (url or "").strip()
        if url != current.url:
            url = outbound_check(url, field="url")  # resolves the host: outside the transaction
    with transaction.atomic():
        source = _source_locked(organization_id, source_id)
        before = _source_snapshot(source)
        _source_name_free(organization_id, name, exclude_id=source.pk)
        source.name, source.platform = name, platform
        fields = ["name", "platform"]
        if is_feed:
            assert url is not None and interval_minutes is not None
            now_enabled = source.enabled if enabled is None else bool(enabled)
            due_now = now_enabled and (not source.enabled or url != source.url)
            if url != source.url:  # the old address's validators mean nothing to the new one
                source.etag = source.last_modified = ""
                fields += ["etag", "last_modified"]
            source.url, source.interval_minutes, source.enabled = url, interval_minutes, now_enabled
            fields += ["url", "interval_minutes", "enabled"]
            if due_now:
                source.next_fetch_at = timezone.now()
                fields.append("next_fetch_at")
        source.save(update_fields=fields)
        audit_record(
            organization=organization_id,
            actor=actor,
            action="monitoring.source_update",
            target=source,
            summary=_("修改信息来源“%(name)s”") % {"name": name},
            before=before,
            after=_source_snapshot(source),
        )
    return source


def _feed_locked(organization_id: int, source_id: int) -> Source:
    source = _source_locked(organization_id, source_id)
    if source.kind != Source.Kind.FEED:
        raise DomainError(_("只有订阅源可以这样操作。"))
    return source


def source_poll_now(*, actor: Any, source_id: int) -> Source:
    """立即抓取: make an enabled feed due now; the feed sweeper fetches it within its tick (never
    inside the request)."""
    organization_id = _unit_of(actor)
    with transaction.atomic():
        source = _feed_locked(organization_id, source_id)
        if not source.enabled:
            raise DomainError(_("该订阅源已停用，请先启用。"))
        source.next_fetch_at = timezone.now()
        source.save(update_fields=["next_fetch_at"])
        audit_record(
            organization=organization_id,
            actor=actor,
            action="monitoring.source_poll",
            target=source,
            summary=_("要求立即抓取“%(name)s”") % {"name": source.name},
        )
    return source


def _feed_disable(organization_id: int, actor: Any, source: Source, summary: str) -> None:
    before = _source_snapshot(source)
    source.enabled, source.next_fetch_at = False, None
    source.save(update_fields=["enabled", "next_fetch_at"])
    audit_record(
        organization=organization_id,
        actor=actor,
        action="monitoring.source_disable",
        target=source,
        summary=summary,
        before=before,
        after=_source_snapshot(source),
    )


def source_disable(*, actor: Any, source_id: int) -> Source:
    """Stop polling a feed; its posts stay."""
    organization_id = _unit_of(actor)
    with transaction.atomic():
        source = _feed_locked(organization_id, source_id)
        if source.enabled:
            _feed_disable(organization_id, actor, source, _("停用信息来源“%(name)s”") % {"name": source.name})
    return source


def source_delete(*, actor: Any, source_id: int) -> bool:
    """Delete a feed that brought no posts (True). A feed with posts is disabled instead (False):
    every post names its source."""
    organization_id = _unit_of(actor)
    with transaction.atomic():
        source = _feed_locked(organization_id, source_id)
        if Mention.objects.filter(source_id=source.pk).exists():
            if source.enabled:
                summary = _("信息来源“%(name)s”已有信息，改为停用") % {"name": source.name}
                _feed_disable(organization_id, actor, source, summary)
            return False
        audit_record(
            organization=organization_id,
            actor=actor,
            action="monitoring.source_delete",
            target=source,
            summary=_("删除信息来源“%(name)s”") % {"name": source.name},
            before=_source_snapshot(source),
        )
        source.delete()
    return True


# --- 监测方案


def _scheme_values(fields: dict[str, Any]) -> dict[str, Any]:
    """The scheme's own fields, checked one by one (the words are checked together by scheme_spec)."""
    unknown = sorted(set(fields) - set(SCHEME_FIELDS))
    if unknown:
        raise DomainError(_("不能修改字段：%(fields)s") % {"fields": ", ".join(unknown)}, field=unknown[0])
    values: dict[str, Any] = {"name": _name_checked(fields.get("name", ""))}
    for name in SCHEME_TEXTS:
        text = str(fields.get(name) or "").strip()
        if len(text) > WORDS_LIMIT:
            raise DomainError(_("不超过 %(n)s 个字符。") % {"n": WORDS_LIMIT}, field=name)
        values[name] = text
    scope = fields.get("scope") or KeywordScheme.Scope.FULL
    if scope not in KeywordScheme.Scope.values:
        raise DomainError(_("请选择匹配范围。"), field="scope")
    severity = fields.get("severity") or KeywordScheme.Severity.MEDIUM
    if severity not in KeywordScheme.Severity.values:
        raise DomainError(_("请选择预警等级。"), field="severity")
    values.update(
        scope=scope,
        severity=severity,
        enabled=bool(fields.get("enabled", True)),
        auto_incident=bool(fields.get("auto_incident", False)),
        threshold_posts=_in_range(fields.get("threshold_posts", 1), THRESHOLD_POSTS, "threshold_posts", _("触发条数")),
        window_minutes=_in_range(fields.get("window_minutes", 60), WINDOW_MINUTES, "window_minutes", _("统计时段")),
    )
    return values


def scheme_unsaved(*, organization_id: int, fields: dict[str, Any]) -> KeywordScheme:
    """The scheme as the fields describe it, checked, not saved: ExpressionError (with its field and
    position) when its words cannot make a scheme, DomainError for any other field."""
    scheme = KeywordScheme(organization_id=organization_id, **_scheme_values(fields))
    scheme_spec(scheme)
    return scheme


def scheme_trial(*, actor: Any, fields: dict[str, Any], limit: int = 50) -> list[tuple[Mention, tuple[str, ...]]]:
    """试用: what the scheme described by `fields` would have matched among the unit's posts of the
    last 30 days, with the words that hit. Saves nothing."""
    organization_id = _unit_of(actor)
    return scheme_try(scheme_unsaved(organization_id=organization_id, fields=fields), limit=limit)


def _members(organization_id: int, user_ids: Iterable[int]) -> list[int]:
    wanted = sorted({int(pk) for pk in user_ids})
    found = set(
        Membership.objects.filter(
            organization_id=organization_id, user_id__in=wanted, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    if len(found) != len(wanted):
        raise DomainError(_("接收人只能是本单位在岗人员。"), field="recipients")
    return wanted


def _scheme_snapshot(scheme: KeywordScheme, recipients: list[int]) -> dict[str, Any]:
    return {**(snapshot(scheme, (*SCHEME_FIELDS, "version")) or {}), "recipients": recipients}


def scheme_save(
    *,
    actor: Any,
    fields: dict[str, Any],
    recipient_ids: Iterable[int] = (),
    scheme_id: int | None = None,
    expected_version: int | None = None,
) -> KeywordScheme:
    """Create a 监测方案 (scheme_id None) or edit one. Refused with the field (and for the words the
    position) when its words cannot make a scheme, and StaleObject when someone saved it since the
    editor loaded it. Each save moves the scheme's version and updated_at, so the matcher is rebuilt
    for the next posts even when only the recipients changed."""
    organization_id = _unit_of(actor)
    built = scheme_unsaved(organization_id=organization_id, fields=fields)
    recipients = _members(organization_id, recipient_ids)
    try:
        with transaction.atomic():
            if scheme_id is None:
                scheme, before = built, None
                scheme.created_by = actor
            else:
                locked = KeywordScheme.objects.select_for_update()
                found = locked.filter(pk=scheme_id, organization_id=organization_id).first()
                if found is None:
                    raise _not_found(_("监测方案"))
                scheme = found
                if expected_version is not None and scheme.version != expected_version:
                    raise StaleObject(
                        _("该方案刚被其他人修改过（现为第 %(v)s 版），您的修改未保存。请在最新版本上重新修改。")
                        % {"v": scheme.version}
                    )
                before = _scheme_snapshot(scheme, sorted(scheme.recipients.values_list("pk", flat=True)))
                for name in SCHEME_FIELDS:
                    setattr(scheme, name, getattr(built, name))
                scheme.version += 1
            if (
                KeywordScheme.objects.filter(organization_id=organization_id, name=scheme.name)
                .exclude(pk=scheme.pk)
                .exists()
            ):
                raise DomainError(_("本单位已有名为“%(name)s”的监测方案。") % {"name": scheme.name}, field="name")
            scheme.save()  # auto_now: updated_at moves, which is what rebuilds the matcher
            scheme.recipients.set(recipients)
            audit_record(
                organization=organization_id,
                actor=actor,
                action="monitoring.scheme_add" if before is None else "monitoring.scheme_update",
                target=scheme,
                summary=(_("新增监测方案“%(name)s”") if before is None else _("修改监测方案“%(name)s”"))
                % {"name": scheme.name},
                before=before,
                after=_scheme_snapshot(scheme, recipients),
            )
    except IntegrityError as exc:  # the same name saved by someone else at this very moment
        raise DomainError(_("本单位已有名为“%(name)s”的监测方案。") % {"name": built.name}, field="name") from exc
    return scheme


# --- 值班表


def duty_shift_add(*, actor: Any, user_id: int, starts_at: datetime, ends_at: datetime, note: str = "") -> DutyShift:
    """Roster a member of the unit: the shift ends after it starts, not in the past, and lasts at
    most 31 days."""
    organization_id = _unit_of(actor)
    if not Membership.objects.filter(organization_id=organization_id, user_id=user_id, user__is_active=True).exists():
        raise DomainError(_("值班人须是本单位在岗人员。"), field="user")
    if starts_at is None or timezone.is_naive(starts_at):
        raise DomainError(_("请填写开始时间。"), field="starts_at")
    if ends_at is None or timezone.is_naive(ends_at):
        raise DomainError(_("请填写结束时间。"), field="ends_at")
    if ends_at <= starts_at:
        raise DomainError(_("结束时间须晚于开始时间。"), field="ends_at")
    if ends_at - starts_at > SHIFT_LONGEST:
        raise DomainError(_("一次值班不能超过 31 天，请分段安排。"), field="ends_at")
    if ends_at <= timezone.now():
        raise DomainError(_("结束时间已经过去，无需安排。"), field="ends_at")
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        raise DomainError(_("备注不超过 %(n)s 个字符。") % {"n": NOTE_LIMIT}, field="note")
    with transaction.atomic():
        shift = DutyShift.objects.create(
            organization_id=organization_id, user_id=user_id, starts_at=starts_at, ends_at=ends_at, note=note
        )
        audit_record(
            organization=organization_id,
            actor=actor,
            action="monitoring.duty_add",
            target=shift,
            summary=_("安排值班：%(who)s，%(start)s 至 %(end)s")
            % {"who": _person(shift.user), "start": _local(starts_at), "end": _local(ends_at)},
            after=snapshot(shift, ("user", "starts_at", "ends_at", "note")),
        )
    return shift


def duty_shift_remove(*, actor: Any, shift_id: int) -> DutyShift:
    """Take a current or future shift off the roster; a finished one stays as the record of who watched."""
    organization_id = _unit_of(actor)
    with transaction.atomic():
        shift = (
            DutyShift.objects.select_for_update()
            .select_related("user")
            .filter(pk=shift_id, organization_id=organization_id)
            .first()
        )
        if shift is None:
            raise _not_found(_("值班安排"))
        if shift.ends_at <= timezone.now():
            raise DomainError(_("已结束的值班不能删除。"))
        audit_record(
            organization=organization_id,
            actor=actor,
            action="monitoring.duty_remove",
            target=shift,
            summary=_("取消值班：%(who)s，%(start)s 至 %(end)s")
            % {"who": _person(shift.user), "start": _local(shift.starts_at), "end": _local(shift.ends_at)},
            before=snapshot(shift, ("user", "starts_at", "ends_at", "note")),
        )
        shift.delete()
    return shift


def _person(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# --- the unit's settings


def monitoring_settings_save(*, actor: Any, exclusions: str, retention_days: int) -> MonitoringSettings:
    """The unit-wide exclusion words and how long posts no incident holds are kept (7–3650 days)."""
    organization_id = _unit_of(actor)
    exclusions = (exclusions or "").strip()
    if len(exclusions) > WORDS_LIMIT:
        raise DomainError(_("不超过 %(n)s 个字符。") % {"n": WORDS_LIMIT}, field="exclusions")
    try:
        words_split(exclusions)
    except ExpressionError as error:
        error.field = "exclusions"
        raise
    days = _in_range(retention_days, RETENTION_DAYS, "retention_days", _("信息保存天数"))
    fields = ("exclusions", "retention_days")
    with transaction.atomic():
        row = MonitoringSettings.objects.select_for_update().filter(organization_id=organization_id).first()
        before = snapshot(row, fields) if row is not None else None
        if row is None:
            row = MonitoringSettings(organization_id=organization_id)
        row.exclusions, row.retention_days = exclusions, days
        row.save()  # auto_now: the matcher picks up the new exclusions for the next posts
        audit_record(
            organization=organization_id,
            actor=actor,
            action="monitoring.settings_update",
            target_type="monitoringsettings",
            summary=_("修改监测设置（全局排除词、信息保存天数）"),
            before=before,
            after=snapshot(row, fields),
        )
    return row


# --- readers for the pages


@dataclass(frozen=True)
class SourceHealth:
    source: Source
    per_day: list[int]  # posts taken in per day, the oldest first

    @property
    def week(self) -> int:
        return sum(self.per_day)


def sources_health(organization_id: int, days: int = HEALTH_DAYS) -> list[SourceHealth]:
    """The unit's sources (feeds first) with their posts per day: two queries."""
    counts = sources_items_per_day(organization_id, days=days)
    sources = sorted(
        Source.objects.filter(organization_id=organization_id),
        key=lambda source: (source.kind != Source.Kind.FEED, source.name),  # feeds, then those made on first use
    )
    return [SourceHealth(source, counts.get(source.pk, [0] * days)) for source in sources]


def health_days(days: int = HEALTH_DAYS) -> list[datetime]:
    """The days of the health view's columns, the oldest first (local dates at midnight)."""
    today = timezone.localdate()
    return [
        timezone.make_aware(datetime.combine(today - timedelta(days=back), datetime.min.time()))
        for back in range(days - 1, -1, -1)
    ]


def schemes_overview(organization_id: int, now: datetime | None = None) -> list[KeywordScheme]:
    """The unit's schemes with `matches_24h` and `active_alert_id`: one query."""
    since = (now or timezone.now()) - timedelta(hours=24)
    active = Alert.objects.filter(scheme=OuterRef("pk"), status__in=Alert.ACTIVE).values("pk")[:1]
    return list(
        KeywordScheme.objects.filter(organization_id=organization_id)
        .annotate(
            matches_24h=Count("matches", filter=Q(matches__matched_at__gte=since)),
            active_alert_id=Subquery(active),
        )
        .order_by("-enabled", "name")
    )


def scheme_of_unit(organization_id: int, scheme_id: int) -> KeywordScheme | None:
    return KeywordScheme.objects.filter(pk=scheme_id, organization_id=organization_id).first()


def source_of_unit(organization_id: int, source_id: int) -> Source | None:
    return Source.objects.filter(pk=source_id, organization_id=organization_id).first()


def duty_shifts_ahead(organization_id: int, now: datetime | None = None, limit: int = 200) -> list[DutyShift]:
    """Current and upcoming shifts, the earliest first."""
    now = now or timezone.now()
    return list(
        DutyShift.objects.filter(organization_id=organization_id, ends_at__gt=now)
        .select_related("user")
        .order_by("starts_at", "id")[:limit]
    )


def monitoring_settings_of(organization_id: int) -> MonitoringSettings:
    """The unit's settings, or the defaults (unsaved) when it never changed them."""
    row = MonitoringSettings.objects.filter(organization_id=organization_id).first()
    return row or MonitoringSettings(organization_id=organization_id, retention_days=DEFAULT_RETENTION_DAYS)


def post_purges_recent(organization_id: int, limit: int = 10) -> list[PostPurge]:
    return list(PostPurge.objects.filter(organization_id=organization_id).order_by("-ran_at")[:limit])


def unit_people(organization_id: int) -> list[tuple[int, str]]:
    """(user id, label) of the unit's active members, for rosters and recipients."""
    return [
        (m.user_id, f"{m.user.get_full_name() or m.user.get_username()}（{m.user.get_username()}）")
        for m in Membership.objects.filter(organization_id=organization_id, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    ]
