"""The papers of the plan as people work with them: the warning notice (预警通知) with its text, the
groups that must act and what each must do; the written report read in full and signed with a
批示; the 总结评估 kept on the page; a statement's versions compared before approval, withdrawn
by its drafter, and reviewed by the legal group where the plan asks; and 「待我处理」 for everyone
whose turn it is, their own clocks included."""

from typing import Any

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.integrity import incident_record_verify
from incidents.models import (
    Approval,
    Deadline,
    EmergencyPlan,
    Incident,
    Report,
    State,
    Statement,
    TimelineEntry,
    WarningNotice,
)
from incidents.plan_compare import plans_compare, plans_with_parts
from incidents.plan_forms import PlanHeaderForm
from incidents.services import incidents as svc
from incidents.services import plans as plan_services
from incidents.services import records
from incidents.services import statements as st
from integrations.testing import ApiTestCase
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted
from opinion_ops.testing import PASSWORD, make_user, sign_in
from organizations.models import ResponseGroup


class PapersTestCase(ApiTestCase):
    leo: Any

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.leo = make_user("leo", cls.unit, "leadership")  # a second leader

    def login(self, user: Any) -> None:
        self.client.logout()
        self.assertTrue(sign_in(self.client, user.username, PASSWORD))

    def group(self, kind: str, unit: Any = None) -> ResponseGroup:
        return ResponseGroup.objects.get(organization=unit or self.unit, kind=kind)

    def page(self, incident: Incident) -> Any:
        return self.client.get(reverse("incident_detail", args=[incident.pk]))

    def act(self, incident: Incident, action: str, **data: Any) -> Any:
        data.setdefault("expected_version", Incident.objects.get(pk=incident.pk).version)
        return self.client.post(reverse("incident_act", args=[incident.pk, action]), data)

    def assessed(self, **kwargs: Any) -> Incident:
        incident = self.log_incident(**kwargs)
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk,
            actor=self.ann,
            nature="不实信息",
            scope="本地家长群",
            trend="rising",
            risk="high",
            proposed_level=self.level2,
            recommendation="统一口径回应",
        )
        return Incident.objects.get(pk=incident.pk)

    def responding(self, **kwargs: Any) -> Incident:
        incident = self.assessed(**kwargs)
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level3)
        svc.incident_start_response(incident_id=incident.pk, actor=self.hank)
        return Incident.objects.get(pk=incident.pk)

    def written(self, incident: Incident, reporter: Any = None) -> Report:
        return records.report_record(
            incident_id=incident.pk,
            actor=reporter or self.olga,
            kind="written",
            reported_to="领导小组",
            occurred_at=timezone.now(),
            summary="关于食堂舆情的书面报告",
            cause="家长在微博发布视频称饭菜变质",
            facts="经查视频系 2019 年外地旧闻",
            measures_taken="已联系平台标注并发布澄清",
        )

    def plan_settings(self, **values: bool) -> None:
        EmergencyPlan.objects.filter(pk=self.plan.pk).update(**values)


