"""Generated cross-unit probes: every URL pattern and every API operation is tried by people of other
units against unit 甲's records — a leader of a neighbouring unit (session and API token), that
unit's administrator (without the staff flag; with it and every model permission for the admin),
and a leader of the superior unit, for whom 甲's incident was never reported up.

Nothing may come back: no answer is a server error, no page or answer carries 甲's data (every
record of 甲 made here holds the word 甲机密), an id of 甲 gets the same answer as an id that does
not exist (status, and the error code in the API), and no request changes anything of 甲. Every
route with a parameter must say which record its parameter names (PARAMETER_MODELS): a new route
without one fails the test, so the probes grow with the product. Leaks are listed by route in the failure message.
"""

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

import analysis
from analysis.models import Cluster, ScorerModel
from analysis.services import posts_analyse, scorer_train
from drills.models import Drill, Scenario
from drills.services import PostDraft, drill_schedule, scenario_create
from evidence.models import Evidence
from evidence.services import evidence_attach
from evidence.testing import image_bytes, temporary_media, upload
from incidents.models import (
    Assessment,
    Comment,
    Deadline,
    EmergencyPlan,
    Incident,
    Measure,
    Report,
    Review,
    Statement,
    Task,
    TimelineEntry,
)
from incidents.services import incidents as incident_services
from incidents.services.comments import comment_create
from incidents.services.plans import plan_create_revision
from incidents.services.records import measure_record, report_record, task_create
from incidents.services.statements import statement_create, statement_submit
from incidents.views.registry import ACTIONS, ROW_ACTIONS
from incidents.views.statements import OPS
from integrations.models import ApiToken
from integrations.testing import ApiTestCase
from integrations.tokens import api_token_issue
from monitoring.alerts import posts_match
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import Alert, DutyShift, KeywordScheme, Mention, Source
from monitoring.services import mention_create
from notifications.channels import subscription_create
from notifications.models import Delivery, Notification, NotificationChannel
from organizations.models import AuditEntry, GroupMember, Membership, ResponseGroup
from plan_import.models import PlanImport
from reports.figures import period_figures
from reports.models import MonitoringReport

MARK = "甲机密"
MISSING_ID = 987_654
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")

# Which record each route parameter names: (route prefix, parameter) → model. The prefix is the
# route's text up to the parameter; "*" matches any route.
PARAMETER_MODELS: dict[tuple[str, str], type[models.Model]] = {
    ("incidents/", "pk"): Incident,
    ("statements/", "pk"): Statement,
    ("incidents/superior/reports/", "report_id"): Report,
    ("reports/", "report_pk"): Report,  # a written report as .docx or PDF
    ("reports/monitoring/", "pk"): MonitoringReport,  # 舆情日报/周报/月报/专报
    ("drills/", "pk"): Drill,
    ("analysis/clusters/", "pk"): Cluster,
    ("analysis/posts/", "pk"): Mention,
    ("analysis/model/", "pk"): ScorerModel,
    ("analysis/schemes/", "pk"): KeywordScheme,
    ("drills/scenarios/", "pk"): Scenario,
    ("unit/plans/from-review/", "review_pk"): Review,
    ("monitoring/incidents/", "pk"): Incident,
    ("notifications/", "pk"): Notification,
    ("notifications/channels/", "pk"): NotificationChannel,
    ("*", "deadline_id"): Deadline,
    ("*", "delivery_id"): Delivery,
    ("*", "user_id"): get_user_model(),
    ("unit/tokens/", "pk"): ApiToken,
    ("unit/webhooks/", "pk"): NotificationChannel,
    ("unit/members/", "pk"): Membership,
    ("unit/groups/", "pk"): ResponseGroup,
    ("unit/plans/", "pk"): EmergencyPlan,
    ("unit/plans/import/", "pk"): PlanImport,
    ("api/v1/^incidents/", "pk"): Incident,
    ("api/v1/^assessments/", "pk"): Assessment,
    ("api/v1/^reviews/", "pk"): Incident,  # no review of 甲 exists: any id must read "not found"
    ("api/v1/^tasks/", "pk"): Task,
    ("api/v1/^measures/", "pk"): Measure,
    ("api/v1/^reports/", "pk"): Report,
    ("api/v1/^statements/", "pk"): Statement,
    ("api/v1/^deadlines/", "pk"): Deadline,
    ("api/v1/^response-groups/", "pk"): ResponseGroup,
    ("api/v1/^plans/", "pk"): EmergencyPlan,
    ("api/v1/^mentions/", "pk"): Mention,
    ("api/v1/^notifications/", "pk"): Notification,
    ("api/v1/^webhooks/", "pk"): NotificationChannel,
    ("api/v1/^webhook-deliveries/", "pk"): Delivery,
    ("monitoring/sources/", "pk"): Source,
    ("monitoring/schemes/", "pk"): KeywordScheme,
    ("monitoring/alerts/", "pk"): Alert,
    ("monitoring/duty/", "pk"): DutyShift,
    ("monitoring/posts/", "pk"): Mention,
    ("api/v1/^alerts/", "pk"): Alert,
    ("api/v1/^schemes/", "pk"): KeywordScheme,
    ("evidence/incidents/", "pk"): Incident,
    ("evidence/", "pk"): Evidence,
    ("api/v1/^evidence/", "pk"): Evidence,
}
SLUGS: dict[str, list[str]] = {
    "action": sorted({*ACTIONS, *ROW_ACTIONS, "acknowledge", "dismiss", "convert"}),
    "op": sorted(OPS),
}
# Routes that end the prober's own session or only switch the language: not probes of 甲.
SKIPPED = {"logout", "set_language", "login"}
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>[^)]*\)")


