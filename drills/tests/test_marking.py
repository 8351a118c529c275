"""A drill says so wherever it reaches people, however it was logged, and stays a drill while its
clocks run fast."""

from datetime import timedelta

from django.utils import timezone

from incidents.services import incidents as svc
from incidents.services.deadline_clock import deadlines_sweep
from notifications.models import Notification
from opinion_ops.errors import DomainError
from opinion_ops.testing import BaseTestCase


class DrillMarkingTests(BaseTestCase):
    def test_a_drill_logged_by_hand_is_marked_in_its_messages_and_a_real_incident_is_not(self) -> None:
        drill = self.log_incident(title="网传学生打架", is_drill=True)
        real = self.log_incident(title="网传学生打架（真实）")
        drill_titles = list(Notification.objects.filter(incident=drill).values_list("title", flat=True))
        real_titles = list(Notification.objects.filter(incident=real).values_list("body", flat=True))
        self.assertTrue(drill_titles)
        drill_bodies = Notification.objects.filter(incident=drill).values_list("body", flat=True)
        self.assertTrue(all("【演练】网传学生打架" in body for body in drill_bodies), list(drill_bodies))
        self.assertTrue(real_titles)
        self.assertFalse(any("演练" in body for body in real_titles))

    def test_a_clock_message_of_a_drill_is_marked_too(self) -> None:
        drill = self.log_incident(title="网传学生打架", is_drill=True, minutes_ago=40)
        deadlines_sweep(now=timezone.now() + timedelta(seconds=1))
        missed = Notification.objects.filter(incident=drill, kind="deadline.missed")
        self.assertTrue(missed.exists())
        self.assertTrue(all("【演练】网传学生打架" in n.body for n in missed))

    def test_a_fast_drill_cannot_be_turned_into_a_real_incident(self) -> None:
        drill = svc.incident_create(
            actor=self.bob, title="演练", discovered_at=timezone.now(), is_drill=True, clock_speed=60
        )
        with self.assertRaises(DomainError) as caught:
            svc.incident_update(incident_id=drill.pk, actor=self.alice, is_drill=False)
        self.assertEqual(caught.exception.field, "is_drill")
        drill.refresh_from_db()
        self.assertTrue(drill.is_drill)
        slow = self.log_incident(title="按实时演练", is_drill=True)
        svc.incident_update(incident_id=slow.pk, actor=self.alice, is_drill=False)  # ×1: a mistake to correct