class WarningNoticeTests(PapersTestCase):
    def test_it_issues_the_warning_as_a_notice_with_text_groups_and_requirements(self) -> None:
        incident = self.assessed()
        svc.incident_issue_warning(
            incident_id=incident.pk,
            actor=self.alice,
            level=self.level2,
            text="请各组立即按二级预警响应。",
            groups=[(self.group("handling"), "联系平台删除不实帖文"), (self.group("publicity"), "")],
        )
        notice = WarningNotice.objects.get(incident=incident)
        self.assertEqual(
            (notice.level, notice.text, notice.issued_by), (self.level2, "请各组立即按二级预警响应。", self.alice)
        )
        self.assertEqual(
            [(row.group.kind, row.requirement) for row in notice.assignments.all()],
            [("handling", "联系平台删除不实帖文"), ("publicity", "")],
        )
        incident.refresh_from_db()
        self.assertEqual(incident.state, State.WARNING)
        self.assertEqual({g.kind for g in incident.assigned_groups.all()}, {"handling", "publicity"})
        # In the hash-chained record: the entry of the warning carries the notice.
        entry = TimelineEntry.objects.get(incident=incident, to_state=State.WARNING)
        self.assertIn("请各组立即按二级预警响应。", entry.summary)
        self.assertEqual(entry.details["notice"]["groups"][0]["requirement"], "联系平台删除不实帖文")
        self.assertTrue(incident_record_verify(incident=incident).intact)

    def test_without_groups_it_notifies_the_groups_already_assigned(self) -> None:
        incident = self.assessed()
        svc.incident_assign_groups(incident_id=incident.pk, actor=self.alice, groups=[self.group("handling")])
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level2)
        notice = WarningNotice.objects.get(incident=incident)
        self.assertEqual([row.group.kind for row in notice.assignments.all()], ["handling"])

    def test_another_units_group_is_refused_and_nothing_is_issued(self) -> None:
        incident = self.assessed()
        with self.assertRaises(DomainError) as refused:
            svc.incident_issue_warning(
                incident_id=incident.pk,
                actor=self.alice,
                level=self.level2,
                groups=[(self.group("handling", self.other_unit), "")],
            )
        self.assertEqual(refused.exception.field, "groups")
        self.assertEqual(Incident.objects.get(pk=incident.pk).state, State.ASSESSING)
        self.assertFalse(WarningNotice.objects.exists())

    def test_the_page_offers_text_groups_and_requirements_prefilled_from_the_assessment(self) -> None:
        incident = self.assessed()
        self.login(self.alice)
        form = next(a["form"] for a in self.page(incident).context["actions"] if a["action"].name == "issue_warning")
        self.assertIn("不实信息", form.initial["text"])
        self.assertIn("统一口径回应", form.initial["text"])
        page = self.page(incident)
        handling = self.group("handling")
        self.assertContains(page, 'name="text"')
        self.assertContains(page, f'name="requirement_{handling.pk}"')
        self.assertContains(page, f'value="{handling.pk}"')

    def test_a_leader_issues_the_notice_from_the_page_and_it_shows_on_the_incident(self) -> None:
        incident = self.assessed()
        handling = self.group("handling")
        self.login(self.alice)
        response = self.act(
            incident,
            "issue_warning",
            level=self.level2.pk,
            text="二级预警：今日 18 时前完成澄清。",
            groups=[handling.pk],
            **{f"requirement_{handling.pk}": "联系平台删除不实帖文"},
        )
        self.assertEqual(response.status_code, 302)
        page = self.page(incident)
        self.assertContains(page, 'id="warning-notices"')
        self.assertContains(page, "二级预警：今日 18 时前完成澄清。")
        self.assertContains(page, "联系平台删除不实帖文")

    def test_a_bad_group_on_the_page_is_named_and_the_text_is_kept(self) -> None:
        incident = self.assessed()
        self.login(self.alice)
        response = self.act(
            incident,
            "issue_warning",
            level=self.level2.pk,
            text="保留这段预警内容",
            groups=[self.group("handling", self.other_unit).pk],
        )
        self.assertContains(response, "保留这段预警内容", status_code=400)
        self.assertContains(response, 'id="id_issue_warning_groups_error"', status_code=400)
        self.assertFalse(WarningNotice.objects.exists())

    def test_a_level_change_may_carry_a_notice(self) -> None:
        incident = self.responding()
        svc.incident_change_level(incident_id=incident.pk, actor=self.alice, level=self.level2, reason="扩散")
        self.assertFalse(WarningNotice.objects.filter(kind="level_changed").exists())
        svc.incident_change_level(
            incident_id=incident.pk,
            actor=self.alice,
            level=self.level1,
            reason="上了热搜",
            text="一级响应，领导小组全员到岗",
            groups=[(self.group("support"), "保障值班人员")],
        )
        notice = WarningNotice.objects.get(kind="level_changed")
        self.assertEqual((notice.level, notice.text), (self.level1, "一级响应，领导小组全员到岗"))
        entry = TimelineEntry.objects.filter(incident=incident, kind="level").order_by("-seq").first()
        assert entry is not None
        self.assertIn("一级响应，领导小组全员到岗", entry.summary)

    def test_a_level_change_from_the_page_sends_a_notice_only_when_asked(self) -> None:
        incident = self.responding()
        self.login(self.alice)
        self.act(incident, "change_level", level=self.level2.pk, reason="扩散", text="不发")
        self.assertFalse(WarningNotice.objects.filter(kind="level_changed").exists())
        self.act(incident, "change_level", level=self.level1.pk, reason="热搜", send_notice="on", text="一级响应")
        self.assertTrue(WarningNotice.objects.filter(kind="level_changed", text="一级响应").exists())

    def test_the_api_issues_the_notice_shows_it_and_refuses_another_units_group(self) -> None:
        incident = self.assessed()
        client = self.client_for(self.alice)
        url = f"/api/v1/incidents/{incident.pk}/issue-warning/"
        foreign = self.group("handling", self.other_unit)
        refused = client.post(url, {"level": self.level2.pk, "groups": [{"group": foreign.pk}]}, format="json")
        self.assertEqual(refused.status_code, 400)
        self.assertFalse(WarningNotice.objects.exists())
        handling = self.group("handling")
        response = client.post(
            url,
            {"level": self.level2.pk, "text": "请立即处置", "groups": [{"group": handling.pk, "requirement": "删帖"}]},
            format="json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        [notice] = response.json()["warning_notices"]
        self.assertEqual(notice["text"], "请立即处置")
        self.assertEqual(notice["groups"], [{"group": handling.pk, "group_name": handling.name, "requirement": "删帖"}])
        timeline = client.get(f"/api/v1/incidents/{incident.pk}/timeline/").json()
        self.assertEqual(timeline[-2]["details"]["notice"]["text"], "请立即处置")


class ReportPaperTests(PapersTestCase):
    def test_the_written_report_is_drafted_from_the_record(self) -> None:
        incident = self.responding(description="家长群转发食堂视频")
        records.measure_record(
            incident_id=incident.pk,
            actor=self.hank,
            kind="clarification",
            description="官方微博发布情况说明",
            taken_at=timezone.now(),
            target="微博",
            outcome="转发量下降",
        )
        self.login(self.olga)
        url = reverse("incident_detail", args=[incident.pk])
        panel = self.client.get(url, {"panel": "report"}, headers={"HX-Request": "true"})
        self.assertContains(panel, "家长群转发食堂视频")  # 起因: the description
        self.assertContains(panel, "舆情性质：不实信息")  # 基本事实: the assessment
        self.assertContains(panel, "澄清辟谣（微博）：官方微博发布情况说明，结果：转发量下降")  # 已采取措施
        self.assertContains(panel, "目前处于“处置”阶段。")
        self.assertContains(panel, f'name="reported_to" value="{self.group("leadership").name}"')
        self.assertContains(panel, 'value="written" selected')

    def test_the_leader_reads_the_written_report_in_full_before_signing(self) -> None:
        incident = self.log_incident()
        report = self.written(incident)
        self.login(self.alice)
        page = self.page(incident)
        self.assertContains(page, "家长在微博发布视频称饭菜变质")
        self.assertContains(page, "经查视频系 2019 年外地旧闻")
        self.assertContains(page, "已联系平台标注并发布澄清")
        self.assertContains(page, f'id="instruction-{report.pk}"')

    def test_a_leader_signs_with_an_instruction_kept_in_the_hash_chained_record(self) -> None:
        incident = self.log_incident()
        report = self.written(incident)
        self.login(self.alice)
        response = self.client.post(
            reverse("incident_act", args=[incident.pk, "report_sign_off"]),
            {"object_id": report.pk, "comment": "同意。请宣传组今日发布澄清。"},
        )
        self.assertEqual(response.status_code, 302)
        report.refresh_from_db()
        self.assertEqual((report.signed_off_by, report.sign_off_comment), (self.alice, "同意。请宣传组今日发布澄清。"))
        approval = Approval.objects.get(report=report)
        self.assertEqual(approval.comment, "同意。请宣传组今日发布澄清。")
        self.assertIn("同意。请宣传组今日发布澄清。", approval.entry.summary)  # type: ignore[union-attr]
        self.assertTrue(incident_record_verify(incident=incident).intact)
        self.assertContains(self.page(incident), f'data-testid="report-instruction-{report.pk}"')

    def test_the_api_signs_with_an_instruction(self) -> None:
        incident = self.log_incident()
        report = self.written(incident)
        response = self.client_for(self.alice).post(
            f"/api/v1/reports/{report.pk}/sign-off/", {"comment": "已阅，按此办理"}, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["sign_off_comment"], "已阅，按此办理")
        self.assertEqual(Approval.objects.get(report=report).comment, "已阅，按此办理")

    def test_the_review_is_drafted_from_the_records_figures(self) -> None:
        incident = self.log_incident(minutes_ago=40)
        records.report_record(
            incident_id=incident.pk,
            actor=self.olga,
            kind="oral",
            reported_to="领导小组",
            occurred_at=incident.discovered_at + timezone.timedelta(minutes=10),
            summary="电话报告组长",
        )
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="不实信息", scope="本地", trend="rising", risk="high"
        )
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level3)
        svc.incident_start_response(incident_id=incident.pk, actor=self.hank)
        svc.incident_start_tracking(incident_id=incident.pk, actor=self.hank)
        svc.incident_start_review(incident_id=incident.pk, actor=self.alice, clocks=self.waive_all(incident))
        self.login(self.alice)
        url = reverse("incident_detail", args=[incident.pk])
        panel = self.client.get(url, {"panel": "review"}, headers={"HX-Request": "true"})
        self.assertContains(panel, "首次报告（口头报告）：发现后 10 分钟。")
        self.assertContains(panel, "发布预警：发现后 40 分钟。")
        self.assertContains(panel, "口头报告：按时完成（提前 20 分钟）")
        self.assertContains(panel, "书面报告：已豁免")
        self.assertContains(panel, "按时 1 项，逾期完成 0 项，逾期未完成 0 项。")

    def test_the_review_stays_on_the_incident_page_once_saved(self) -> None:
        incident = self.responding()
        svc.incident_start_tracking(incident_id=incident.pk, actor=self.hank)
        svc.incident_start_review(incident_id=incident.pk, actor=self.alice, clocks=self.waive_all(incident))
        self.login(self.alice)
        response = self.act(
            incident, "review", summary="两小时内完成澄清", evaluation="处置及时", lessons="夜间值守需加强"
        )
        self.assertEqual(response.status_code, 302)
        page = self.page(incident)
        self.assertContains(page, 'data-testid="review"')
        self.assertContains(page, "两小时内完成澄清")
        self.assertContains(page, "夜间值守需加强")


