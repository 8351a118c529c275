"""Every allowed and forbidden move of the incident lifecycle, with the roles that may make it."""

from django.db import connection

from incidents.models import Incident, State, TimelineEntry
from incidents.services import incidents as svc
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted, StaleObject
from opinion_ops.testing import BaseTestCase


class LifecycleTestCase(BaseTestCase):
    def assessed(self) -> Incident:
        incident = self.log_incident()
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk,
            actor=self.ann,
            nature="谣言",
            scope="本地论坛",
            trend="rising",
            risk="medium",
            proposed_level=self.level2,
            proposed_category=self.inquiry,
        )
        return Incident.objects.get(pk=incident.pk)

    def in_state(self, state: str) -> Incident:
        incident = self.assessed()
        if state == State.ASSESSING:
            return incident
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level2)
        if state == State.WARNING:
            return Incident.objects.get(pk=incident.pk)
        svc.incident_start_response(incident_id=incident.pk, actor=self.hank)
        if state == State.RESPONDING:
            return Incident.objects.get(pk=incident.pk)
        svc.incident_start_tracking(incident_id=incident.pk, actor=self.hank)
        if state == State.TRACKING:
            return Incident.objects.get(pk=incident.pk)
        svc.incident_start_review(incident_id=incident.pk, actor=self.alice, clocks=self.waive_all(incident))
        return Incident.objects.get(pk=incident.pk)


class HappyPathTests(LifecycleTestCase):
    def test_it_walks_the_whole_lifecycle_and_records_every_step(self) -> None:
        incident = self.in_state(State.REVIEWING)
        svc.review_record(incident_id=incident.pk, actor=self.alice, summary="处置经过", evaluation="处置及时")
        incident = svc.incident_archive(incident_id=incident.pk, actor=self.alice)
        self.assertEqual(incident.state, State.ARCHIVED)
        self.assertIsNotNone(incident.closed_at)
        moves = list(
            TimelineEntry.objects.filter(incident=incident, kind="transition").values_list("from_state", "to_state")
        )
        self.assertEqual(
            moves,
            [
                ("monitoring", "assessing"),
                ("assessing", "warning"),
                ("warning", "responding"),
                ("responding", "tracking"),
                ("tracking", "reviewing"),
                ("reviewing", "archived"),
            ],
        )
        actors = set(TimelineEntry.objects.filter(incident=incident).values_list("actor__username", flat=True))
        self.assertEqual(actors, {"bob", "ann", "alice", "hank"})

    def test_it_dismisses_with_a_reason(self) -> None:
        incident = self.assessed()
        incident = svc.incident_dismiss(incident_id=incident.pk, actor=self.ann, reason="系正常咨询，非舆情")
        self.assertEqual(incident.state, State.DISMISSED)
        self.assertEqual(incident.dismissal_reason, "系正常咨询，非舆情")

    def test_it_refuses_a_dismissal_without_reason(self) -> None:
        incident = self.assessed()
        with self.assertRaises(DomainError) as ctx:
            svc.incident_dismiss(incident_id=incident.pk, actor=self.ann, reason="  ")
        self.assertEqual(ctx.exception.field, "reason")
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.ASSESSING)

    def test_it_goes_back_to_response_on_rebound(self) -> None:
        incident = self.in_state(State.TRACKING)
        incident = svc.incident_rebound(incident_id=incident.pk, actor=self.bob, reason="出现新的转发高峰")
        self.assertEqual(incident.state, State.RESPONDING)


