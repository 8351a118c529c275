"""Finding an incident again and taking the list away: the unit's incident number shown and
searchable, filters by date, platform, type and 「与我有关」, the order of the nearest open clock, the
Excel 台账 of the filtered list, and printing."""

from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from incidents.models import Incident
from incidents.services import incidents as svc
from incidents.services.records import task_create
from integrations.testing import ApiTestCase
from opinion_ops.testing import PASSWORD, sign_in

HEADERS = [
    "编号",
    "单位",
    "标题",
    "状态",
    "预警级别",
    "处置类别",
    "舆情类型",
    "平台",
    "发现时间",
    "登记时间",
    "登记人",
    "承办工作组",
    "最近时限",
    "有逾期时限",
    "上报上级时间",
    "办结时间",
    "演练",
    "后补登记",
    "情况描述",
]


def local(days_ago: int, hour: int, minute: int) -> datetime:
    """A Shanghai wall-clock time `days_ago` days before today."""
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


class ListTestCase(ApiTestCase):
    def login(self, user: Any) -> None:
        self.client.logout()
        self.assertTrue(sign_in(self.client, user.username, PASSWORD))

    def listed(self, **params: Any) -> list[str]:
        response = self.client.get(reverse("incident_list"), params)
        self.assertEqual(response.status_code, 200)
        return [incident.title for incident in response.context["incidents"]]

    def warned(self, title: str, level: Any, minutes_ago: int = 5) -> Incident:
        incident = self.log_incident(title=title, minutes_ago=minutes_ago)
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="谣言", scope="本地", trend="rising", risk="high"
        )
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=level)
        return Incident.objects.get(pk=incident.pk)

    def workbook(self, response: Any) -> Any:
        self.assertEqual(response.status_code, 200, response.content[:300])
        self.assertEqual(response["Content-Type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        self.assertIn("attachment", response["Content-Disposition"])
        return load_workbook(BytesIO(response.content))

    def rows(self, response: Any) -> list[list[Any]]:
        sheet = self.workbook(response)["舆情台账"]
        return [list(row) for row in sheet.iter_rows(values_only=True)]


class NumberTests(ListTestCase):
    def test_it_shows_each_incidents_number_in_the_list(self) -> None:
        incident = self.log_incident(title="食堂问题")
        self.login(self.bob)
        response = self.client.get(reverse("incident_list"))
        self.assertRegex(incident.reference, r"^\d{4}-\d{4}$")
        self.assertContains(response, f'class="reference">{incident.reference}</td>', html=False)

    def test_it_finds_an_incident_by_its_number_in_the_list_and_the_api(self) -> None:
        self.log_incident(title="食堂问题")
        wanted = self.log_incident(title="校车问题")
        self.login(self.bob)
        self.assertEqual(self.listed(q=wanted.reference), ["校车问题"])
        self.assertEqual(self.listed(q=wanted.reference.split("-")[1]), ["校车问题"])
        rows = self.client_for(self.bob).get("/api/v1/incidents/", {"q": wanted.reference}).json()["results"]
        self.assertEqual([row["reference"] for row in rows], [wanted.reference])


class UrgencyTests(ListTestCase):
    def test_the_nearest_open_clock_comes_first_whatever_the_level(self) -> None:
        severe = self.warned("一级舆情，时限未到", self.level1, minutes_ago=5)  # oral report due in 25 min
        overdue = self.log_incident(title="未定级，口头报告已超时", minutes_ago=45)  # oral report 15 min late
        soon = self.log_incident(title="未定级，口头报告将到期", minutes_ago=25)  # oral report due in 5 min
        closed = self.warned("已排除", self.level1, minutes_ago=1)
        Incident.objects.filter(pk=closed.pk).update(state="dismissed")
        self.login(self.bob)
        self.assertEqual(self.listed(), [overdue.title, soon.title, severe.title, closed.title])
        self.assertContains(self.client.get(reverse("incident_list")), "按紧急程度（最近时限）排序")

    def test_clocks_due_in_the_same_minute_put_the_more_severe_level_first(self) -> None:
        third = self.warned("三级", self.level3, minutes_ago=5)
        first = self.warned("一级", self.level1, minutes_ago=5)
        Incident.objects.filter(pk__in=[third.pk, first.pk]).update(discovered_at=local(0, 0, 0))
        due = timezone.now() + timedelta(minutes=20)
        for incident in (third, first):
            incident.deadlines.update(due_at=due)
        self.login(self.bob)
        self.assertEqual(self.listed(), ["一级", "三级"])


class FilterTests(ListTestCase):
    def test_it_filters_by_discovery_dates_as_days_in_shanghai(self) -> None:
        self.log_incident(title="前天深夜", logged_late=True, minutes_ago=0)
        self.log_incident(title="昨天凌晨", logged_late=True, minutes_ago=0)
        Incident.objects.filter(title="前天深夜").update(discovered_at=local(2, 23, 30))
        Incident.objects.filter(title="昨天凌晨").update(discovered_at=local(1, 0, 30))
        yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
        before = (timezone.localdate() - timedelta(days=2)).isoformat()
        self.login(self.bob)
        self.assertEqual(self.listed(discovered_from=yesterday, discovered_to=yesterday), ["昨天凌晨"])
        self.assertEqual(self.listed(discovered_to=before), ["前天深夜"])
        api = self.client_for(self.bob).get("/api/v1/incidents/", {"discovered_from": yesterday}).json()
        self.assertEqual([row["title"] for row in api["results"]], ["昨天凌晨"])

    def test_a_date_range_that_runs_backwards_is_shown_next_to_the_field(self) -> None:
        self.login(self.bob)
        response = self.client.get(
            reverse("incident_list"), {"discovered_from": "2026-03-02", "discovered_to": "2026-03-01"}
        )
        self.assertContains(response, "结束日期不能早于开始日期。")
        self.assertContains(response, 'id="id_discovered_to_error"')
        self.assertContains(response, 'value="2026-03-02"')
        api = self.client_for(self.bob).get(
            "/api/v1/incidents/", {"discovered_from": "2026-03-02", "discovered_to": "2026-03-01"}
        )
        self.assertError(api, 400, "invalid", field="discovered_to")
        self.assertError(
            self.client_for(self.bob).get("/api/v1/incidents/", {"discovered_to": "0001-01-01"}),
            400,
            "invalid",
            field="discovered_to",
        )

    def test_it_filters_by_platform_and_type(self) -> None:
        rumour = self.plan.incident_types.order_by("order", "id").first()
        assert rumour is not None
        self.log_incident(title="微博谣言", platform="weibo", incident_type=rumour)
        self.log_incident(title="抖音视频", platform="douyin")
        self.login(self.bob)
        self.assertEqual(self.listed(platform="weibo"), ["微博谣言"])
        self.assertEqual(self.listed(incident_type_name=rumour.name), ["微博谣言"])
        page = self.client.get(reverse("incident_list"))
        self.assertContains(page, f'<option value="{rumour.name}"')
        self.assertContains(page, '<option value="douyin"')

    def test_mine_is_what_i_logged_hold_a_task_on_or_whose_clocks_my_group_owns(self) -> None:
        self.log_incident(user=self.bob, title="鲍勃登记的")
        tasked = self.log_incident(user=self.ann, title="交办给汉克的")
        task_create(incident_id=tasked.pk, actor=self.olga, title="核实", assignee=self.hank)
        self.log_incident(user=self.ann, title="与汉克无关的")
        self.login(self.hank)
        self.assertEqual(self.listed(mine="true"), ["交办给汉克的"])
        self.login(self.bob)
        self.assertEqual(self.listed(mine="true"), ["鲍勃登记的"])
        # The public-response clock of every open incident is owned by 宣传组.
        self.login(self.sara)
        self.assertEqual(len(self.listed(mine="true")), 3)
        api = self.client_for(self.hank).get("/api/v1/incidents/", {"mine": "true"}).json()
        self.assertEqual([row["title"] for row in api["results"]], ["交办给汉克的"])

    def test_a_superior_sees_the_reporting_unit_named_in_its_list(self) -> None:
        escalated = self.log_incident(title="区里上报的")
        svc.incident_escalate(incident_id=escalated.pk, actor=self.alice, note="重大")
        self.login(self.sam)
        response = self.client.get(reverse("incident_list"))
        self.assertContains(response, '<span class="tag" data-testid="unit">示范区教育局</span>', html=False)
        self.login(self.bob)
        self.assertNotContains(self.client.get(reverse("incident_list")), 'data-testid="unit"')


class ExportTests(ListTestCase):
    def test_it_exports_the_filtered_list_with_chinese_headers_and_shanghai_times(self) -> None:
        wanted = self.log_incident(title="食堂饭菜问题", platform="weibo", description="网帖称饭菜变质")
        self.log_incident(title="校车问题")
        Incident.objects.filter(pk=wanted.pk).update(discovered_at=local(1, 23, 30))
        self.login(self.bob)
        page = self.client.get(reverse("incident_list"), {"q": "食堂"})
        self.assertContains(page, f'href="{reverse("incident_export")}?q=%E9%A3%9F%E5%A0%82"')
        response = self.client.get(reverse("incident_export"), {"q": "食堂"})
        self.assertIn("filename*=utf-8''", response["Content-Disposition"])
        rows = self.rows(response)
        self.assertEqual(rows[0], HEADERS)
        self.assertEqual(len(rows), 2)
        row = dict(zip(HEADERS, rows[1], strict=True))
        self.assertEqual(row["编号"], wanted.reference)
        self.assertEqual(row["单位"], "示范区教育局")
        self.assertEqual(row["平台"], "微博")
        self.assertEqual(row["状态"], "监测")
        self.assertEqual(row["登记人"], "Bob")
        self.assertEqual(row["情况描述"], "网帖称饭菜变质")
        day = timezone.localdate() - timedelta(days=1)
        self.assertEqual(row["发现时间"], datetime(day.year, day.month, day.day, 23, 30))
        about = dict(self.workbook(self.client.get(reverse("incident_export"), {"q": "食堂"}))["导出说明"].values)
        self.assertEqual(about["搜索"], "食堂")
        self.assertEqual(about["条数"], "1")

    def test_it_exports_in_the_lists_order(self) -> None:
        later = self.log_incident(title="刚发现", minutes_ago=1)
        earlier = self.log_incident(title="早已超时", minutes_ago=45)
        self.login(self.bob)
        rows = self.rows(self.client.get(reverse("incident_export")))
        self.assertEqual([r[2] for r in rows[1:]], [earlier.title, later.title])

    def test_it_exports_only_what_the_user_may_see(self) -> None:
        self.log_incident(title="区内未上报")
        escalated = self.log_incident(title="区内已上报")
        svc.incident_escalate(incident_id=escalated.pk, actor=self.alice, note="重大")
        self.log_incident(user=self.charlie, title="邻区的")
        self.login(self.charlie)
        self.assertEqual([r[2] for r in self.rows(self.client.get(reverse("incident_export")))[1:]], ["邻区的"])
        self.login(self.sam)
        rows = self.rows(self.client.get(reverse("incident_export")))[1:]
        self.assertEqual([(r[1], r[2]) for r in rows], [("示范区教育局", "区内已上报")])
        # Naming another unit's record in a filter names nothing in the sheet.
        group = self.unit.response_groups.get(kind="handling")
        about = dict(self.workbook(self.client.get(reverse("incident_export"), {"group": group.pk}))["导出说明"].values)
        self.assertEqual(about["承办工作组"], str(group.pk))

    @override_settings(INCIDENT_EXPORT_MAX_ROWS=2)
    def test_it_refuses_an_export_over_the_row_limit_and_says_why(self) -> None:
        for i in range(3):
            self.log_incident(title=f"舆情{i}")
        self.login(self.bob)
        response = self.client.get(reverse("incident_export"), {"is_drill": "false"})
        self.assertRedirects(response, reverse("incident_list") + "?is_drill=false", fetch_redirect_response=False)
        page = self.client.get(response["Location"])
        self.assertContains(page, "符合条件的舆情超过 2 条，不能一次导出。")
        self.assertEqual(len(self.rows(self.client.get(reverse("incident_export"), {"q": "舆情1"}))), 2)

    def test_it_refuses_to_export_with_wrong_filters(self) -> None:
        self.login(self.bob)
        response = self.client.get(
            reverse("incident_export"), {"discovered_from": "2026-03-02", "discovered_to": "2026-03-01"}, follow=True
        )
        self.assertContains(response, "筛选条件有误，未导出。")
        self.assertContains(response, "结束日期不能早于开始日期。")

    def test_text_that_looks_like_a_formula_stays_text_and_odd_characters_do_not_break_it(self) -> None:
        self.log_incident(title='=HYPERLINK("https://evil.example","点此")', description="响铃\x07字符")
        self.login(self.bob)
        sheet = self.workbook(self.client.get(reverse("incident_export")))["舆情台账"]
        title = sheet.cell(row=2, column=3)
        self.assertEqual(title.data_type, "s")
        self.assertEqual(title.value, '=HYPERLINK("https://evil.example","点此")')
        self.assertEqual(sheet.cell(row=2, column=19).value, "响铃字符")

    def test_the_export_does_a_constant_number_of_queries(self) -> None:
        for i in range(2):
            self.warned(f"舆情{i}", self.level3)
        self.login(self.alice)
        url = reverse("incident_export")
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        for i in range(8):
            self.warned(f"更多{i}", self.level2)
        with self.assertNumQueries(len(few.captured_queries)):
            self.client.get(url)


class PrintTests(ListTestCase):
    def test_every_page_links_the_print_stylesheet_for_print_only(self) -> None:
        incident = self.log_incident()
        self.login(self.bob)
        link = '<link rel="stylesheet" href="/static/css/print.css" media="print">'
        self.assertContains(self.client.get(reverse("incident_detail", args=[incident.pk])), link, html=False)
        self.assertContains(self.client.get(reverse("incident_list")), link, html=False)
        sheet = (Path(settings.BASE_DIR) / "static" / "css" / "print.css").read_text()
        for hidden in (".topbar", "#actions", "form", "button"):
            self.assertIn(hidden, sheet.split("display: none")[0])