class ReviewToPlanTests(PapersTestCase):
    def reviewed(self, suggestion: str = "口头报告时限缩短为 20 分钟") -> Incident:
        incident = self.responding()
        svc.incident_start_tracking(incident_id=incident.pk, actor=self.hank)
        svc.incident_start_review(incident_id=incident.pk, actor=self.alice, clocks=self.waive_all(incident))
        svc.review_record(
            incident_id=incident.pk,
            actor=self.olga,
            summary="两小时内完成澄清",
            evaluation="处置及时",
            plan_suggestions=suggestion,
        )
        return Incident.objects.get(pk=incident.pk)

    def test_a_suggested_change_becomes_a_plan_draft_in_one_step_and_the_history_names_its_review(self) -> None:
        incident = self.reviewed()
        self.login(self.hank)
        self.assertNotContains(self.page(incident), "据此修订预案")  # not one who runs the plan
        self.login(self.uma)
        url = reverse("unit_plans:from_review", args=[incident.review.pk])
        self.assertContains(self.page(incident), f'action="{url}"')
        response = self.client.post(url)
        draft = EmergencyPlan.objects.get(organization=self.unit, status="draft")
        self.assertRedirects(response, reverse("unit_plans:detail", args=[draft.pk]), fetch_redirect_response=False)
        self.assertEqual(draft.source_review, incident.review)
        self.assertEqual(draft.based_on, self.plan)
        self.assertIn(incident.reference, draft.change_note)
        self.assertIn("口头报告时限缩短为 20 分钟", draft.change_note)
        versions = self.client.get(reverse("unit_plans:list"))
        self.assertContains(versions, f"{incident.reference} 的总结评估")
        self.assertContains(self.page(incident), f"已据此创建预案第 {draft.version} 版")
        again = self.client.post(url, follow=True)  # one draft at a time
        self.assertContains(again, "本单位已有一份预案草稿")
        self.assertEqual(EmergencyPlan.objects.filter(organization=self.unit, status="draft").count(), 1)

    def test_a_review_without_a_suggestion_or_of_another_unit_makes_no_draft(self) -> None:
        incident = self.reviewed(suggestion="")
        self.login(self.uma)
        self.assertNotContains(self.page(incident), "据此修订预案")
        url = reverse("unit_plans:from_review", args=[incident.review.pk])
        self.assertContains(self.client.post(url, follow=True), "这份总结评估没有预案修订建议")
        self.login(self.carl)  # another unit's administrator
        self.assertEqual(self.client.post(url).status_code, 404)
        self.assertFalse(EmergencyPlan.objects.filter(status="draft").exists())


