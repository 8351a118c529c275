"""The pages of 应急演练: who may do what, one unit never sees another's, CSRF, audit entries, the
refusals a user can cause, the drill report page and the dashboard card."""

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from drills.models import Drill, Scenario
from drills.services import PostDraft, drill_cancel, scenario_update
from drills.tests.base import MIN, POSTS, START, DrillTestCase
from incidents.services import incidents as svc
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted
from organizations.models import AuditEntry

T0 = START + 10 * MIN


def scenario_post_data(posts: list[dict[str, str]] | None = None, **fields: str) -> dict[str, str]:
    data = {
        "title": "校园欺凌视频传播",
        "platform": "douyin",
        "description": "短视频平台流传某校学生被欺凌视频。",
        "incident_type_name": "",
        "category_code": "hype",
        "expected_level_rank": "1",
        "objectives": "检验报告时限",
        **fields,
    }
    rows = posts if posts is not None else [{"minutes_after": "0", "platform": "douyin", "text": "视频：学生被围殴"}]
    data.update({"posts-TOTAL_FORMS": str(len(rows) + 1), "posts-INITIAL_FORMS": "0"})
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"posts-{index}-{key}"] = value
    # The blank row the page always offers.
    data[f"posts-{len(rows)}-minutes_after"] = "0"
    data[f"posts-{len(rows)}-platform"] = "weibo"
    return data


