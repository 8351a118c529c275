"""Unit isolation: users see and change only their own unit's data; a superior unit sees
what its subordinates escalated, and changes nothing."""

from incidents.selectors import incidents_visible_to
from incidents.services import incidents as svc
from incidents.services.records import report_record
from opinion_ops.errors import NotPermitted
from opinion_ops.testing import BaseTestCase


class IsolationTests(BaseTestCase):
    def test_it_shows_a_unit_only_its_own_incidents(self) -> None:
        ours = self.log_incident()
        theirs = self.log_incident(user=self.charlie, title="邻区的舆情")
        self.assertEqual(list(incidents_visible_to(self.bob)), [ours])
        self.assertEqual(list(incidents_visible_to(self.charlie)), [theirs])

    def test_the_superior_unit_sees_only_escalated_incidents(self) -> None:
        quiet = self.log_incident(title="未上报")
        loud = self.log_incident(title="已上报")
        self.assertNotIn(quiet, incidents_visible_to(self.sam))
        svc.incident_escalate(incident_id=loud.pk, actor=self.alice, note="请上级知悉")
        self.assertEqual(list(incidents_visible_to(self.sam)), [loud])
        # Seeing is not changing: the superior's leader holds no role in our unit.
        with self.assertRaises(NotPermitted):
            svc.incident_start_assessment(incident_id=loud.pk, actor=self.sam)

    def test_a_user_without_a_unit_sees_nothing_and_cannot_log(self) -> None:
        from django.contrib.auth import get_user_model

        stranger = get_user_model().objects.create_user("stranger", password="x")
        self.assertEqual(list(incidents_visible_to(stranger)), [])
        with self.assertRaises(NotPermitted):
            self.log_incident(user=stranger)

    def test_a_unit_member_without_a_role_cannot_log(self) -> None:
        with self.assertRaises(NotPermitted):
            self.log_incident(user=self.nina)

    def test_another_units_user_cannot_report_on_our_incident(self) -> None:
        from django.utils import timezone

        incident = self.log_incident()
        with self.assertRaises(NotPermitted):
            report_record(
                incident_id=incident.pk,
                actor=self.charlie,
                kind="oral",
                reported_to="组长",
                occurred_at=timezone.now(),
                summary="x",
            )

    def test_escalation_needs_a_leader_and_a_superior_unit(self) -> None:
        incident = self.log_incident()
        with self.assertRaises(NotPermitted):
            svc.incident_escalate(incident_id=incident.pk, actor=self.bob, note="x")
        top = self.log_incident(user=self.sam, title="市级舆情")
        from opinion_ops.errors import DomainError

        with self.assertRaises(DomainError):
            svc.incident_escalate(incident_id=top.pk, actor=self.sam, note="x")
