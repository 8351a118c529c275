"""What the drill tests share: the named users of opinion_ops.testing, a scenario with three posts
(at drill minutes 0, 20 and 45) and a controlled clock."""

from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import time_machine

from drills.models import Drill, Scenario
from drills.services import PostDraft, drill_schedule, drills_sweep, scenario_create
from incidents.services.deadline_clock import deadlines_sweep
from opinion_ops.testing import BaseTestCase, aware, make_user

START = aware(2025, 3, 3, 9, 0)  # a Monday, Shanghai time
MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)

POSTS = [
    PostDraft(text="网友爆料：某校食堂饭菜发霉，多名学生腹痛", minutes_after=0, platform="weibo", author="家长甲"),
    PostDraft(
        text="转发：食堂问题已持续一周，学校没有回应",
        minutes_after=20,
        platform="douyin",
        author="路人乙",
        url="https://www.douyin.com/video/1",
    ),
    PostDraft(text="本地论坛热帖：要求教育局公开检测结果", minutes_after=45, platform="forum", author="版主"),
]


class DrillTestCase(BaseTestCase):
    otto: Any

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # The office group (owner of the report clocks) gets a head, so the chain has every rung.
        cls.otto = make_user("otto", cls.unit, "office", position="head")

    def setUp(self) -> None:
        dispatch = mock.patch("notifications.services.deliveries_dispatch")
        dispatch.start()
        self.addCleanup(dispatch.stop)
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()
        self.addCleanup(self.traveller.stop)

    def scenario(self, user: Any = None, **values: Any) -> Scenario:
        values.setdefault("title", "某校食堂饭菜质量问题")
        values.setdefault("description", "网传某校食堂饭菜发霉，学生腹痛。")
        values.setdefault("platform", "weibo")
        values.setdefault("category_code", "inquiry")
        values.setdefault("expected_level_rank", self.level2.rank)
        values.setdefault("posts", POSTS)
        return scenario_create(actor=user or self.alice, **values)

    def schedule(self, scenario: Scenario, at: datetime | None = None, speed: Any = 60, **kwargs: Any) -> Drill:
        return drill_schedule(
            actor=kwargs.pop("actor", self.alice),
            scenario_id=scenario.pk,
            starts_at=at or START + 10 * MIN,
            speed=speed,
            **kwargs,
        )

    def at(self, when: datetime) -> None:
        """Move the clock and run both sweepers, as beat would."""
        self.clock.move_to(when)
        drills_sweep()
        deadlines_sweep()