class ForbiddenTransitionTests(LifecycleTestCase):
    """Each transition from every state it does not start from is refused, and nothing changes."""

    TRANSITIONS = {
        "start_assessment": ({State.MONITORING}, "ann"),
        "start_response": ({State.WARNING}, "alice"),
        "start_tracking": ({State.RESPONDING}, "alice"),
        "start_review": ({State.TRACKING}, "alice"),
    }

    def test_it_refuses_transitions_from_wrong_states(self) -> None:
        incidents = {
            state: self.in_state(state)
            for state in (State.ASSESSING, State.WARNING, State.RESPONDING, State.TRACKING, State.REVIEWING)
        }
        incidents[State.MONITORING] = self.log_incident()
        for name, (sources, username) in self.TRANSITIONS.items():
            for state, incident in incidents.items():
                if state in sources:
                    continue
                with self.subTest(transition=name, state=state):
                    actor = getattr(self, username)
                    version = Incident.objects.get(pk=incident.pk).version
                    with self.assertRaises(InvalidTransition):
                        getattr(svc, f"incident_{name}")(incident_id=incident.pk, actor=actor)
                    self.assertEqual(Incident.objects.get(pk=incident.pk).state, state)
                    self.assertEqual(Incident.objects.get(pk=incident.pk).version, version)

    def test_it_refuses_a_warning_without_assessment(self) -> None:
        incident = self.log_incident()
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        with self.assertRaisesMessage(InvalidTransition, "研判意见"):
            svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level3)

    def test_it_refuses_to_archive_without_review(self) -> None:
        incident = self.in_state(State.REVIEWING)
        with self.assertRaisesMessage(InvalidTransition, "总结评估"):
            svc.incident_archive(incident_id=incident.pk, actor=self.alice)
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.REVIEWING)

    def test_it_refuses_dismissal_outside_assessment(self) -> None:
        incident = self.in_state(State.WARNING)
        with self.assertRaises(InvalidTransition):
            svc.incident_dismiss(incident_id=incident.pk, actor=self.alice, reason="x")

    def test_it_refuses_rebound_unless_tracking(self) -> None:
        incident = self.in_state(State.RESPONDING)
        with self.assertRaises(InvalidTransition):
            svc.incident_rebound(incident_id=incident.pk, actor=self.alice, reason="x")


class PermissionTests(LifecycleTestCase):
    def test_only_analysts_leaders_and_office_start_assessment(self) -> None:
        for user, allowed in [
            (self.ann, True),
            (self.alice, True),
            (self.olga, True),
            (self.bob, False),
            (self.hank, False),
            (self.sara, False),
            (self.nina, False),
            (self.charlie, False),
        ]:
            with self.subTest(user=user.username):
                incident = self.log_incident()
                if allowed:
                    svc.incident_start_assessment(incident_id=incident.pk, actor=self.fresh(user))
                    self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.ASSESSING)
                else:
                    with self.assertRaises(NotPermitted):
                        svc.incident_start_assessment(incident_id=incident.pk, actor=self.fresh(user))
                    self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.MONITORING)

    def test_a_level_two_warning_needs_a_leader(self) -> None:
        incident = self.assessed()
        with self.assertRaisesMessage(NotPermitted, "二级"):
            svc.incident_issue_warning(incident_id=incident.pk, actor=self.ann, level=self.level2)
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.ASSESSING)
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level2)
        self.assertEqual(Incident.objects.get(pk=incident.pk).level, self.level2)

    def test_an_analyst_may_issue_a_level_three_warning(self) -> None:
        incident = self.assessed()
        incident = svc.incident_issue_warning(incident_id=incident.pk, actor=self.ann, level=self.level3)
        self.assertEqual(incident.state, State.WARNING)

    def test_only_a_leader_archives(self) -> None:
        incident = self.in_state(State.REVIEWING)
        svc.review_record(incident_id=incident.pk, actor=self.olga, summary="经过", evaluation="评估")
        with self.assertRaises(NotPermitted):
            svc.incident_archive(incident_id=incident.pk, actor=self.olga)
        svc.incident_archive(incident_id=incident.pk, actor=self.alice)

    def test_a_leader_of_another_unit_cannot_move_our_incident(self) -> None:
        incident = self.assessed()
        with self.assertRaises(NotPermitted):
            svc.incident_issue_warning(incident_id=incident.pk, actor=self.charlie, level=self.level3)

    def test_a_monitor_cannot_start_review(self) -> None:
        incident = self.in_state(State.TRACKING)
        with self.assertRaises(NotPermitted):
            svc.incident_start_review(incident_id=incident.pk, actor=self.bob)