class ScenarioPageTests(DrillTestCase):
    def login(self, user: object) -> None:
        self.client.force_login(user)

    def test_a_leader_writes_a_scenario_with_its_posts_and_it_is_audited(self) -> None:
        self.login(self.alice)
        response = self.client.post(reverse("drills:scenario_new"), scenario_post_data())
        scenario = Scenario.objects.get()
        self.assertRedirects(response, reverse("drills:scenario_detail", args=[scenario.pk]))
        self.assertEqual(scenario.expected_level_name, self.level1.name)
        self.assertEqual(scenario.posts.count(), 1)  # the blank row is not a post
        entry = AuditEntry.objects.get(action="drill.scenario_create")
        self.assertEqual(entry.actor, self.alice)
        self.assertEqual(entry.after["posts"][0]["text"], "视频：学生被围殴")
        page = self.client.get(reverse("drills:scenario_detail", args=[scenario.pk]))
        self.assertContains(page, "视频：学生被围殴")
        self.assertContains(page, "恶意传播、炒作类")

    def test_a_scenario_without_posts_is_refused_with_a_clear_error(self) -> None:
        self.login(self.alice)
        response = self.client.post(reverse("drills:scenario_new"), scenario_post_data(posts=[]))
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "演练脚本至少要有一条舆情信息", status_code=400)
        self.assertFalse(Scenario.objects.exists())
        with self.assertRaises(DomainError) as ctx:
            self.scenario(posts=[])
        self.assertEqual(ctx.exception.field, "posts")

    def test_a_post_with_a_bad_link_is_refused_naming_the_post(self) -> None:
        self.login(self.alice)
        rows = [{"minutes_after": "5", "platform": "weibo", "text": "帖子", "url": "ftp://example.cn/x"}]
        response = self.client.post(reverse("drills:scenario_new"), scenario_post_data(posts=rows))
        self.assertContains(response, "第 1 条信息的链接", status_code=400)

    def test_a_leader_edits_a_scenario_and_the_audit_keeps_before_and_after(self) -> None:
        scenario = self.scenario()
        self.login(self.alice)
        data = scenario_post_data(title="改后的标题", expected_level_rank="3")
        response = self.client.post(reverse("drills:scenario_edit", args=[scenario.pk]), data)
        self.assertRedirects(response, reverse("drills:scenario_detail", args=[scenario.pk]))
        scenario.refresh_from_db()
        self.assertEqual((scenario.title, scenario.expected_level_rank), ("改后的标题", 3))
        entry = AuditEntry.objects.get(action="drill.scenario_update")
        self.assertEqual(entry.before["title"], "某校食堂饭菜质量问题")
        self.assertEqual(entry.after["title"], "改后的标题")
        self.assertEqual(len(entry.before["posts"]), 3)

    def test_others_of_the_unit_read_but_do_not_write(self) -> None:
        scenario = self.scenario()
        for user in (self.bob, self.olga, self.nina):
            self.login(user)
            self.assertEqual(self.client.get(reverse("drills:scenario_detail", args=[scenario.pk])).status_code, 200)
            self.assertEqual(self.client.get(reverse("drills:list")).status_code, 200)
            self.assertEqual(self.client.get(reverse("drills:scenario_new")).status_code, 403)
            self.assertEqual(
                self.client.post(reverse("drills:scenario_edit", args=[scenario.pk]), scenario_post_data()).status_code,
                403,
            )
            self.assertEqual(self.client.post(reverse("drills:schedule"), {}).status_code, 403)
        with self.assertRaises(NotPermitted):
            scenario_update(scenario_id=scenario.pk, actor=self.bob, posts=POSTS, title="x")
        self.assertEqual(Scenario.objects.get().title, "某校食堂饭菜质量问题")

    def test_another_units_scenario_drill_and_report_are_not_found(self) -> None:
        scenario = self.scenario()
        drill = self.schedule(scenario, at=T0)
        self.login(self.charlie)  # a leader, of 邻区教育局
        for url in (
            reverse("drills:scenario_detail", args=[scenario.pk]),
            reverse("drills:scenario_edit", args=[scenario.pk]),
            reverse("drills:detail", args=[drill.pk]),
        ):
            self.assertEqual(self.client.get(url).status_code, 404, url)
        self.assertEqual(self.client.post(reverse("drills:cancel", args=[drill.pk])).status_code, 404)
        self.assertEqual(
            self.client.post(reverse("drills:scenario_edit", args=[scenario.pk]), scenario_post_data()).status_code, 404
        )
        # Scheduling another unit's scenario: not found either, and nothing scheduled.
        response = self.client.post(
            reverse("drills:schedule"), {"scenario": scenario.pk, "starts_at": "2025-03-03T10:00", "speed": "60"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(Drill.objects.count(), 1)
        listing = self.client.get(reverse("drills:list"))
        self.assertNotContains(listing, scenario.title)
        with self.assertRaises(DomainError) as ctx:
            drill_cancel(drill_id=drill.pk, actor=self.charlie)
        self.assertEqual(ctx.exception.code, "not_found")

    def test_forms_need_the_csrf_token(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.alice)
        self.assertEqual(client.post(reverse("drills:scenario_new"), scenario_post_data()).status_code, 403)
        drill = self.schedule(self.scenario(), at=T0)
        self.assertEqual(client.post(reverse("drills:cancel", args=[drill.pk])).status_code, 403)
        drill.refresh_from_db()
        self.assertEqual(drill.status, Drill.Status.SCHEDULED)
        page = client.get(reverse("drills:detail", args=[drill.pk]))
        self.assertContains(page, "csrfmiddlewaretoken")


class SchedulePageTests(DrillTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.alice)
        self.scn = self.scenario()

    def post(self, **fields: str) -> object:
        data = {"scenario": str(self.scn.pk), "starts_at": "2025-03-03T09:10", "speed": "60", "note": "桌面推演"}
        data.update(fields)
        return self.client.post(reverse("drills:schedule"), data)

    def test_a_leader_schedules_a_drill_and_it_is_audited(self) -> None:
        response = self.post()
        drill = Drill.objects.get()
        self.assertRedirects(response, reverse("drills:detail", args=[drill.pk]))
        self.assertEqual((drill.starts_at, drill.speed, drill.status), (T0, 60, Drill.Status.SCHEDULED))
        self.assertEqual(drill.next_action_at, T0)
        entry = AuditEntry.objects.get(action="drill.schedule")
        self.assertEqual((entry.actor, entry.after["speed"]), (self.alice, 60))
        self.assertContains(self.client.get(reverse("drills:list")), "待开始")

    def test_a_speed_that_is_not_allowed_is_refused_clearly(self) -> None:
        for speed in ("30", "abc", "0"):
            response = self.post(speed=speed)
            self.assertContains(response, "演练倍速只能是 ×1、×10 或 ×60", status_code=400)
        with self.assertRaises(DomainError) as ctx:
            self.schedule(self.scn, speed=30)
        self.assertEqual(ctx.exception.field, "speed")
        self.assertFalse(Drill.objects.exists())

    def test_a_start_in_the_past_is_refused(self) -> None:
        response = self.post(starts_at="2025-03-03T08:00")
        self.assertContains(response, "演练开始时间不能早于当前时间", status_code=400)
        self.assertFalse(Drill.objects.exists())

    def test_a_scenario_whose_posts_were_all_removed_cannot_be_scheduled(self) -> None:
        self.scn.posts.all().delete()
        with self.assertRaises(DomainError) as ctx:
            self.schedule(self.scn)
        self.assertEqual(ctx.exception.field, "scenario")

    def test_a_drill_is_cancelled_before_it_starts_and_then_never_injected(self) -> None:
        drill = self.schedule(self.scn, at=T0)
        response = self.client.post(reverse("drills:cancel", args=[drill.pk]), {"reason": "与检查冲突"})
        self.assertRedirects(response, reverse("drills:detail", args=[drill.pk]))
        drill.refresh_from_db()
        self.assertEqual((drill.status, drill.cancel_reason), (Drill.Status.CANCELLED, "与检查冲突"))
        self.assertEqual(AuditEntry.objects.get(action="drill.cancel").actor, self.alice)
        self.at(T0 + MIN)
        drill.refresh_from_db()
        self.assertIsNone(drill.incident)

    def test_a_started_drill_cannot_be_cancelled(self) -> None:
        drill = self.schedule(self.scn, at=T0)
        self.at(T0)
        with self.assertRaises(InvalidTransition):
            drill_cancel(drill_id=drill.pk, actor=self.alice)
        response = self.client.post(reverse("drills:cancel", args=[drill.pk]))
        self.assertRedirects(response, reverse("drills:detail", args=[drill.pk]))
        drill.refresh_from_db()
        self.assertEqual(drill.status, Drill.Status.RUNNING)

    def test_the_report_page_shows_the_running_score_and_then_the_final_one(self) -> None:
        drill = self.schedule(self.scn, at=T0)
        self.at(T0)
        self.at(T0 + timedelta(seconds=31))  # the oral report is missed
        page = self.client.get(reverse("drills:detail", args=[drill.pk]))
        self.assertContains(page, "演练进行中")
        self.assertContains(page, "口头报告")
        self.assertContains(page, "逾期未完成")
        drill.refresh_from_db()
        pk = drill.incident_id
        svc.incident_start_assessment(incident_id=pk, actor=self.ann)
        svc.incident_dismiss(incident_id=pk, actor=self.ann, reason="演练提前结束")
        self.at(T0 + timedelta(seconds=40))
        drill.refresh_from_db()
        self.assertEqual(drill.status, Drill.Status.FINISHED)
        listing = self.client.get(reverse("drills:list"))
        self.assertContains(listing, "已结束")
        self.assertContains(listing, f'data-testid="drill-score">{drill.score}<')
        page = self.client.get(reverse("drills:detail", args=[drill.pk]))
        self.assertNotContains(page, "演练进行中")
        self.assertContains(page, "经研判排除，未按预案办结")


class DashboardCardTests(DrillTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.bob)

    def card(self) -> str:
        response = self.client.get(reverse("home"))
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        start = html.find('data-testid="dashboard-drills"')
        return "" if start < 0 else html[start : html.find("</section>", start)]

    def test_nothing_when_the_plan_sets_no_drill_interval(self) -> None:
        self.plan.drill_interval_months = None
        self.plan.save()
        self.assertEqual(self.card(), "")

    def test_overdue_when_no_drill_has_finished_and_the_next_scheduled_is_shown(self) -> None:
        self.plan.drill_interval_months = 6
        self.plan.save()
        card = self.card()
        self.assertIn("尚无已完成的演练", card)
        self.assertIn("应尽快开展", card)
        self.assertIn("未安排", card)
        self.schedule(self.scenario(), at=START + timedelta(days=3))
        self.assertIn("2025-03-06", self.card())

    def test_due_n_months_after_the_last_finished_drill(self) -> None:
        self.plan.drill_interval_months = 6
        self.plan.save()
        drill = self.schedule(self.scenario(), at=T0)
        self.at(T0)
        drill.refresh_from_db()
        svc.incident_start_assessment(incident_id=drill.incident_id, actor=self.ann)
        svc.incident_dismiss(incident_id=drill.incident_id, actor=self.ann, reason="演练结束")
        self.at(T0 + MIN)
        card = self.card()
        self.assertIn("2025-09-03", card)
        self.assertNotIn("已逾期", card)
        self.clock.move_to(timezone.make_aware(timezone.datetime(2025, 9, 4, 9, 0)))
        self.client.force_login(self.bob)  # the session of March has expired
        self.assertIn("已逾期", self.card())

    def test_another_units_drills_do_not_count(self) -> None:
        self.other_unit.plans.filter(status="active").update(drill_interval_months=3)
        self.schedule(self.scenario(), at=T0)
        self.client.force_login(self.charlie)
        card = self.card()
        self.assertIn("未安排", card)


class ServiceRefusalTests(DrillTestCase):
    def test_a_real_incident_cannot_run_fast_clocks(self) -> None:
        with self.assertRaises(DomainError) as ctx:
            self.log_incident(clock_speed=60)
        self.assertEqual(ctx.exception.field, "clock_speed")
        with self.assertRaises(DomainError) as ctx:
            self.log_incident(is_drill=True, clock_speed=30)
        self.assertEqual(ctx.exception.field, "clock_speed")
        self.assertEqual(self.log_incident(is_drill=True, clock_speed=10).clock_speed, 10)

    def test_posts_minutes_must_be_whole_and_in_range(self) -> None:
        with self.assertRaises(DomainError) as ctx:
            self.scenario(posts=[PostDraft(text="x", minutes_after=-1)])
        self.assertIn("第 1 条信息", str(ctx.exception.message))


class IncidentPanelTests(DrillTestCase):
    def test_the_drill_incidents_page_says_it_is_a_drill_and_how_fast_its_clocks_run(self) -> None:
        drill = self.schedule(self.scenario(), at=T0)
        self.at(T0)
        drill.refresh_from_db()
        self.client.force_login(self.bob)
        page = self.client.get(reverse("incident_detail", args=[drill.incident_id]))
        self.assertContains(page, 'data-testid="drill-panel"')
        self.assertContains(page, "时限倍速 ×60")
        self.assertContains(page, reverse("drills:detail", args=[drill.pk]))

    def test_a_real_incidents_page_has_no_drill_section(self) -> None:
        self.client.force_login(self.bob)
        incident = self.log_incident()
        page = self.client.get(reverse("incident_detail", args=[incident.pk]))
        self.assertNotContains(page, 'data-testid="drill-panel"')
