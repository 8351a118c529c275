"""Permission tables generated from the rules (incidents.policies.RULES): every action × every role ×
own unit / other unit / superior unit, through the service, the incident page and the API.

Each rule says which roles of the incident's unit may take the action. This test derives the
expected answer from the rule alone and checks that the service lets exactly those people through,
that the page draws the button for exactly them, and that the API lists the action for exactly them.
A rule without a case below fails the test, so a new action cannot skip its table.
"""

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.test import Client
from django.utils import timezone

from evidence.services import evidence_attach, evidence_withdraw
from evidence.testing import image_bytes, temporary_media, upload
from incidents import policies
from incidents.models import Deadline, EmergencyPlan, Incident, Statement
from incidents.services import incidents as svc
from incidents.services import records, statements
from incidents.services.comments import comment_create
from incidents.services.corrections import incident_link, incident_merge
from incidents.services.deadline_clock import deadline_acknowledge, deadlines_sweep
from incidents.services.deadlines import deadline_decide
from incidents.views.registry import ACTIONS
from integrations.testing import ApiTestCase
from monitoring.services import mention_create
from opinion_ops.errors import NotPermitted
from opinion_ops.testing import PASSWORD, make_user, sign_in
from organizations.roles import Role

OWN_ROLES = {
    "bob": Role.MONITOR,
    "ann": Role.ANALYST,
    "hank": Role.HANDLER,
    "sara": Role.SPOKESPERSON,
    "lee": Role.LEGAL,
    "sue": Role.SUPPORT,
    "alice": Role.LEADER,
    "olga": Role.OFFICE,
    "nina": None,  # in the unit, in no group
}
OUTSIDERS = ["charlie", "sam"]  # a leader of another unit, a leader of the superior unit
_counter = itertools.count()


class Rollback(Exception):
    pass