@dataclass
class Route:
    pattern: str  # the full route text
    name: str
    methods: tuple[str, ...]
    parameters: list[tuple[str, str]] = field(default_factory=list)  # (name, converter)


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def routes(selection: Callable[[str], bool]) -> list[Route]:
    found = []
    for text, pattern in _walk(get_resolver().url_patterns):
        if not selection(text) or pattern.name in SKIPPED or text.endswith("^.*$"):
            continue
        actions = getattr(pattern.callback, "actions", None)  # a DRF router route: its methods
        methods = (
            tuple(m.upper() for m in actions if m.upper() not in ("HEAD", "OPTIONS")) if actions else ("GET", "POST")
        )
        parameters = [
            (m.group("name") or m.group("rname"), m.group("converter") or "int") for m in PARAMETER.finditer(text)
        ]
        found.append(Route(text, str(pattern.name), methods, [p for p in parameters if p[0] != "format"]))
    return found


def concrete(route: Route, values: dict[str, str]) -> str:
    text = route.pattern
    for name, _converter in route.parameters:
        text = re.sub(rf"<(?:\w+:)?{name}>|\(\?P<{name}>[^)]*\)", values[name], text, count=1)
    return "/" + text.replace("^", "").replace("$", "")


@temporary_media
class CrossUnitProbeTests(ApiTestCase):
    """Unit 甲 is the shared test unit (示范区教育局); the probers come from the others."""

    maxDiff = None

    def setUp(self) -> None:
        super().setUp()
        self.records = self.make_secret_records()
        self.leaks: list[str] = []
        self.requests = 0

    # --- 甲's records, every one carrying the mark

    def make_secret_records(self) -> dict[type[models.Model], list[int]]:
        incident = self.log_incident(title=f"{MARK}舆情", description=f"{MARK}描述")
        incident_services.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        incident_services.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature=f"{MARK}性质", scope="s", trend="rising", risk="low"
        )
        incident_services.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level3)
        incident_services.incident_start_response(incident_id=incident.pk, actor=self.hank)
        now = timezone.now()
        task_create(incident_id=incident.pk, actor=self.olga, title=f"{MARK}任务", assignee=self.hank)
        measure_record(incident_id=incident.pk, actor=self.hank, kind="reply", description=f"{MARK}措施", taken_at=now)
        report_record(
            incident_id=incident.pk,
            actor=self.olga,
            kind="written",
            reported_to="领导小组",
            occurred_at=now - timedelta(minutes=1),
            summary=f"{MARK}报告",
            cause="c",
            facts="f",
            measures_taken="m",
        )
        statement = statement_create(incident_id=incident.pk, actor=self.sara, title=f"{MARK}回应", text=f"{MARK}正文")
        statement_submit(statement_id=statement.pk, actor=self.sara)
        mention_create(actor=self.bob, platform="weibo", text=f"{MARK}帖子", incident=incident)
        # Monitoring: a feed, a scheme whose alert is open with a post in it, a duty shift.
        Source.objects.create(
            organization=self.unit, kind="feed", name=f"{MARK}订阅", url=f"https://feeds.example.cn/{MARK}"
        )
        scheme = KeywordScheme.objects.create(
            organization=self.unit, name=f"{MARK}方案", subjects=MARK, events="帖子", created_by=self.bob
        )
        pushed = posts_ingest(
            source_id=source_of_kind(self.unit.pk, "api").pk, posts=[PostIn(text=f"{MARK}帖子 推送", author=MARK)]
        )
        posts_match(pushed.created)
        DutyShift.objects.create(
            organization=self.unit, user=self.bob, starts_at=now, ends_at=now + timedelta(hours=8), note=f"{MARK}值班"
        )
        evidence_attach(
            incident_id=incident.pk,
            actor=self.hank,
            file=upload(f"{MARK}截图.png", image_bytes()),
            description=f"{MARK}存证",
        )
        comment_create(incident_id=incident.pk, actor=self.ann, body=f"{MARK}评论")
        Notification.objects.create(
            recipient=self.alice, incident=incident, kind="test", title=f"{MARK}通知", idempotency_key="secret-1"
        )
        NotificationChannel.objects.create(user=self.alice, kind="webhook", target=f"https://hooks.example.cn/{MARK}")
        NotificationChannel.objects.create(
            group=ResponseGroup.objects.get(organization=self.unit, kind="leadership"),
            kind="email",
            target="leaders@example.cn",
            name=f"{MARK}群",
        )
        with self.captureOnCommitCallbacks(execute=True):
            subscription_create(
                organization=self.unit,
                actor=self.uma,
                name=f"{MARK}对接",
                target_url=f"https://hooks.example.cn/{MARK}/in",
                event_names=["incident.created", "incident.updated"],
            )
            incident_services.incident_update(incident_id=incident.pk, actor=self.bob, description=f"{MARK}补充")
        api_token_issue(organization=self.unit, name=f"{MARK}令牌", user=self.bob, scope="read", actor=self.uma)
        plan_create_revision(plan=self.plan, change_note=f"{MARK}修订")
        review = Review.objects.create(
            incident=incident, author=self.olga, summary=f"{MARK}经过", evaluation="e", plan_suggestions=f"{MARK}建议"
        )
        plan_import = PlanImport.objects.create(
            organization=self.unit,
            source_name=f"{MARK}预案.docx",
            text=f"{MARK}预案原文：30分钟内口头报告。",
            title=f"{MARK}预案",
            items=[
                {
                    "kind": "clock",
                    "values": {
                        "name": f"{MARK}口头报告",
                        "kind": "oral_report",
                        "minutes": 30,
                        "same_day": False,
                        "anchor": "discovered",
                        "category": "",
                    },
                    "start": 0,
                    "end": 10,
                    "note": "",
                    "keep": True,
                }
            ],
        )
        monitoring_report = MonitoringReport.objects.create(
            organization=self.unit,
            kind="special",
            year=2026,
            number=1,
            title=f"{MARK}专报",
            period_start=timezone.now() - timedelta(days=1),
            period_end=timezone.now(),
            commentary=f"{MARK}研判意见",
            figures=period_figures(
                organization=self.unit, start=timezone.now() - timedelta(days=1), end=timezone.now()
            ),
        )
        scenario = scenario_create(
            actor=self.alice,
            title=f"{MARK}演练脚本",
            description=f"{MARK}情况",
            platform="weibo",
            posts=[PostDraft(text=f"{MARK}演练帖文", minutes_after=0, platform="weibo")],
        )
        drill = drill_schedule(
            actor=self.alice, scenario_id=scenario.pk, starts_at=timezone.now() + timedelta(days=1), speed=60
        )
        posts_analyse(Mention.objects.filter(organization=self.unit).values_list("pk", flat=True))
        with open(Path(analysis.__file__).parent / "data" / "weibo_style_labelled.csv", encoding="utf-8") as rows:
            labelled = list(csv.DictReader(rows))[:120]
        scorer_train(
            organization_id=self.unit.pk,
            actor=None,
            texts=[row["text"] for row in labelled],
            labels=[row["label"] for row in labelled],
            source=f"{MARK}标注.csv",
        )
        Membership.objects.filter(user=self.uma).update(phone=f"{MARK}电话")
        ResponseGroup.objects.filter(organization=self.unit, kind="support").update(duties=f"{MARK}职责")
        unit_users = list(Membership.objects.filter(organization=self.unit).values_list("user_id", flat=True))
        return {
            Incident: [incident.pk],
            Assessment: list(Assessment.objects.filter(incident=incident).values_list("pk", flat=True)),
            Task: list(Task.objects.filter(incident=incident).values_list("pk", flat=True)),
            Measure: list(Measure.objects.filter(incident=incident).values_list("pk", flat=True)),
            Report: list(Report.objects.filter(incident=incident).values_list("pk", flat=True)),
            Statement: [statement.pk],
            Deadline: list(Deadline.objects.filter(incident=incident).values_list("pk", flat=True)[:3]),
            Mention: list(Mention.objects.filter(organization=self.unit).values_list("pk", flat=True)),
            Source: list(Source.objects.filter(organization=self.unit).values_list("pk", flat=True)),
            KeywordScheme: [scheme.pk],
            Alert: list(Alert.objects.filter(scheme=scheme).values_list("pk", flat=True)),
            DutyShift: list(DutyShift.objects.filter(organization=self.unit).values_list("pk", flat=True)),
            Evidence: list(Evidence.objects.filter(incident=incident).values_list("pk", flat=True)),
            Comment: list(Comment.objects.filter(incident=incident).values_list("pk", flat=True)),
            Notification: list(Notification.objects.filter(recipient__in=unit_users).values_list("pk", flat=True)[:3]),
            NotificationChannel: list(
                NotificationChannel.objects.filter(name__contains=MARK).values_list("pk", flat=True)
            )
            + list(NotificationChannel.objects.filter(target__contains=MARK).values_list("pk", flat=True)),
            Delivery: list(Delivery.objects.filter(channel__organization=self.unit).values_list("pk", flat=True)[:2]),
            ApiToken: list(ApiToken.objects.filter(organization=self.unit).values_list("pk", flat=True)),
            EmergencyPlan: list(EmergencyPlan.objects.filter(organization=self.unit).values_list("pk", flat=True)),
            Membership: list(Membership.objects.filter(user__in=[self.uma, self.alice]).values_list("pk", flat=True)),
            ResponseGroup: list(
                ResponseGroup.objects.filter(organization=self.unit, kind__in=["support", "leadership"]).values_list(
                    "pk", flat=True
                )
            ),
            get_user_model(): [self.alice.pk, self.uma.pk],
            PlanImport: [plan_import.pk],
            Review: [review.pk],
            MonitoringReport: [monitoring_report.pk],
            Scenario: [scenario.pk],
            Drill: [drill.pk],
            Cluster: list(Cluster.objects.filter(organization=self.unit).values_list("pk", flat=True)),
            ScorerModel: list(ScorerModel.objects.filter(organization=self.unit).values_list("pk", flat=True)),
        }

    def fingerprint(self) -> str:
        """Everything of 甲 a probe could change, in one comparable text."""
        parts: list[Any] = []
        for model, ids in sorted(self.records.items(), key=lambda item: item[0].__name__):
            parts.append(list(model.objects.filter(pk__in=ids).order_by("pk").values()))
        parts += [
            TimelineEntry.objects.filter(incident__organization=self.unit).count(),
            AuditEntry.objects.filter(organization=self.unit).count(),
            GroupMember.objects.filter(group__organization=self.unit).count(),
            Membership.objects.filter(organization=self.unit).count(),
            ApiToken.objects.filter(organization=self.unit).count(),
            EmergencyPlan.objects.filter(organization=self.unit).count(),
            NotificationChannel.objects.filter(user__membership__organization=self.unit).count(),
            Statement.objects.filter(incident__organization=self.unit).count(),
            Delivery.objects.filter(status="pending").count(),
        ]
        return json.dumps(parts, default=str, sort_keys=True)

    # --- probing

    def parameter_values(self, route: Route) -> list[dict[str, str]]:
        """Each combination of 甲's ids (and slugs) the route's parameters can take."""
        combos: list[dict[str, str]] = [{}]
        for name, converter in route.parameters:
            if converter == "slug" or name in SLUGS:
                values = SLUGS.get(name)
                self.assertIsNotNone(values, f"{route.pattern}: no probe values for <{name}>")
            else:
                first = PARAMETER.search(route.pattern)
                prefix = route.pattern[: first.start()] if first else route.pattern
                model = PARAMETER_MODELS.get((prefix, name)) or PARAMETER_MODELS.get(("*", name))
                self.assertIsNotNone(model, f"{route.pattern}: say which record <{name}> names in PARAMETER_MODELS")
                assert model is not None
                values = [str(pk) for pk in self.records[model]]
                self.assertTrue(values, f"{route.pattern}: 甲 has no {model.__name__} to probe with")
            combos = [{**combo, name: value} for combo in combos for value in values or []]
        return combos

    def answer(self, response: Any, api: bool) -> tuple[Any, ...]:
        """What a prober learns from a response, apart from its body text."""
        location = response.get("Location", "")
        location = re.sub(r"\d+", "N", location)
        code = ""
        if api and response.get("Content-Type", "").startswith("application/json"):
            try:
                code = response.json().get("error", {}).get("code", "")
            except (ValueError, AttributeError):
                code = ""
        return (response.status_code, location, code)

    def request(self, client: Client, method: str, path: str, api: bool) -> Any:
        self.requests += 1
        kwargs: dict[str, Any] = {"content_type": "application/json"} if api and method != "GET" else {}
        data: Any = "{}" if api and method != "GET" else {}
        return getattr(client, method.lower())(path, data, **kwargs)

    def probe(self, who: str, client: Client, route: Route, api: bool = False) -> None:
        before = self.fingerprint()
        for values in self.parameter_values(route) if route.parameters else [{}]:
            path = concrete(route, values)
            missing = concrete(route, {k: v if k in SLUGS else str(MISSING_ID) for k, v in values.items()})
            for method in route.methods:
                response = self.request(client, method, path, api)
                body = response.content.decode(errors="replace") if not response.streaming else ""
                if response.status_code >= 500:
                    self.leaks.append(f"{who} {method} {route.pattern} ({path}): server error {response.status_code}")
                if MARK in body:
                    self.leaks.append(f"{who} {method} {route.pattern} ({path}): answer shows 甲's data")
                if not route.parameters:
                    continue
                ours, none = self.answer(response, api), self.answer(self.request(client, method, missing, api), api)
                if ours != none:
                    self.leaks.append(
                        f"{who} {method} {route.pattern} ({path}): answers {ours} for 甲's record, {none} for none"
                    )
        if self.fingerprint() != before:
            self.leaks.append(f"{who} {route.pattern}: changed 甲's records")

    def assertNoLeaks(self, surface: str, probed: int) -> None:
        summary = f"{surface}: {probed} routes, {self.requests} requests, {len(self.leaks)} leaks"
        print(summary)
        self.assertEqual(self.leaks, [], summary + "\n" + "\n".join(self.leaks))

    # --- the probers

    def session(self, user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def test_pages_give_other_units_nothing(self) -> None:
        pages = routes(lambda text: not text.startswith(("admin/", "api/", "static/")))
        probers = {
            "charlie": self.session(self.charlie),
            "carl": self.session(self.carl),
            "sam": self.session(self.sam),
        }
        for route in pages:
            for who, client in probers.items():
                self.probe(who, client, route)
        self.assertNoLeaks("pages", len(pages))

    def test_api_operations_give_other_units_nothing(self) -> None:
        operations = routes(lambda text: text.startswith("api/v1/^"))
        probers = {}
        for who, user in {"charlie": self.charlie, "carl": self.carl, "sam": self.sam}.items():
            probers[f"{who}-token"] = self.client_for(user)
        probers["carl-session"] = self.session_client(self.carl)
        for route in operations:
            for who, client in probers.items():
                self.probe(who, client, route, api=True)
        self.assertNoLeaks("api", len(operations))

    def test_the_admin_gives_a_staff_unit_administrator_nothing(self) -> None:
        self.carl.is_staff = True
        self.carl.save()
        self.carl.user_permissions.add(*Permission.objects.all())
        client = self.session(get_user_model().objects.get(pk=self.carl.pk))
        admin_routes = routes(lambda text: text.startswith("admin/"))
        for route in admin_routes:
            for values in [{name: "1" for name, _c in route.parameters}]:
                path = concrete(
                    route, {k: ("incidents/incident" if k == "app_label" else v) for k, v in values.items()}
                )
                for method in ("GET", "POST"):
                    self.requests += 1
                    response = getattr(client, method.lower())(path)
                    if response.status_code != 302 or "/login/" not in response.get("Location", ""):
                        if response.status_code != 404:
                            self.leaks.append(f"carl-staff {method} {route.pattern}: {response.status_code}")
        self.assertNoLeaks("admin", len(admin_routes))

    def test_row_actions_on_ones_own_incident_cannot_name_another_units_records(self) -> None:
        """An id smuggled in the form of one's own incident's page (a clock, a task, a report of 甲)."""
        own = self.log_incident(self.charlie, title="邻区舆情")
        client = self.session(self.charlie)
        ids = [*self.records[Deadline], *self.records[Task], *self.records[Report]]
        before = self.fingerprint()
        for action in ROW_ACTIONS:
            for pk in ids:
                data = {"object_id": pk, "task_id": pk, "result": "x", "resolution": "waive", "reason": "x"}
                self.requests += 1
                response = client.post(f"/incidents/{own.pk}/act/{action}/", data)
                if MARK in response.content.decode(errors="replace"):
                    self.leaks.append(f"charlie POST incidents/<pk>/act/{action}/ with 甲's id {pk}: shows 甲's data")
        if self.fingerprint() != before:
            self.leaks.append("charlie: a row action on his own incident changed 甲's records")
        self.assertNoLeaks("row actions", len(ROW_ACTIONS))

    def test_api_bodies_cannot_name_another_units_records(self) -> None:
        """An id of 甲 in the body of a write (the incident a record is for, the groups to assign, the
        post to attach) is answered like an id that does not exist, and changes nothing."""
        own = self.log_incident(self.charlie, title="邻区舆情")
        own_mention = mention_create(actor=self.charlie, platform="weibo", text="邻区帖子")
        incident = str(self.records[Incident][0])
        group = str(self.records[ResponseGroup][0])
        ago = (timezone.now() - timedelta(minutes=1)).isoformat()
        writes = [
            (
                "/api/v1/assessments/",
                {"incident": "{id}", "nature": "n", "scope": "s", "trend": "rising", "risk": "low"},
            ),
            ("/api/v1/reviews/", {"incident": "{id}", "summary": "s", "evaluation": "e"}),
            ("/api/v1/tasks/", {"incident": "{id}", "title": "t", "assignee": self.charlie.pk}),
            ("/api/v1/measures/", {"incident": "{id}", "kind": "reply", "description": "d", "taken_at": ago}),
            (
                "/api/v1/reports/",
                {"incident": "{id}", "kind": "oral", "reported_to": "r", "occurred_at": ago, "summary": "s"},
            ),
            ("/api/v1/statements/", {"incident": "{id}", "title": "t", "text": "x"}),
            ("/api/v1/mentions/", {"platform": "weibo", "text": "新帖子", "incident": "{id}"}),
            (f"/api/v1/mentions/{own_mention.pk}/attach/", {"incident": "{id}"}),
        ]
        group_writes = [(f"/api/v1/incidents/{own.pk}/assign-groups/", {"groups": ["{id}"]})]
        client = self.client_for(self.charlie)
        before = self.fingerprint()
        for writes_for, value in ((writes, incident), (group_writes, group)):
            for path, body in writes_for:

                def filled(pk: str, body: dict[str, Any] = body) -> str:
                    return json.dumps(body).replace('"{id}"', pk)

                self.requests += 2
                answered = client.post(path, filled(value), content_type="application/json")
                if answered.status_code >= 500:
                    self.leaks.append(f"charlie POST {path}: server error {answered.status_code}")
                ours = self.answer(answered, True)
                none = self.answer(client.post(path, filled(str(MISSING_ID)), content_type="application/json"), True)
                if ours != none:
                    self.leaks.append(f"charlie POST {path} naming 甲's record: {ours}, naming none: {none}")
        if self.fingerprint() != before:
            self.leaks.append("charlie: a write naming 甲's records changed them")
        self.assertNoLeaks("api bodies", len(writes) + len(group_writes))
