"""From matched posts to alerts on the dashboard and in the on-duty monitors' channels.

posts_match segments new posts for search and runs every enabled scheme of every unit over them in
one Aho-Corasick pass (monitoring.matching), records each hit with the words that caused it, and
applies each scheme's rule: N matching posts within M minutes, or any post from a watched account.
A rule that fires raises an alert for the scheme, or — while the scheme has an active (open or
acknowledged) alert — adds the posts to it instead of raising another (a unique constraint keeps
one active alert per scheme even when two workers race). All the schemes a batch hit are handled
in one transaction with a fixed number of queries, so a burst of posts never queues behind them.

A raised alert is published as an event carrying its audience — the people on duty now by the
值班表 (the 舆情监测组 when no one is rostered) and the scheme's own recipients — and the notification
routing hands it to the one outbox like every other cause. People then acknowledge it, dismiss it
with a reason, or turn it into an incident in 监测 with its posts attached.
"""

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import events, policies
from incidents.models import Incident
from incidents.services.incidents import incident_create
from monitoring.matching.engine import Matcher, SchemeSpec
from monitoring.matching.expression import scheme_node, words_split
from monitoring.models import Alert, DutyShift, KeywordScheme, Mention, MonitoringSettings, SchemeMatch
from monitoring.search import search_words
from monitoring.services import mention_attach
from opinion_ops.db import compiled, rows_update
from opinion_ops.errors import DomainError, InvalidTransition, StaleObject
from opinion_ops.links import absolute_reverse
from organizations.models import GroupMember, ResponseGroup
from organizations.policies import unit_allows, unit_require

logger = logging.getLogger(__name__)

MATCH_BATCH = 500

# --- the matcher: built from every enabled scheme, kept per process until a scheme or setting changes

_matcher_lock = threading.Lock()
_matcher: tuple[Any, Matcher] | None = None


def scheme_spec(scheme: KeywordScheme) -> SchemeSpec:
    """The scheme as the engine reads it (ExpressionError when its words cannot make one)."""
    node = scheme_node(
        regions=scheme.regions,
        subjects=scheme.subjects,
        events=scheme.events,
        exclusions=scheme.exclusions,
        expression=scheme.expression,
    )
    return SchemeSpec(id=scheme.pk, unit_id=scheme.organization_id, node=node, scope=scheme.scope)  # type: ignore[arg-type]


def _stamp() -> tuple[Any, ...]:
    schemes = KeywordScheme.objects.aggregate(changed=Max("updated_at"), last=Max("id"))
    settings = MonitoringSettings.objects.aggregate(changed=Max("updated_at"))
    return (schemes["changed"], schemes["last"], KeywordScheme.objects.count(), settings["changed"])


def matcher_current() -> Matcher:
    """The matcher of all enabled schemes of all units, rebuilt when any scheme or setting changed."""
    global _matcher
    stamp = _stamp()
    with _matcher_lock:
        if _matcher is not None and _matcher[0] == stamp:
            return _matcher[1]
        specs = []
        for scheme in KeywordScheme.objects.filter(enabled=True):
            try:
                specs.append(scheme_spec(scheme))
            except DomainError:
                logger.warning("scheme %s cannot be matched and is skipped", scheme.pk)
        exclusions = {
            row.organization_id: words_split(row.exclusions)
            for row in MonitoringSettings.objects.exclude(exclusions="")
        }
        _matcher = (stamp, Matcher(specs, exclusions))
        return _matcher[1]


def matcher_forget() -> None:
    """Tests that reuse ids across rolled-back transactions start from no matcher."""
    global _matcher
    with _matcher_lock:
        _matcher = None


# --- matching

# Functions other apps register (in their AppConfig.ready()) to hear of posts that matched a scheme,
# e.g. 研判 clustering them; monitoring imports none of them. Called after the match is committed; a
# failing hook is logged and never stops matching or alerts.
_matched_hooks: list[Callable[[list[Mention]], None]] = []


def matched_hook_register(hook: Callable[[list[Mention]], None]) -> None:
    if hook not in _matched_hooks:
        _matched_hooks.append(hook)