@temporary_media
class PermissionTableTestCase(ApiTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.sue = make_user("sue", cls.unit, "support")
        # 二级 may be set by analysts and the office here, so change_level tests the role rule only.
        cls.level2.requires_leader = False
        cls.level2.save(update_fields=["requires_leader"])
        cls.incidents = cls.build_incidents()

    @classmethod
    def build_incidents(cls) -> dict[str, Incident]:
        def assessed(title: str) -> Incident:
            incident = svc.incident_create(actor=cls.bob, title=title, discovered_at=timezone.now())
            svc.incident_start_assessment(incident_id=incident.pk, actor=cls.ann)
            svc.assessment_record(
                incident_id=incident.pk, actor=cls.ann, nature="谣言", scope="本地", trend="rising", risk="low"
            )
            return incident

        made = {"monitoring": svc.incident_create(actor=cls.bob, title="监测中", discovered_at=timezone.now())}
        made["assessing"] = assessed("研判中")
        made["warning"] = assessed("预警中")
        svc.incident_issue_warning(incident_id=made["warning"].pk, actor=cls.ann, level=cls.level3)
        made["responding"] = assessed("处置中")
        svc.incident_issue_warning(incident_id=made["responding"].pk, actor=cls.ann, level=cls.level3)
        svc.incident_start_response(incident_id=made["responding"].pk, actor=cls.hank)
        for name in ("tracking", "reviewing", "reviewed"):
            made[name] = assessed(name)
            svc.incident_issue_warning(incident_id=made[name].pk, actor=cls.ann, level=cls.level3)
            svc.incident_start_response(incident_id=made[name].pk, actor=cls.hank)
            svc.incident_start_tracking(incident_id=made[name].pk, actor=cls.hank)
            clocks = Deadline.objects.filter(incident=made[name], status__in=Deadline.OPEN)
            for clock in clocks:
                deadline_decide(deadline_id=clock.pk, actor=cls.alice, action="waive_deadline", reason="表外")
        for name in ("reviewing", "reviewed"):
            svc.incident_start_review(incident_id=made[name].pk, actor=cls.alice)
        svc.review_record(incident_id=made["reviewed"].pk, actor=cls.alice, summary="经过", evaluation="及时")
        # Records for the record-level actions, on the responding incident.
        responding = made["responding"]
        cls.task = records.task_create(
            incident_id=responding.pk,
            actor=cls.alice,
            title="核实情况",
            assignee_group=cls.unit.response_groups.get(kind="support"),
        )
        cls.report = records.report_record(
            incident_id=responding.pk,
            actor=cls.olga,
            kind="written",
            reported_to="周组长",
            occurred_at=timezone.now(),
            summary="书面报告",
            cause="起因",
            facts="事实",
            measures_taken="措施",
        )
        cls.statements: dict[str, Statement] = {}
        for status in ("draft", "submitted", "approved"):
            statement = statements.statement_create(
                incident_id=responding.pk, actor=cls.sara, title=f"回应{status}", text="正文"
            )
            if status != "draft":
                statements.statement_submit(statement_id=statement.pk, actor=cls.sara)
            if status == "approved":
                statements.statement_decide(statement_id=statement.pk, actor=cls.alice, approve=True)
            cls.statements[status] = statement
        # One waiting for 法律审核: submitted while the plan asked for it.
        EmergencyPlan.objects.filter(pk=responding.plan_id).update(legal_review=True)
        cls.statements["legal_review"] = statements.statement_create(
            incident_id=responding.pk, actor=cls.sara, title="回应法审", text="正文"
        )
        statements.statement_submit(statement_id=cls.statements["legal_review"].pk, actor=cls.sara)
        EmergencyPlan.objects.filter(pk=responding.plan_id).update(legal_review=False)
        cls.evidence = evidence_attach(
            incident_id=responding.pk, actor=cls.hank, file=upload("截图.png", image_bytes(), "image/png")
        )
        # A missed clock (reached the leadership rung) and one closed late but claimed on time.
        cls.missed = Deadline.objects.get(incident=responding, name="口头报告")
        Deadline.objects.filter(pk=cls.missed.pk).update(
            due_at=timezone.now() - timedelta(minutes=1), next_action_at=timezone.now() - timedelta(minutes=1)
        )
        deadlines_sweep()
        cls.late = Deadline.objects.get(incident=responding, name="书面报告")
        Deadline.objects.filter(pk=cls.late.pk).update(
            due_at=timezone.now() + timedelta(minutes=1), next_action_at=timezone.now() - timedelta(minutes=1)
        )
        cls.pending = Deadline.objects.get(incident=responding, name="公开回应")
        # A report sent up to the superior unit (签收), on an incident of its own: reporting it up
        # lets the superior open that incident, which the tables above must not see.
        sent_up = svc.incident_create(actor=cls.bob, title="已报上级", discovered_at=timezone.now())
        cls.sent_up = records.report_record(
            incident_id=sent_up.pk,
            actor=cls.olga,
            kind="oral",
            reported_to="市教育局",
            occurred_at=timezone.now(),
            summary="电话报告",
            to_superior=True,
        )
        return made

    def setUp(self) -> None:
        super().setUp()
        Deadline.objects.filter(pk=self.late.pk).update(
            status="late", met_at=timezone.now() - timedelta(hours=1), next_action_at=None
        )

    def user(self, username: str) -> Any:
        return self.fresh(getattr(self, username))

    def expected(self, action: str, username: str) -> bool:
        rule = policies.RULES[action]
        role = OWN_ROLES.get(username)
        if action == "complete_task":
            return role in (Role.SUPPORT, Role.LEADER, Role.OFFICE)  # the task's group, or the coordinators
        if action == "acknowledge_deadline":
            return role == Role.LEADER  # above the owner (the office) on this clock's chain
        if action == "withdraw_evidence":
            return role in (Role.LEADER, Role.OFFICE) or username == "hank"  # or whoever uploaded it
        if action == "acknowledge_report":
            return username == "sam"  # the superior unit's leadership (or its office) signs for it
        return role is not None and role in rule.roles


def _call(case: Callable[[Any], Any], actor: Any) -> bool:
    """Run the service as `actor` and undo it: True if it was allowed, False if NotPermitted."""
    try:
        with transaction.atomic():
            case(actor)
            raise Rollback
    except Rollback:
        return True
    except NotPermitted:
        return False


def cases(t: PermissionTableTestCase) -> dict[str, Callable[[Any], Any]]:
    """One service call per action, on an incident in a state where the action is possible."""
    i = t.incidents
    n = next(_counter)
    return {
        "edit": lambda a: svc.incident_update(incident_id=i["monitoring"].pk, actor=a, title=f"改{n}"),
        "start_assessment": lambda a: svc.incident_start_assessment(incident_id=i["monitoring"].pk, actor=a),
        "record_assessment": lambda a: svc.assessment_record(
            incident_id=i["assessing"].pk, actor=a, nature="x", scope="y", trend="stable", risk="low"
        ),
        "issue_warning": lambda a: svc.incident_issue_warning(incident_id=i["assessing"].pk, actor=a, level=t.level3),
        "dismiss": lambda a: svc.incident_dismiss(incident_id=i["assessing"].pk, actor=a, reason="非舆情"),
        "start_response": lambda a: svc.incident_start_response(incident_id=i["warning"].pk, actor=a),
        "start_tracking": lambda a: svc.incident_start_tracking(incident_id=i["responding"].pk, actor=a),
        "rebound": lambda a: svc.incident_rebound(incident_id=i["tracking"].pk, actor=a, reason="反弹"),
        "start_review": lambda a: svc.incident_start_review(incident_id=i["tracking"].pk, actor=a),
        "record_review": lambda a: svc.review_record(
            incident_id=i["reviewing"].pk, actor=a, summary="经过", evaluation="评估"
        ),
        "archive": lambda a: svc.incident_archive(incident_id=i["reviewed"].pk, actor=a),
        "change_level": lambda a: svc.incident_change_level(
            incident_id=i["warning"].pk, actor=a, level=t.level2, reason="扩散"
        ),
        "assign_groups": lambda a: svc.incident_assign_groups(
            incident_id=i["monitoring"].pk, actor=a, groups=list(t.unit.response_groups.filter(kind="handling"))
        ),
        "create_task": lambda a: records.task_create(
            incident_id=i["monitoring"].pk, actor=a, title="任务", assignee=t.hank
        ),
        "record_measure": lambda a: records.measure_record(
            incident_id=i["responding"].pk, actor=a, kind="reply", description="回复", taken_at=timezone.now()
        ),
        "record_report": lambda a: records.report_record(
            incident_id=i["monitoring"].pk,
            actor=a,
            kind="oral",
            reported_to="周组长",
            occurred_at=timezone.now(),
            summary="电话",
        ),
        "draft_statement": lambda a: statements.statement_create(
            incident_id=i["responding"].pk, actor=a, title="稿", text="正文"
        ),
        "escalate": lambda a: svc.incident_escalate(incident_id=i["monitoring"].pk, actor=a, note="报"),
        "add_mention": lambda a: mention_create(
            actor=a, platform="weibo", text=f"帖子{n}{a.pk}", incident=i["monitoring"]
        ),
        "complete_task": lambda a: records.task_complete(task_id=t.task.pk, actor=a, result="已核实"),
        "sign_off_report": lambda a: records.report_sign_off(report_id=t.report.pk, actor=a),
        "waive_deadline": lambda a: deadline_decide(
            deadline_id=t.pending.pk, actor=a, action="waive_deadline", reason="理由"
        ),
        "close_deadline": lambda a: deadline_decide(
            deadline_id=t.pending.pk, actor=a, action="close_deadline", reason="理由"
        ),
        "confirm_deadline": lambda a: deadline_decide(
            deadline_id=t.late.pk, actor=a, action="confirm_deadline", reason="理由"
        ),
        "acknowledge_deadline": lambda a: deadline_acknowledge(deadline_id=t.missed.pk, actor=a),
        "acknowledge_report": lambda a: records.report_acknowledge(report_id=t.sent_up.pk, actor=a),
        "revise_statement": lambda a: statements.statement_revise(
            statement_id=t.statements["draft"].pk, actor=a, text=f"新正文{n}"
        ),
        "submit_statement": lambda a: statements.statement_submit(statement_id=t.statements["draft"].pk, actor=a),
        "decide_statement": lambda a: statements.statement_decide(
            statement_id=t.statements["submitted"].pk, actor=a, approve=True
        ),
        "publish_statement": lambda a: statements.statement_publish(
            statement_id=t.statements["approved"].pk, actor=a, channel="官方微博"
        ),
        "withdraw_statement": lambda a: statements.statement_withdraw(
            statement_id=t.statements["submitted"].pk, actor=a
        ),
        "legal_review_statement": lambda a: statements.statement_legal_review(
            statement_id=t.statements["legal_review"].pk, actor=a, approve=True
        ),
        "merge": lambda a: incident_merge(
            incident_id=i["monitoring"].pk, into_id=i["assessing"].pk, actor=a, reason="重复登记"
        ),
        "link": lambda a: incident_link(incident_id=i["monitoring"].pk, related_id=i["reviewed"].pk, actor=a),
        "comment": lambda a: comment_create(incident_id=i["monitoring"].pk, actor=a, body=f"意见{n}"),
        "attach_evidence": lambda a: evidence_attach(
            incident_id=i["monitoring"].pk,
            actor=a,
            file=upload(f"截图{n}.png", image_bytes(color=(n % 250, 9, a.pk % 250))),
        ),
        "withdraw_evidence": lambda a: evidence_withdraw(evidence_id=t.evidence.pk, actor=a, reason="重复上传"),
    }


class ServiceTableTests(PermissionTableTestCase):
    def test_every_rule_has_a_case(self) -> None:
        self.assertEqual(set(cases(self)), set(policies.RULES))

    def test_the_services_let_through_exactly_whom_each_rule_names(self) -> None:
        table = cases(self)
        wrong = []
        for action, username in itertools.product(sorted(policies.RULES), [*OWN_ROLES, *OUTSIDERS]):
            allowed = _call(table[action], self.user(username))
            if allowed != self.expected(action, username):
                wrong.append((action, username, allowed))
        self.assertEqual(wrong, [])


class PageAndApiTableTests(PermissionTableTestCase):
    def page_actions(self, username: str, incident: Incident) -> set[str] | None:
        client = Client()
        sign_in(client, username, PASSWORD)
        response = client.get(f"/incidents/{incident.pk}/")
        if response.status_code == 404:
            return None
        by_name = {action.name: action.rule for action in ACTIONS.values()}
        return {by_name[item["action"].name] for item in response.context["actions"]}

    def api_actions(self, username: str, incident: Incident) -> set[str] | None:
        response = self.client_for(getattr(self, username), scope="read").get(f"/api/v1/incidents/{incident.pk}/")
        if response.status_code == 404:
            return None
        return set(response.json()["available_actions"])

    def test_the_page_and_the_api_offer_exactly_what_the_rules_allow(self) -> None:
        drawn = {action.rule for action in ACTIONS.values()}
        wrong = []
        for (state, incident), username in itertools.product(self.incidents.items(), [*OWN_ROLES, *OUTSIDERS]):
            incident = Incident.objects.get(pk=incident.pk)
            user = self.user(username)
            expected = (
                {name for name in policies.INCIDENT_ACTIONS if policies.allows(name, user, incident)}
                if username in OWN_ROLES
                else None
            )
            if expected is not None:  # the rule's roles, asked directly: the table's own promise
                expected_by_roles = {
                    name
                    for name in expected
                    if OWN_ROLES[username] is not None and OWN_ROLES[username] in policies.RULES[name].roles
                }
                self.assertEqual(expected, expected_by_roles)
            page = self.page_actions(username, incident)
            api = self.api_actions(username, incident)
            if page != (expected & drawn if expected is not None else None):
                wrong.append(("page", state, username, page, expected))
            if api != expected:
                wrong.append(("api", state, username, api, expected))
        self.assertEqual(wrong, [])

    def test_the_superior_reads_an_escalated_incident_and_may_take_no_action_on_it(self) -> None:
        incident = self.incidents["tracking"]
        svc.incident_escalate(incident_id=incident.pk, actor=self.alice, note="报")
        self.assertEqual(self.page_actions("sam", incident), set())
        self.assertEqual(self.api_actions("sam", incident), set())
        self.assertIsNone(self.page_actions("charlie", incident))
        self.assertIsNone(self.api_actions("charlie", incident))