class StatementPaperTests(PapersTestCase):
    def statement(self, incident: Incident, text: str = "经核查，网传视频系旧闻。") -> Statement:
        return st.statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text=text)

    def test_the_statement_page_compares_the_versions_side_by_side(self) -> None:
        incident = self.responding()
        statement = self.statement(incident, "经核查，网传视频系旧闻。")
        st.statement_revise(statement_id=statement.pk, actor=self.sara, text="经核查，网传视频系 2019 年外地旧闻。")
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        self.login(self.alice)
        page = self.client.get(reverse("statement_detail", args=[statement.pk]))
        self.assertContains(page, 'data-testid="version-change"')
        self.assertContains(page, "<ins> 2019 年外地</ins>")
        self.assertContains(page, "第 1 版（修改前）")
        self.assertContains(page, reverse("statement_op", args=[statement.pk, "decide"]))
        self.assertContains(self.page(incident), f'data-testid="compare-{statement.pk}"')

    def test_the_dashboard_card_shows_what_changed_before_approval(self) -> None:
        incident = self.responding()
        statement = self.statement(incident, "学校已停止使用该供应商。")
        st.statement_revise(statement_id=statement.pk, actor=self.sara, text="学校已暂停使用该供应商。")
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        self.login(self.alice)
        page = self.client.get(reverse("dashboard_live"))
        self.assertContains(page, 'data-testid="approval-change"')
        self.assertContains(page, "<del>止</del>")  # character by character: 停止 → 暂停
        self.assertContains(page, "<ins>暂</ins>")

    def test_a_leader_decides_on_the_statement_page_and_comes_back_to_it(self) -> None:
        incident = self.responding()
        statement = self.statement(incident)
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        self.login(self.alice)
        url = reverse("statement_op", args=[statement.pk, "decide"])
        version = Statement.objects.get(pk=statement.pk).version
        response = self.client.post(
            url, {"decision": "reject", "comment": "", "expected_version": version, "from": "statement"}
        )
        self.assertContains(response, "退回时请填写修改意见。", status_code=400)
        response = self.client.post(
            url, {"decision": "reject", "comment": "补充时间", "expected_version": version, "from": "statement"}
        )
        self.assertRedirects(response, reverse("statement_detail", args=[statement.pk]), fetch_redirect_response=False)
        self.assertEqual(Statement.objects.get(pk=statement.pk).status, Statement.Status.REJECTED)

    def test_the_drafter_withdraws_a_submitted_statement(self) -> None:
        incident = self.responding()
        statement = self.statement(incident)
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        self.login(self.sara)
        detail = self.client.get(reverse("statement_detail", args=[statement.pk]))
        self.assertContains(detail, reverse("statement_op", args=[statement.pk, "withdraw"]))
        response = self.client.post(
            reverse("statement_op", args=[statement.pk, "withdraw"]),
            {"expected_version": Statement.objects.get(pk=statement.pk).version, "from": "statement"},
        )
        self.assertEqual(response.status_code, 302)
        statement.refresh_from_db()
        self.assertEqual(statement.status, Statement.Status.DRAFT)
        self.assertTrue(TimelineEntry.objects.filter(incident=incident, summary__startswith="撤回回应稿").exists())
        with self.assertRaises(InvalidTransition):
            st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        # Revised and submitted again, it goes through as before.
        st.statement_revise(statement_id=statement.pk, actor=self.sara, text="修改后的口径")
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        self.assertEqual(Statement.objects.get(pk=statement.pk).status, Statement.Status.APPROVED)

    def test_only_drafters_withdraw_and_only_before_a_decision(self) -> None:
        incident = self.responding()
        statement = self.statement(incident)
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        with self.assertRaises(NotPermitted):
            st.statement_withdraw(statement_id=statement.pk, actor=self.bob)
        st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        with self.assertRaises(InvalidTransition):
            st.statement_withdraw(statement_id=statement.pk, actor=self.sara)

    def test_the_api_withdraws(self) -> None:
        incident = self.responding()
        statement = self.statement(incident)
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        response = self.client_for(self.sara).post(f"/api/v1/statements/{statement.pk}/withdraw/", {}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "draft")