def _matched_hooks_run(posts: list[Mention]) -> None:
    for hook in list(_matched_hooks):
        try:
            hook(posts)
        except Exception:
            logger.exception("matched-posts hook %s failed", getattr(hook, "__qualname__", hook))


def posts_match(post_ids: Iterable[int], now: datetime | None = None) -> dict[str, int]:
    """Segment and match the given posts (those not matched yet), record hits, apply the rules."""
    now = now or timezone.now()
    matcher = matcher_current()
    with transaction.atomic():
        posts = list(
            Mention.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(post_ids), matched_at__isnull=True)
            .only("id", "organization_id", "title", "text", "author_handle", "captured_at")
        )
        hits: list[SchemeMatch] = []
        for post in posts:
            post.search_text = search_words(post.title, post.text)
            post.matched_at = now
            for found in matcher.match(post.organization_id, post.title, post.text):
                hits.append(
                    SchemeMatch(scheme_id=found.scheme_id, mention=post, words=list(found.words), matched_at=now)
                )
        _matched_mark(posts, now)
        SchemeMatch.objects.bulk_create(hits, ignore_conflicts=True, batch_size=MATCH_BATCH)
    by_scheme: dict[int, list[Mention]] = defaultdict(list)
    for hit in hits:
        by_scheme[hit.scheme_id].append(hit.mention)
    raised = schemes_rules_apply(by_scheme, now)
    if hits and _matched_hooks:
        _matched_hooks_run(list({hit.mention.pk: hit.mention for hit in hits}.values()))
    return {"posts": len(posts), "hits": len(hits), "alerts_raised": raised}


