"""A rebound of an incident's heat during 跟踪 is told once to its working groups and leaders, with
the figures and the suggestion to return to 处置; a later rebound (after another fall) again."""

from datetime import timedelta

import time_machine

from analysis.models import ReboundNotice
from analysis.rebound import incidents_rebound_check, rebound_episodes
from analysis.services import incident_posts_analyse
from analysis.tasks import sweep_analysis_task
from analysis.tests.base import CANTEEN, FEES, PRAISE, AnalysisTestCase
from incidents import events
from incidents.models import Incident, State
from monitoring.models import Mention
from notifications.models import Notification
from opinion_ops.testing import aware
from organizations.models import ResponseGroup

START = aware(2026, 11, 26, 8, 0)


class ReboundTests(AnalysisTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.scheme()
        with time_machine.travel(START, tick=False):
            self.incident = self.log_incident(title="食堂腹泻")
        self.handling = ResponseGroup.objects.get(organization=self.unit, kind=ResponseGroup.Kind.HANDLING)
        self.incident.assigned_groups.add(self.handling)
        Incident.objects.filter(pk=self.incident.pk).update(state=State.TRACKING)
        self.n = 0

    def posts_at(self, *hours: int) -> None:
        texts = [CANTEEN, FEES, PRAISE]
        for hour in hours:
            self.n += 1
            at = START + timedelta(hours=hour, minutes=5)
            ids = self.ingest(
                f"{texts[self.n % 3]}（第{self.n}条，{hour}时）", published_at=at, external_id=f"p{self.n}"
            )
            Mention.objects.filter(pk__in=ids).update(incident=self.incident)
        incident_posts_analyse(incident_id=self.incident.pk)

    def told(self) -> list[Notification]:
        return list(Notification.objects.filter(kind=events.INCIDENT_REBOUND).order_by("id"))

    def check_at(self, hours: int) -> int:
        with time_machine.travel(START + timedelta(hours=hours), tick=False):
            return incidents_rebound_check()

    def test_episodes_are_counted_once_each_and_only_while_going_on(self) -> None:
        self.assertEqual(rebound_episodes([3, 1, 0, 4]), (1, True))
        self.assertEqual(rebound_episodes([3, 1, 0, 4, 5, 5]), (1, True))
        self.assertEqual(rebound_episodes([3, 1, 4, 2]), (1, False))
        self.assertEqual(rebound_episodes([3, 1, 4, 2, 6]), (2, True))
        self.assertEqual(rebound_episodes([0, 1, 2, 3]), (0, False))

    def test_a_rebound_is_told_once_to_the_groups_and_leaders_with_the_figures(self) -> None:
        self.posts_at(0, 0, 0, 1, 3, 3, 3, 3)  # 3, 1, 0, 4 by the hour: fell and rose again
        self.assertEqual(self.check_at(4), 1)
        notices = self.told()
        people = {notice.recipient_id for notice in notices}
        self.assertIn(self.hank.pk, people)  # the handling group, assigned to the incident
        self.assertIn(self.alice.pk, people)  # the leadership group
        self.assertNotIn(self.charlie.pk, people)
        self.assertIn("【舆情反弹】", notices[0].title)
        self.assertIn(self.incident.reference, notices[0].title)
        self.assertIn("4 条（此前低点 0 条，高峰 3 条）", notices[0].body)
        self.assertIn("按预案建议转回处置", notices[0].body)
        self.assertIn(self.unit.name, notices[0].body)
        # Told once: the next ticks, and the task itself, tell nothing more.
        self.assertEqual(self.check_at(4), 0)
        with time_machine.travel(START + timedelta(hours=4, minutes=1), tick=False):
            sweep_analysis_task()
        self.assertEqual(len(self.told()), len(notices))
        self.assertEqual(ReboundNotice.objects.get().number, 1)

    def test_a_new_rebound_after_another_fall_is_told_again(self) -> None:
        self.posts_at(0, 0, 0, 1, 3, 3, 3, 3)
        self.check_at(4)
        first = len(self.told())
        self.posts_at(4, 6, 6, 6, 6, 6)  # 4 at 3h, 1 at 4h, 0 at 5h, then 5 at 6h
        self.assertEqual(self.check_at(7), 1)
        self.assertEqual(list(ReboundNotice.objects.values_list("number", flat=True).order_by("number")), [1, 2])
        self.assertEqual(len(self.told()), 2 * first)

    def test_not_in_tracking_or_no_rebound_nothing_is_told(self) -> None:
        self.posts_at(0, 1, 1, 2, 2, 2)  # rising only
        self.assertEqual(self.check_at(3), 0)
        Incident.objects.filter(pk=self.incident.pk).update(state=State.RESPONDING)
        self.posts_at(3, 3, 3, 3, 3, 3)  # then none at 4h and more at 5h: a rebound while 处置 is not told
        self.posts_at(5, 5, 5, 5, 5, 5, 5, 5)
        self.assertEqual(self.check_at(6), 0)
        self.assertEqual(self.told(), [])
        self.assertFalse(ReboundNotice.objects.exists())