class LevelChangeTests(LifecycleTestCase):
    def test_a_leader_raises_the_level_and_the_timeline_says_so(self) -> None:
        incident = self.in_state(State.RESPONDING)
        svc.incident_change_level(incident_id=incident.pk, actor=self.alice, level=self.level1, reason="转发量激增")
        incident = Incident.objects.get(pk=incident.pk)
        self.assertEqual(incident.level, self.level1)
        entry = TimelineEntry.objects.filter(incident=incident, kind="level").get()
        self.assertIn("二级 → 一级", entry.summary)
        # 一级 belongs to the superior unit: it is escalated automatically.
        self.assertIsNotNone(incident.escalated_at)

    def test_an_analyst_cannot_lower_a_level_that_needs_a_leader(self) -> None:
        incident = self.in_state(State.RESPONDING)
        with self.assertRaises(NotPermitted):
            svc.incident_change_level(incident_id=incident.pk, actor=self.ann, level=self.level3, reason="热度下降")

    def test_it_needs_a_reason(self) -> None:
        incident = self.in_state(State.RESPONDING)
        with self.assertRaises(DomainError) as ctx:
            svc.incident_change_level(incident_id=incident.pk, actor=self.alice, level=self.level1, reason="")
        self.assertEqual(ctx.exception.field, "reason")

    def test_it_refuses_level_change_before_warning_or_after_closing(self) -> None:
        incident = self.assessed()
        with self.assertRaises(InvalidTransition):
            svc.incident_change_level(incident_id=incident.pk, actor=self.alice, level=self.level1, reason="x")

    def test_it_refuses_a_level_from_another_plan(self) -> None:
        incident = self.in_state(State.RESPONDING)
        foreign = self.other_unit.plans.get(status="active").levels.get(rank=1)
        with self.assertRaises(DomainError) as ctx:
            svc.incident_change_level(incident_id=incident.pk, actor=self.alice, level=foreign, reason="x")
        self.assertEqual(ctx.exception.field, "level")


class ConcurrencyTests(LifecycleTestCase):
    def test_it_refuses_a_write_from_a_stale_page(self) -> None:
        incident = self.log_incident()
        seen_version = incident.version
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        with self.assertRaises(StaleObject):
            svc.incident_update(incident_id=incident.pk, actor=self.ann, expected_version=seen_version, title="新标题")
        self.assertNotEqual(Incident.objects.get(pk=incident.pk).title, "新标题")

    def test_two_holders_of_the_same_row_cannot_both_move_it(self) -> None:
        incident = self.log_incident()
        first = Incident.objects.get(pk=incident.pk)
        second = Incident.objects.get(pk=incident.pk)
        first.start_assessment()
        first.save()
        second.start_assessment()
        from django_fsm import ConcurrentTransition

        with self.assertRaises(ConcurrentTransition):
            second.save()

    def test_the_state_cannot_be_assigned_directly(self) -> None:
        incident = self.log_incident()
        with self.assertRaises(AttributeError):
            incident.state = State.ARCHIVED


class TimelineTests(LifecycleTestCase):
    def test_timeline_entries_cannot_be_changed_or_deleted(self) -> None:
        incident = self.log_incident()
        entry = TimelineEntry.objects.filter(incident=incident).first()
        assert entry is not None
        entry.summary = "篡改"
        with self.assertRaises(PermissionError):
            entry.save()
        with self.assertRaises(PermissionError):
            entry.delete()

    def test_the_database_refuses_updates_to_the_timeline(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("the trigger is PostgreSQL's")
        from django.db import DatabaseError, transaction

        incident = self.log_incident()
        with self.assertRaises(DatabaseError), transaction.atomic():
            TimelineEntry.objects.filter(incident=incident).update(summary="篡改")

    def test_edits_are_recorded_with_old_and_new_values(self) -> None:
        incident = self.log_incident()
        svc.incident_update(incident_id=incident.pk, actor=self.bob, title="更正后的标题")
        entry = TimelineEntry.objects.get(incident=incident, kind="edited")
        self.assertEqual(entry.details["changes"]["title"]["to"], "更正后的标题")
        self.assertEqual(entry.actor, self.bob)