def _matched_mark(posts: list[Mention], now: datetime) -> None:
    """Store each post's search words and the time it was matched: one UPDATE … FROM (VALUES …)
    per batch (bulk_update's CASE per row cost more than everything else of matching)."""
    quote = connection.ops.quote_name
    table = quote(Mention._meta.db_table)
    for start in range(0, len(posts), MATCH_BATCH):
        batch = posts[start : start + MATCH_BATCH]
        if not batch:
            continue
        values = ", ".join(["(CAST(%s AS bigint), %s)"] * len(batch))
        params: list[Any] = []
        for post in batch:
            params += [post.pk, post.search_text]
        params.append(connection.ops.adapt_datetimefield_value(now))
        sql = (  # the names are the model's own, every value a parameter
            f"WITH v(id, words) AS (VALUES {values}) "  # noqa: S608
            f"UPDATE {table} SET {quote('search_text')} = v.words, {quote('matched_at')} = %s "
            f"FROM v WHERE {table}.{quote('id')} = v.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def posts_match_due(limit: int = MATCH_BATCH) -> int:
    """The match sweeper: posts whose queued task was lost (broker down, worker killed) are matched
    once they have waited a minute."""
    waiting = list(
        Mention.objects.filter(matched_at__isnull=True, captured_at__lte=timezone.now() - timedelta(minutes=1))
        .order_by("captured_at")
        .values_list("pk", flat=True)[:limit]
    )
    return posts_match(waiting)["posts"] if waiting else 0


def _watched(scheme: KeywordScheme) -> set[str]:
    return {handle.casefold() for handle in words_split(scheme.watched_accounts)}


def schemes_rules_apply(matched: dict[int, list[Mention]], now: datetime) -> int:
    """For every scheme a batch of posts hit (scheme id → its posts): add its new matches to its
    active alert, or raise one if its rule fires. One transaction and a fixed number of queries for
    the whole batch, however many schemes it hit; returns how many alerts were raised."""
    schemes = list(KeywordScheme.objects.filter(pk__in=list(matched)).select_related("organization").order_by("pk"))
    return len(_alerts_raise_or_join(schemes, now, lambda quiet: _rule_reasons(quiet, matched, now)))


def scheme_alert_raise(scheme_id: int, reason: str, now: datetime, since: datetime | None = None) -> Alert | None:
    """Raise an alert for the scheme for a reason another app found (研判's rules on risk and
    growth), or add the scheme's new matches to its active alert. The alert takes the scheme's
    matches not in an alert since `since` (default: the scheme's own window). Returns the alert
    raised, None when the matches joined the active one."""
    schemes = list(KeywordScheme.objects.filter(pk=scheme_id).select_related("organization"))
    raised = _alerts_raise_or_join(schemes, now, lambda quiet: {scheme.pk: reason for scheme in quiet}, since)
    return raised[0] if raised else None


Reasons = Callable[[list[KeywordScheme]], dict[int, str]]


def _alerts_raise_or_join(
    schemes: list[KeywordScheme], now: datetime, reasons_of: Reasons, since: datetime | None = None
) -> list[Alert]:
    """Under the schemes' active alerts' locks (and the one-active-alert constraint): add each
    scheme's new matches to its active alert, or raise one where `reasons_of(schemes without one)`
    gives a reason; registered as an incident at once where the scheme asks for it. When another
    worker raised one of these alerts meanwhile, the constraint refuses ours and the whole batch
    runs once more, joining it. Returns the alerts raised."""
    if not schemes:
        return []
    for attempt in range(2):
        try:
            with transaction.atomic(), events.batched():
                raised = _schemes_alert(schemes, now, reasons_of, since)
            break
        except IntegrityError:
            if attempt:
                raise
    for alert in raised:
        _auto_convert(alert)
    return raised


def _schemes_alert(
    schemes: list[KeywordScheme], now: datetime, reasons_of: Reasons, since: datetime | None
) -> list[Alert]:
    """_alerts_raise_or_join's work inside its transaction: the active alerts locked in scheme order
    (two workers never wait on each other in a circle), the reasons of the schemes without one asked
    once, the alerts raised in one insert, the matches attached and counted in one statement each."""
    by_pk = {scheme.pk: scheme for scheme in schemes}
    active = {
        alert.scheme_id: alert
        for alert in Alert.objects.select_for_update()
        .filter(scheme__in=schemes, status__in=Alert.ACTIVE)
        .order_by("scheme_id")
    }
    quiet = [scheme for scheme in schemes if scheme.pk not in active]
    reasons = reasons_of(quiet) if quiet else {}
    raised = Alert.objects.bulk_create(
        [
            Alert(
                organization_id=scheme.organization_id,
                scheme=scheme,
                severity=scheme.severity,
                reason=reasons[scheme.pk][:300],
                post_count=0,
                first_matched_at=now,
                last_matched_at=now,
            )
            for scheme in quiet
            if scheme.pk in reasons
        ]
    )
    # An active alert takes the matches since its first one; a new alert those of its scheme's
    # window, or since `since` when that is earlier (a rule of 研判 with a longer window).
    starts = {alert.pk: alert.first_matched_at for alert in active.values()}
    for alert in raised:
        window = now - timedelta(minutes=by_pk[alert.scheme_id].window_minutes)
        starts[alert.pk] = min(window, since) if since is not None else window
    taken = _matches_attach({alert.pk: alert.scheme_id for alert in [*active.values(), *raised]}, starts)
    changed: list[Alert] = []
    for alert in active.values():
        count, _first = taken.get(alert.pk, (0, now))
        if count:
            alert.post_count += count
            alert.last_matched_at = now
            changed.append(alert)
    for alert in raised:
        alert.post_count, alert.first_matched_at = taken.get(alert.pk, (0, now))
        changed.append(alert)
    rows_update(changed, ["post_count", "first_matched_at", "last_matched_at"])
    audiences = alert_audiences([by_pk[alert.scheme_id] for alert in raised], now)
    for alert in raised:
        _alert_publish(alert, by_pk[alert.scheme_id], audiences[alert.scheme_id])
    return raised


def _rule_reasons(schemes: list[KeywordScheme], matched: dict[int, list[Mention]], now: datetime) -> dict[int, str]:
    """Why each scheme's rule fires now (scheme id → reason), for those whose rule does: a watched
    account among its new posts, or its threshold of matches within its window not in an alert yet."""
    reasons: dict[int, str] = {}
    counted: list[KeywordScheme] = []
    for scheme in schemes:
        watched = _watched(scheme)
        author = next(
            (p.author_handle for p in matched[scheme.pk] if p.author_handle and p.author_handle.casefold() in watched),
            None,
        )
        if author:
            reasons[scheme.pk] = _("重点关注账号“%(who)s”发布了相关信息") % {"who": author}
        else:
            counted.append(scheme)
    if not counted:
        return reasons
    recent = Q()
    for scheme in counted:
        recent |= Q(scheme_id=scheme.pk, matched_at__gte=now - timedelta(minutes=scheme.window_minutes))
    counts = dict(
        SchemeMatch.objects.filter(recent, alert__isnull=True)
        .values("scheme_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("scheme_id", "n")
    )
    for scheme in counted:
        if counts.get(scheme.pk, 0) >= scheme.threshold_posts:
            reasons[scheme.pk] = _("%(m)s 分钟内命中 %(n)s 条信息") % {
                "m": scheme.window_minutes,
                "n": counts[scheme.pk],
            }
    return reasons


def _matches_attach(schemes: dict[int, int], since: dict[int, datetime]) -> dict[int, tuple[int, datetime]]:
    """Attach to each alert (alert id → its scheme id) its scheme's matches not in an alert yet,
    matched since `since[alert]`: one UPDATE … FROM (VALUES …) for them all. Returns, per alert
    that took any, how many it took and the earliest one's time."""
    if not schemes:
        return {}
    quote = connection.ops.quote_name
    table = quote(SchemeMatch._meta.db_table)
    values = ", ".join(["(CAST(%s AS bigint), CAST(%s AS bigint), %s)"] * len(schemes))
    params: list[Any] = []
    for alert_id, scheme_id in schemes.items():
        params += [alert_id, scheme_id, connection.ops.adapt_datetimefield_value(since[alert_id])]
    sql = (  # the names are the model's own, every value a parameter
        f"WITH v(alert, scheme, since) AS (VALUES {values}) "  # noqa: S608
        f"UPDATE {table} SET {quote('alert_id')} = v.alert FROM v "
        f"WHERE {table}.{quote('scheme_id')} = v.scheme AND {table}.{quote('alert_id')} IS NULL "
        f"AND {table}.{quote('matched_at')} >= v.since "
        f"RETURNING {table}.{quote('alert_id')}, {table}.{quote('matched_at')}"
    )
    field = SchemeMatch._meta.get_field("matched_at")
    converters = connection.ops.get_db_converters(field.get_col(SchemeMatch._meta.db_table))
    taken: dict[int, tuple[int, datetime]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for alert_id, matched_at in cursor.fetchall():
            for converter in converters:
                matched_at = converter(matched_at, field, connection)
            count, first = taken.get(alert_id, (0, matched_at))
            taken[alert_id] = (count + 1, min(first, matched_at))
    return taken


def _auto_convert(alert: Alert) -> None:
    """登记为舆情 at once where the alert's scheme asks for it (after the alert is committed)."""
    if not alert.scheme.auto_incident:
        return
    try:
        alert_convert(alert_id=alert.pk, actor=None)
    except DomainError:
        logger.exception("alert %s could not be registered as an incident automatically", alert.pk)


def _alert_publish(alert: Alert, scheme: KeywordScheme, audience: tuple[list[int], list[int]]) -> None:
    users, groups = audience
    events.publish(
        events.ALERT_RAISED,
        {
            "organization_id": scheme.organization_id,
            "organization_name": scheme.organization.name,
            "alert_id": alert.pk,
            "scheme": scheme.name,
            "severity": scheme.get_severity_display(),
            "reason": alert.reason,
            "post_count": alert.post_count,
            "users": users,
            "groups": groups,
            "url": absolute_reverse("monitoring:alert_detail", alert.pk),
            "key": f"alert:{alert.pk}:raised",
        },
    )


def on_duty(organization_id: int, at: datetime) -> list[int]:
    """Who is on duty at `at` by the 值班表."""
    return list(
        DutyShift.objects.filter(organization_id=organization_id, starts_at__lte=at, ends_at__gt=at)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )


def alert_audiences(schemes: list[KeywordScheme], at: datetime) -> dict[int, tuple[list[int], list[int]]]:
    """(people, groups) an alert of each scheme reaches (scheme id → them), in at most four queries:
    those on duty in its unit, else the unit's 舆情监测组; and the scheme's own recipients."""
    if not schemes:
        return {}
    units = {scheme.organization_id for scheme in schemes}
    rostered: dict[int, set[int]] = defaultdict(set)
    for unit_id, user_id in DutyShift.objects.filter(
        organization_id__in=units, starts_at__lte=at, ends_at__gt=at
    ).values_list("organization_id", "user_id"):
        rostered[unit_id].add(user_id)
    unit_groups: dict[int, list[int]] = defaultdict(list)
    members: dict[int, set[int]] = defaultdict(set)
    unrostered = units - rostered.keys()
    if unrostered:  # the group's members and its chat channels
        for unit_id, group_id in (
            ResponseGroup.objects.filter(organization_id__in=unrostered, kind=ResponseGroup.Kind.MONITORING)
            .order_by("pk")
            .values_list("organization_id", "pk")
        ):
            unit_groups[unit_id].append(group_id)
        group_unit = {group_id: unit_id for unit_id, ids in unit_groups.items() for group_id in ids}
        for group_id, user_id in GroupMember.objects.filter(group_id__in=group_unit, user__is_active=True).values_list(
            "group_id", "user_id"
        ):
            members[group_unit[group_id]].add(user_id)
    recipients: dict[int, list[int]] = defaultdict(list)
    through = KeywordScheme.recipients.through
    for scheme_id, user_id in (
        through.objects.filter(keywordscheme_id__in=[scheme.pk for scheme in schemes])
        .order_by("user_id")
        .values_list("keywordscheme_id", "user_id")
    ):
        recipients[scheme_id].append(user_id)
    audiences = {}
    for scheme in schemes:
        unit_id = scheme.organization_id
        users = sorted(rostered[unit_id] if unit_id in rostered else members[unit_id])
        users += [pk for pk in recipients[scheme.pk] if pk not in users]
        audiences[scheme.pk] = (users, list(unit_groups[unit_id]))
    return audiences


# --- what people do with an alert


def _may_handle(actor: Any, alert: Alert) -> None:
    if actor is not None:  # None: the system (a scheme that registers incidents by itself)
        unit_require("handle_alerts", actor, alert.organization_id)


def _locked(alert_id: int, actor: Any, expected_version: int | None) -> Alert:
    alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise DomainError(_("预警不存在。"), code="not_found")
    _may_handle(actor, alert)
    if expected_version is not None and alert.version != expected_version:
        raise StaleObject(_("这条预警刚被其他人处理过，请刷新后再操作。"))
    return alert


def alert_acknowledge(*, alert_id: int, actor: Any, expected_version: int | None = None) -> Alert:
    """确认: someone is looking into it (further matches still join it)."""
    with transaction.atomic():
        alert = _locked(alert_id, actor, expected_version)
        if alert.status != Alert.Status.OPEN:
            raise InvalidTransition(_("只有待处理的预警可以确认。"))
        alert.status, alert.acknowledged_by, alert.acknowledged_at = Alert.Status.ACKNOWLEDGED, actor, timezone.now()
        alert.version += 1
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "version"])
    return alert


def alert_dismiss(*, alert_id: int, actor: Any, reason: str, expected_version: int | None = None) -> Alert:
    """排除: not an incident, with the reason; new matches of the scheme may raise a new alert."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写排除理由。"), field="reason")
    with transaction.atomic():
        alert = _locked(alert_id, actor, expected_version)
        if alert.status not in Alert.ACTIVE:
            raise InvalidTransition(_("这条预警已经处理完毕。"))
        alert.status, alert.closed_by, alert.closed_at = Alert.Status.DISMISSED, actor, timezone.now()
        alert.dismiss_reason = reason
        alert.version += 1
        alert.save(update_fields=["status", "closed_by", "closed_at", "dismiss_reason", "version"])
    return alert


def alert_convert(*, alert_id: int, actor: Any, expected_version: int | None = None) -> Incident:
    """登记为舆情: an incident in 监测, its title from the scheme and the first post, its discovery time
    the alert's first match, every post of the alert attached to it."""
    with transaction.atomic():
        alert = _locked(alert_id, actor, expected_version)
        if alert.status not in Alert.ACTIVE:
            raise InvalidTransition(_("这条预警已经处理完毕。"))
        scheme = alert.scheme
        reporter = actor or scheme.created_by
        if reporter is None:
            raise DomainError(_("方案没有创建人，无法自动登记舆情。"))
        posts = list(Mention.objects.filter(matches__alert=alert).order_by("captured_at", "id").distinct())
        first = posts[0] if posts else None
        title = (first.title or first.text)[:80] if first else scheme.name
        incident = incident_create(
            actor=reporter,
            title=_("【%(scheme)s】%(title)s") % {"scheme": scheme.name, "title": title},
            discovered_at=min(alert.first_matched_at, timezone.now()),
            description=_("由监测预警登记：%(reason)s，共 %(n)s 条信息。")
            % {"reason": alert.reason, "n": alert.post_count},
            source_links="\n".join(dict.fromkeys(p.url for p in posts if p.url))[:2000],
            platform=first.platform if first else "other",
        )
        for post in posts:
            if post.incident_id is None and policies.allows("add_mention", reporter, incident):
                mention_attach(mention_id=post.pk, incident_id=incident.pk, actor=reporter)
        alert.status, alert.closed_by, alert.closed_at = Alert.Status.CONVERTED, actor, timezone.now()
        alert.incident = incident
        alert.version += 1
        alert.save(update_fields=["status", "closed_by", "closed_at", "incident", "version"])
    return incident


ALERT_ACTIONS = ("acknowledge", "dismiss", "convert")


def alert_actions_available(alert: Alert, actor: Any) -> list[str]:
    """What the actor may do with the alert now (the services' own state rules)."""
    if alert.status not in Alert.ACTIVE or not unit_allows("handle_alerts", actor, alert.organization_id):
        return []
    return [name for name in ALERT_ACTIONS if name != "acknowledge" or alert.status == Alert.Status.OPEN]


@compiled
def _alerts_active(organization_id: int, *, limit: int) -> QuerySet[Alert]:
    return (
        Alert.objects.filter(organization_id=organization_id, status__in=Alert.ACTIVE)
        .select_related("scheme")
        .order_by("-last_matched_at", "-id")[:limit]
    )


def alerts_active(organization_id: int, limit: int = 20) -> list[Alert]:
    """The unit's open and acknowledged alerts, the most recent activity first."""
    return _alerts_active(organization_id, limit=limit)


def scheme_try(scheme: KeywordScheme, *, limit: int = 50, days: int = 30) -> list[tuple[Mention, tuple[str, ...]]]:
    """What the (unsaved) scheme would have matched among the unit's posts of the last `days` days,
    newest first, with the words that hit (ExpressionError when its words cannot make a scheme)."""
    spec = scheme_spec(scheme)
    exclusions = MonitoringSettings.objects.filter(organization_id=scheme.organization_id).first()
    matcher = Matcher([spec], {scheme.organization_id: words_split(exclusions.exclusions) if exclusions else []})
    found = []
    since = timezone.now() - timedelta(days=days)
    posts = Mention.objects.filter(organization_id=scheme.organization_id, captured_at__gte=since).order_by(
        "-captured_at", "-id"
    )
    for post in posts.only("id", "title", "text", "platform", "url", "author_handle", "captured_at").iterator(2000):
        hits = matcher.match(scheme.organization_id, post.title, post.text)
        if hits:
            found.append((post, hits[0].words))
            if len(found) >= limit:
                break
    return found
