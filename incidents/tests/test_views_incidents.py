"""The incident pages: logging, the list, the incident page and its actions, as a browser uses them."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident, State, TimelineEntry
from incidents.services import incidents as svc
from opinion_ops.testing import PASSWORD, BaseTestCase, sign_in


class ViewTestCase(BaseTestCase):
    def login(self, user) -> None:  # type: ignore[no-untyped-def]
        self.client.logout()
        self.assertTrue(sign_in(self.client, user.username, PASSWORD))

    def assessed(self, **kwargs) -> Incident:  # type: ignore[no-untyped-def]
        incident = self.log_incident(**kwargs)
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk,
            actor=self.ann,
            nature="谣言",
            scope="本地论坛",
            trend="rising",
            risk="medium",
            proposed_level=self.level2,
        )
        return Incident.objects.get(pk=incident.pk)

    def act(self, incident: Incident, action: str, **data):  # type: ignore[no-untyped-def]
        data.setdefault("expected_version", incident.version)
        return self.client.post(reverse("incident_act", args=[incident.pk, action]), data)


class CreateTests(ViewTestCase):
    def test_it_logs_an_incident_and_opens_its_page(self) -> None:
        self.login(self.bob)
        discovered = (timezone.localtime() - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M")
        response = self.client.post(
            reverse("incident_new"),
            {
                "title": "网传某校食堂饭菜变质",
                "description": "微博热帖",
                "source_links": "https://weibo.com/1",
                "platform": "weibo",
                "discovered_at": discovered,
            },
        )
        incident = Incident.objects.get(title="网传某校食堂饭菜变质")
        self.assertRedirects(response, reverse("incident_detail", args=[incident.pk]))
        self.assertEqual(incident.reporter, self.bob)
        self.assertEqual(timezone.localtime(incident.discovered_at).strftime("%Y-%m-%dT%H:%M"), discovered)
        page = self.client.get(reverse("incident_detail", args=[incident.pk]))
        self.assertContains(page, "口头报告")  # the plan's clocks started

    def test_it_prefills_the_discovery_time_with_now(self) -> None:
        self.login(self.bob)
        response = self.client.get(reverse("incident_new"))
        self.assertContains(response, timezone.localtime().strftime("%Y-%m-%dT"))

    def test_it_keeps_what_was_typed_and_shows_the_error_next_to_the_field(self) -> None:
        self.login(self.bob)
        future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        response = self.client.post(
            reverse("incident_new"), {"title": "未来的舆情", "platform": "weibo", "discovered_at": future}
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "发现时间不能晚于当前时间。", status_code=400)
        self.assertContains(response, 'value="未来的舆情"', status_code=400)
        self.assertContains(response, 'id="id_discovered_at_error"', status_code=400)
        self.assertFalse(Incident.objects.exists())

    def test_it_requires_a_title_in_chinese(self) -> None:
        self.login(self.bob)
        response = self.client.post(reverse("incident_new"), {"title": "", "platform": "weibo", "discovered_at": "x"})
        self.assertContains(response, "该字段是必填项。", status_code=400)
        self.assertContains(response, "输入一个有效的日期/时间。", status_code=400)

    def test_it_refuses_a_user_without_a_role(self) -> None:
        self.login(self.nina)
        self.assertEqual(self.client.get(reverse("incident_new")).status_code, 403)
        response = self.client.post(
            reverse("incident_new"),
            {"title": "x", "platform": "weibo", "discovered_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
        )
        self.assertContains(response, "只有本单位应急工作组成员可以登记舆情。", status_code=403)
        self.assertFalse(Incident.objects.exists())


class ListTests(ViewTestCase):
    def test_it_lists_only_my_units_incidents_most_urgent_first(self) -> None:
        calm = self.log_incident(title="一般咨询")
        urgent = self.assessed(title="严重谣言")
        svc.incident_issue_warning(incident_id=urgent.pk, actor=self.alice, level=self.level1)
        self.log_incident(user=self.charlie, title="邻区的舆情")
        self.login(self.bob)
        response = self.client.get(reverse("incident_list"))
        rows = [i.pk for i in response.context["incidents"]]
        self.assertEqual(rows, [urgent.pk, calm.pk])
        self.assertNotContains(response, "邻区的舆情")

    def test_it_filters_by_state_search_and_drill(self) -> None:
        self.log_incident(title="食堂问题")
        self.log_incident(title="校车问题", is_drill=True)
        self.assessed(title="教师问题")
        self.login(self.bob)
        titles = lambda r: [i.title for i in r.context["incidents"]]  # noqa: E731
        self.assertEqual(titles(self.client.get(reverse("incident_list"), {"q": "校车"})), ["校车问题"])
        self.assertEqual(titles(self.client.get(reverse("incident_list"), {"state": "assessing"})), ["教师问题"])
        self.assertNotIn("校车问题", titles(self.client.get(reverse("incident_list"), {"is_drill": "false"})))

    def test_it_paginates(self) -> None:
        for i in range(27):
            self.log_incident(title=f"舆情{i}")
        self.login(self.bob)
        first = self.client.get(reverse("incident_list"))
        self.assertEqual(len(first.context["incidents"]), 25)
        self.assertTrue(first.context["has_next"])
        self.assertEqual(first.context["count"], 27)
        second = self.client.get(reverse("incident_list"), {"page": 2})
        self.assertEqual(len(second.context["incidents"]), 2)
        self.assertFalse(second.context["has_next"])

    def test_it_answers_an_htmx_filter_with_the_results_fragment_only(self) -> None:
        self.log_incident(title="食堂问题")
        self.login(self.bob)
        response = self.client.get(reverse("incident_list"), {"q": "食堂"}, HTTP_HX_REQUEST="true")
        self.assertContains(response, "食堂问题")
        self.assertNotContains(response, "<html")

    def test_the_list_does_a_constant_number_of_queries(self) -> None:
        for i in range(3):
            self.assessed(title=f"舆情{i}")
        self.login(self.alice)
        url = reverse("incident_list")
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        for i in range(12):
            self.assessed(title=f"更多{i}")
        with self.assertNumQueries(len(few.captured_queries)):
            self.client.get(url)


class DetailTests(ViewTestCase):
    def test_it_shows_another_units_incident_as_not_found(self) -> None:
        theirs = self.log_incident(user=self.charlie, title="邻区的舆情")
        self.login(self.bob)
        self.assertEqual(self.client.get(reverse("incident_detail", args=[theirs.pk])).status_code, 404)
        self.assertEqual(self.act(theirs, "start_assessment").status_code, 404)
        self.assertEqual(Incident.objects.get(pk=theirs.pk).state, State.MONITORING)

    def test_it_shows_only_the_actions_the_user_may_take(self) -> None:
        incident = self.assessed()
        url = reverse("incident_detail", args=[incident.pk])
        self.login(self.alice)
        self.assertContains(self.client.get(url), reverse("incident_act", args=[incident.pk, "issue_warning"]))
        self.login(self.hank)
        page = self.client.get(url)
        self.assertNotContains(page, reverse("incident_act", args=[incident.pk, "issue_warning"]))
        self.assertNotContains(page, reverse("incident_act", args=[incident.pk, "dismiss"]))
        self.login(self.nina)
        page = self.client.get(url)
        self.assertContains(page, "当前没有您可以执行的操作。")

    def test_an_analyst_is_offered_only_levels_they_may_issue(self) -> None:
        incident = self.assessed()
        self.login(self.ann)
        form = self.client.get(reverse("incident_detail", args=[incident.pk])).context["actions"]
        issue = next(a["form"] for a in form if a["action"].name == "issue_warning")
        self.assertEqual([level.name for level in issue.fields["level"].queryset], ["三级"])

    def test_it_refuses_a_posted_action_the_user_may_not_take(self) -> None:
        incident = self.assessed()
        self.login(self.hank)
        response = self.act(incident, "issue_warning", level=self.level2.pk)
        self.assertEqual(response.status_code, 403)
        self.assertContains(response, "只有研判组、领导小组或其办公室可以发布预警", status_code=403)
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.ASSESSING)

    def test_an_analyst_posting_a_leaders_level_is_refused(self) -> None:
        incident = self.assessed()
        self.login(self.ann)
        response = self.act(incident, "issue_warning", level=self.level1.pk)
        self.assertContains(response, "须由领导小组成员决定", status_code=403)
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.ASSESSING)

    def test_a_leader_issues_the_warning(self) -> None:
        incident = self.assessed()
        self.login(self.alice)
        response = self.act(incident, "issue_warning", level=self.level2.pk)
        self.assertRedirects(response, reverse("incident_detail", args=[incident.pk]), fetch_redirect_response=False)
        incident.refresh_from_db()
        self.assertEqual((incident.state, incident.level), (State.WARNING, self.level2))
        self.assertContains(self.client.get(response.url), "预警已发布")

    def test_a_stale_page_says_so_and_does_not_overwrite(self) -> None:
        incident = self.assessed()
        seen_version = incident.version
        svc.incident_dismiss(incident_id=incident.pk, actor=self.ann, reason="系正常咨询")
        self.login(self.alice)
        response = self.act(incident, "issue_warning", level=self.level2.pk, expected_version=seen_version)
        self.assertContains(response, "该舆情已被他人更新，请刷新页面后再操作。", status_code=409)
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.DISMISSED)

    def test_a_dismissal_without_reason_re_renders_with_the_error(self) -> None:
        incident = self.assessed()
        self.login(self.ann)
        response = self.act(incident, "dismiss", reason="   ")
        self.assertContains(response, "该字段是必填项。", status_code=400)
        self.assertContains(response, 'id="id_dismiss_reason_error"', status_code=400)
        self.assertContains(response, '<details class="action danger" id="act-dismiss" open>', status_code=400)
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.ASSESSING)

    def test_an_invalid_measure_keeps_the_input_and_names_the_field(self) -> None:
        incident = self.assessed()
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level2)
        self.login(self.hank)
        long_ago = (incident.discovered_at - timedelta(days=2)).astimezone(timezone.get_current_timezone())
        response = self.client.post(
            reverse("incident_act", args=[incident.pk, "measure"]),
            {"kind": "takedown", "description": "请求微博删除谣言帖", "taken_at": long_ago.strftime("%Y-%m-%dT%H:%M")},
        )
        self.assertContains(response, "时间不能早于舆情发现时间。", status_code=400)
        self.assertContains(response, "请求微博删除谣言帖", status_code=400)
        self.assertContains(response, 'id="id_measure_taken_at_error"', status_code=400)

    def test_a_handler_records_a_measure_and_a_back_dated_report(self) -> None:
        incident = self.assessed(minutes_ago=60)
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level2)
        self.login(self.hank)
        now = timezone.localtime()
        self.client.post(
            reverse("incident_act", args=[incident.pk, "measure"]),
            {"kind": "clarification", "description": "官微发布澄清", "taken_at": now.strftime("%Y-%m-%dT%H:%M")},
        )
        earlier = (now - timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M")
        response = self.client.post(
            reverse("incident_act", args=[incident.pk, "report"]),
            {"kind": "oral", "reported_to": "周组长", "occurred_at": earlier, "summary": "电话报告"},
        )
        self.assertEqual(response.status_code, 302)
        page = self.client.get(reverse("incident_detail", args=[incident.pk]))
        self.assertContains(page, "澄清辟谣")
        self.assertContains(page, "已按时完成")  # the 30-minute oral report clock

    def test_a_leader_waives_a_deadline_with_a_reason(self) -> None:
        incident = self.assessed()
        deadline = incident.deadlines.get(kind="written_report")
        self.login(self.alice)
        url = reverse("incident_act", args=[incident.pk, "deadline_decide"])
        response = self.client.post(url, {"object_id": deadline.pk, "decision": "waive", "reason": ""})
        self.assertContains(response, "该字段是必填项。", status_code=400)
        self.client.post(url, {"object_id": deadline.pk, "decision": "waive", "reason": "已当面汇报"})
        deadline.refresh_from_db()
        self.assertEqual(deadline.status, "waived")
        self.login(self.hank)
        other = incident.deadlines.get(kind="oral_report")
        self.assertEqual(
            self.client.post(url, {"object_id": other.pk, "decision": "waive", "reason": "x"}).status_code, 403
        )

    def test_a_post_is_added_by_hand_and_linked(self) -> None:
        incident = self.log_incident()
        self.login(self.bob)
        url = reverse("monitoring:mention_add", args=[incident.pk])
        response = self.client.post(url, {"mention-platform": "weibo", "mention-text": ""})
        self.assertContains(response, "该字段是必填项。", status_code=400)
        self.client.post(
            url, {"mention-platform": "weibo", "mention-text": "某校食堂饭菜发霉", "mention-url": "https://weibo.com/2"}
        )
        self.assertContains(self.client.get(reverse("incident_detail", args=[incident.pk])), "某校食堂饭菜发霉")
        duplicate = self.client.post(
            url, {"mention-platform": "weibo", "mention-text": "某校食堂饭菜发霉", "mention-url": "https://weibo.com/2"}
        )
        self.assertContains(duplicate, "这条信息已经录入过。", status_code=400)

    def test_the_incident_page_does_a_constant_number_of_queries(self) -> None:
        incident = self.assessed()
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level2)
        from incidents.services.records import measure_record, task_create
        from incidents.services.statements import statement_create

        def add_rows(i: int) -> None:
            measure_record(
                incident_id=incident.pk, actor=self.hank, kind="reply", description=f"回复{i}", taken_at=timezone.now()
            )
            task_create(incident_id=incident.pk, actor=self.alice, title=f"任务{i}", assignee=self.hank)
            statement_create(incident_id=incident.pk, actor=self.sara, title=f"回应{i}", text="正文")

        add_rows(0)
        self.login(self.alice)
        url = reverse("incident_detail", args=[incident.pk])
        self.client.get(url)  # the process reads the plan's frozen levels and categories once
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        for i in range(1, 6):
            add_rows(i)
        self.assertGreater(TimelineEntry.objects.filter(incident=incident).count(), 15)
        with self.assertNumQueries(len(few.captured_queries)):
            self.client.get(url)