class LegalReviewTests(PapersTestCase):
    def submitted(self) -> Statement:
        self.plan_settings(legal_review=True)
        incident = self.responding()
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="经核查……")
        return st.statement_submit(statement_id=statement.pk, actor=self.sara)

    def test_the_legal_group_reviews_before_the_leaders_decide(self) -> None:
        statement = self.submitted()
        self.assertEqual(statement.status, Statement.Status.LEGAL_REVIEW)
        with self.assertRaises(InvalidTransition):
            st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        with self.assertRaises(NotPermitted):
            st.statement_legal_review(statement_id=statement.pk, actor=self.alice, approve=True)
        st.statement_legal_review(statement_id=statement.pk, actor=self.lee, approve=True, comment="未见法律风险")
        statement.refresh_from_db()
        self.assertEqual(statement.status, Statement.Status.SUBMITTED)
        version = statement.versions.get()
        self.assertEqual((version.legal_decision, version.legal_reviewed_by), ("approved", self.lee))
        self.assertTrue(
            TimelineEntry.objects.filter(incident=statement.incident, summary__startswith="法律审核通过").exists()
        )
        st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        self.assertEqual(Statement.objects.get(pk=statement.pk).status, Statement.Status.APPROVED)

    def test_a_return_needs_a_comment_and_goes_back_to_the_drafter(self) -> None:
        statement = self.submitted()
        with self.assertRaises(DomainError) as refused:
            st.statement_legal_review(statement_id=statement.pk, actor=self.lee, approve=False, comment=" ")
        self.assertEqual(refused.exception.field, "comment")
        st.statement_legal_review(statement_id=statement.pk, actor=self.lee, approve=False, comment="删去当事人姓名")
        self.assertEqual(Statement.objects.get(pk=statement.pk).status, Statement.Status.REJECTED)

    def test_the_legal_reviewer_sees_the_form_on_the_statement_page_and_the_leader_does_not(self) -> None:
        statement = self.submitted()
        url = reverse("statement_detail", args=[statement.pk])
        self.login(self.lee)
        self.assertContains(self.client.get(url), reverse("statement_op", args=[statement.pk, "legal_review"]))
        self.login(self.alice)
        page = self.client.get(url)
        self.assertNotContains(page, reverse("statement_op", args=[statement.pk, "legal_review"]))
        self.assertNotContains(page, reverse("statement_op", args=[statement.pk, "decide"]))
        self.login(self.lee)
        response = self.client.post(
            reverse("statement_op", args=[statement.pk, "legal_review"]),
            {"decision": "approve", "comment": "", "expected_version": statement.version, "from": "statement"},
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Statement.objects.get(pk=statement.pk).status, Statement.Status.SUBMITTED)

    def test_the_api_reviews(self) -> None:
        statement = self.submitted()
        client = self.client_for(self.lee)
        refused = client.post(f"/api/v1/statements/{statement.pk}/legal-reject/", {}, format="json")
        self.assertEqual(refused.status_code, 400)
        response = client.post(f"/api/v1/statements/{statement.pk}/legal-approve/", {"comment": "可"}, format="json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["versions"][0]["legal_decision"], "approved")
        self.assertEqual(
            self.client_for(self.alice).post(f"/api/v1/statements/{statement.pk}/legal-approve/", {}).status_code, 403
        )

    def test_a_plan_without_legal_review_goes_straight_to_the_leaders(self) -> None:
        incident = self.responding()
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="经核查……")
        self.assertEqual(st.statement_submit(statement_id=statement.pk, actor=self.sara).status, "submitted")

    def test_it_is_a_plan_setting_edited_compared_and_copied_into_revisions(self) -> None:
        draft = plan_services.plan_create_revision(plan=self.plan, actor=self.uma, change_note="增加法律审核")
        self.client.force_login(self.uma)
        initial = PlanHeaderForm.initial_for(draft)
        data = {f"header-{name}": value for name, value in initial.items() if name not in ("escalation_chain",)}
        data = {key: value for key, value in data.items() if value not in (False, None)}
        data["header-workday_end"] = draft.workday_end.strftime("%H:%M")
        data["header-legal_review"] = "on"
        for n, code in enumerate([*draft.escalation_chain, "", "", "", "", ""][:5]):
            data[f"header-escalation_chain_{n}"] = code
        response = self.client.post(reverse("unit_plans:header", args=[draft.pk]), data)
        self.assertEqual(response.status_code, 302, response.content[:2000])
        draft.refresh_from_db()
        self.assertTrue(draft.legal_review)
        old, new = (plans_with_parts().get(pk=pk) for pk in (self.plan.pk, draft.pk))
        self.assertIn(("法律审核", "关闭", "开启"), [(c.label, c.old, c.new) for c in plans_compare(old, new).header])
        plan_services.plan_activate(plan=draft, actor=self.uma)
        revision = plan_services.plan_create_revision(plan=draft, actor=self.uma, change_note="再修订")
        self.assertTrue(revision.legal_review)


class WaitingTests(PapersTestCase):
    def waiting(self, user: Any) -> dict[str, Any]:
        self.login(user)
        context = self.client.get(reverse("dashboard_live")).context
        return {**context["waiting"], "approvals": [card["statement"] for card in context["approvals"]]}

    def test_an_analyst_sees_new_incidents_to_take_into_assessment_and_to_assess(self) -> None:
        new = self.log_incident(title="刚登记的舆情")
        taken = self.log_incident(title="已转研判未研判")
        svc.incident_start_assessment(incident_id=taken.pk, actor=self.ann)
        done = self.assessed(title="已研判")
        waiting = self.waiting(self.ann)
        self.assertEqual([i.pk for i in waiting["to_assess"]], [new.pk, taken.pk])
        self.assertNotIn(done.pk, [i.pk for i in waiting["to_assess"]])
        page = self.client.get(reverse("home"))
        self.assertContains(page, "刚登记的舆情")
        self.assertContains(page, "监测中，待转入研判")
        self.assertNotContains(page, "暂无待办事项。")

    def test_a_legal_reviewer_sees_the_statements_waiting_for_review(self) -> None:
        self.plan_settings(legal_review=True)
        incident = self.responding()
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="待法审的通报", text="正文")
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        self.assertEqual([s.pk for s in self.waiting(self.lee)["legal_reviews"]], [statement.pk])
        self.assertEqual(self.waiting(self.alice)["approvals"], [])

    def test_a_drafter_sees_the_statements_sent_back(self) -> None:
        incident = self.responding()
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="被退回的通报", text="正文")
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        st.statement_decide(statement_id=statement.pk, actor=self.alice, approve=False, comment="补充")
        self.assertEqual([s.pk for s in self.waiting(self.sara)["sent_back"]], [statement.pk])
        self.assertContains(self.client.get(reverse("home")), "被退回修改的回应稿")

    def test_each_person_sees_their_own_clocks(self) -> None:
        incident = self.log_incident()
        office_clocks = set(
            Deadline.objects.filter(incident=incident, owner_group__kind="office").values_list("pk", flat=True)
        )
        self.assertTrue(office_clocks)
        self.assertEqual({d.pk for d in self.waiting(self.olga)["my_clocks"]}, office_clocks)
        self.assertFalse(office_clocks & {d.pk for d in self.waiting(self.bob)["my_clocks"]})

    def test_under_four_eyes_a_leader_is_not_asked_to_approve_or_sign_their_own_papers(self) -> None:
        self.plan_settings(four_eyes=True)
        incident = self.responding()
        statement = st.statement_create(incident_id=incident.pk, actor=self.alice, title="领导起草", text="正文")
        st.statement_submit(statement_id=statement.pk, actor=self.alice)
        self.written(incident, reporter=self.alice)
        alice, leo = self.waiting(self.alice), self.waiting(self.leo)
        self.assertEqual((alice["approvals"], alice["sign_offs"]), ([], []))
        self.assertEqual(([s.pk for s in leo["approvals"]], len(leo["sign_offs"])), ([statement.pk], 1))

    def test_the_waiting_list_costs_the_same_queries_whatever_the_number_of_rows(self) -> None:
        self.plan_settings(legal_review=True)

        def add_rows(n: int) -> None:
            incident = self.responding(title=f"舆情{n}")
            self.log_incident(title=f"新舆情{n}")
            statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title=f"稿{n}", text="正文")
            st.statement_submit(statement_id=statement.pk, actor=self.sara)
            back = st.statement_create(incident_id=incident.pk, actor=self.sara, title=f"退{n}", text="正文")
            st.statement_submit(statement_id=back.pk, actor=self.sara)
            st.statement_legal_review(statement_id=back.pk, actor=self.lee, approve=False, comment="改")
            self.written(incident)

        add_rows(0)
        people = [self.ann, self.lee, self.sara, self.olga, self.alice]
        counts = {}
        for person in people:
            self.login(person)
            # Once per unit and process: the statistics are counted, the frozen plan parts read.
            self.client.get(reverse("home"))
            cache.clear()
            with CaptureQueriesContext(connection) as few:
                self.client.get(reverse("home"))
            counts[person.username] = len(few.captured_queries)
        for n in range(1, 4):
            add_rows(n)
        for person in people:
            self.login(person)
            cache.clear()
            with self.subTest(person=person.username), self.assertNumQueries(counts[person.username]):
                self.client.get(reverse("home"))
