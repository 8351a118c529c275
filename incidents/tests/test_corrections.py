"""Correcting the record, as the people in the plan do it: the facts of an open incident (with the
舆情类型 the plan defines, and a discovery time that needs a reason and re-plans the clocks), a
duplicate merged into another incident, and related incidents linked both ways."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from incidents.integrity import incident_record_verify
from incidents.models import Deadline, Incident, IncidentLink, IncidentType, State, TimelineEntry
from incidents.services import incidents as svc
from incidents.services.corrections import incident_by_reference, incident_link, incident_merge
from incidents.services.deadlines import deadline_decide
from integrations.testing import ApiTestCase
from monitoring.models import Mention
from monitoring.services import mention_create
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted
from opinion_ops.testing import PASSWORD, BaseTestCase, sign_in

LOCAL = "%Y-%m-%dT%H:%M"


def local(at: Any) -> str:
    return timezone.localtime(at).strftime(LOCAL)


class PageTestCase(BaseTestCase):
    def login(self, user: Any) -> None:
        self.client.logout()
        self.assertTrue(sign_in(self.client, user.username, PASSWORD))

    def page(self, incident: Incident) -> Any:
        return self.client.get(reverse("incident_detail", args=[incident.pk]))

    def act(self, incident: Incident, action: str, **data: Any) -> Any:
        incident = Incident.objects.get(pk=incident.pk)
        data.setdefault("expected_version", incident.version)
        return self.client.post(reverse("incident_act", args=[incident.pk, action]), data)

    def edit_data(self, incident: Incident, **changes: Any) -> dict[str, Any]:
        """The edit form as the page fills it in, with `changes` typed over it."""
        data = {
            "title": incident.title,
            "platform": incident.platform,
            "incident_type": incident.incident_type_id or "",
            "discovered_at": local(incident.discovered_at),
            "reason": "",
            "description": incident.description,
            "source_links": incident.source_links,
        }
        return {**data, **changes}

    def actions_drawn(self, incident: Incident) -> set[str]:
        return {item["action"].name for item in self.page(incident).context["actions"]}


class EditTests(PageTestCase):
    def test_it_corrects_the_facts_from_the_incident_page_with_old_and_new_values_on_the_timeline(self) -> None:
        incident = self.log_incident(title="网传某校食堂饭菜变质", platform="weibo")
        rumour = self.plan.incident_types.order_by("order", "id").first()
        self.login(self.bob)
        self.assertIn("edit", self.actions_drawn(incident))
        response = self.act(
            incident,
            "edit",
            **self.edit_data(
                incident,
                title="网传某校食堂饭菜变质（经核实为旧图）",
                platform="douyin",
                incident_type=rumour.pk,
                source_links="https://www.douyin.com/video/1",
            ),
        )
        self.assertRedirects(response, reverse("incident_detail", args=[incident.pk]))
        incident.refresh_from_db()
        self.assertEqual(
            (incident.title, incident.platform, incident.incident_type, incident.source_links),
            ("网传某校食堂饭菜变质（经核实为旧图）", "douyin", rumour, "https://www.douyin.com/video/1"),
        )
        entry = TimelineEntry.objects.filter(incident=incident, kind="edited").get()
        self.assertIn("标题“网传某校食堂饭菜变质”→“网传某校食堂饭菜变质（经核实为旧图）”", entry.summary)
        self.assertIn("平台“微博”→“抖音”", entry.summary)
        self.assertIn(f"舆情类型“—”→“{rumour.name}”", entry.summary)
        self.assertIn("来源链接已修改", entry.summary)
        self.assertEqual(entry.details["changes"]["platform"], {"from": "weibo", "to": "douyin"})
        page = self.page(incident)
        self.assertContains(page, entry.summary)
        self.assertContains(page, f'<dd data-testid="incident-type">{rumour.name}</dd>', html=True)

    def test_it_moves_the_discovery_time_with_a_reason_and_replans_the_clocks(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        oral = Deadline.objects.get(incident=incident, kind="oral_report")
        earlier = timezone.localtime().replace(second=0, microsecond=0) - timedelta(minutes=20)
        self.login(self.bob)
        response = self.act(
            incident,
            "edit",
            **self.edit_data(incident, discovered_at=earlier.strftime(LOCAL), reason="监测值班记录显示更早发现"),
        )
        self.assertEqual(response.status_code, 302)
        incident.refresh_from_db()
        self.assertEqual(incident.discovered_at, earlier)
        oral.refresh_from_db()
        self.assertEqual(oral.due_at, earlier + timedelta(minutes=30))
        edited = TimelineEntry.objects.get(incident=incident, kind="edited")
        self.assertEqual(edited.details["reason"], "监测值班记录显示更早发现")
        self.assertIn("（理由：监测值班记录显示更早发现）", edited.summary)
        replanned = TimelineEntry.objects.filter(incident=incident, kind="deadline").latest("seq")
        self.assertIn("更正发现时间", replanned.summary)
        self.assertTrue(incident_record_verify(incident=incident).intact)

    def test_a_new_discovery_time_needs_a_reason_and_nothing_is_saved_without_one(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        earlier = timezone.now() - timedelta(minutes=20)
        with self.assertRaises(DomainError) as refused:
            svc.incident_update(incident_id=incident.pk, actor=self.bob, title="改了标题", discovered_at=earlier)
        self.assertEqual(refused.exception.field, "reason")
        self.login(self.bob)
        response = self.act(
            incident, "edit", **self.edit_data(incident, title="改了标题", discovered_at=local(earlier))
        )
        self.assertContains(response, "修改发现时间须填写理由，理由将记入处置记录。", status_code=400)
        self.assertContains(response, 'id="id_edit_reason_error"', status_code=400)
        self.assertContains(response, 'value="改了标题"', status_code=400)
        unchanged = Incident.objects.get(pk=incident.pk)
        self.assertEqual((unchanged.title, unchanged.discovered_at), (incident.title, incident.discovered_at))
        self.assertFalse(TimelineEntry.objects.filter(incident=incident, kind="edited").exists())

    def test_a_discovery_time_in_the_future_is_refused_next_to_the_field_and_what_was_typed_is_kept(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        tomorrow = timezone.localtime() + timedelta(days=1)
        self.login(self.bob)
        response = self.act(
            incident,
            "edit",
            **self.edit_data(incident, title="新标题", discovered_at=tomorrow.strftime(LOCAL), reason="录错了"),
        )
        self.assertContains(response, "发现时间不能晚于当前时间。", status_code=400)
        self.assertContains(response, 'id="id_edit_discovered_at_error"', status_code=400)
        self.assertContains(response, f'value="{tomorrow.strftime(LOCAL)}"', status_code=400)
        self.assertContains(response, 'value="新标题"', status_code=400)
        self.assertContains(response, "录错了", status_code=400)
        self.assertEqual(Incident.objects.get(pk=incident.pk).title, incident.title)
        self.assertEqual(Incident.objects.get(pk=incident.pk).version, incident.version)

    def test_a_discovery_time_older_than_the_unit_allows_is_refused(self) -> None:
        incident = self.log_incident(minutes_ago=5)
        too_old = timezone.now() - timedelta(days=settings.INCIDENT_DISCOVERED_MAX_AGE_DAYS + 1)
        with self.assertRaises(DomainError) as refused:
            svc.incident_update(incident_id=incident.pk, actor=self.bob, discovered_at=too_old, reason="补录")
        self.assertEqual(refused.exception.field, "discovered_at")
        self.assertIn("发现时间不能早于", str(refused.exception.message))

    def test_the_form_posted_back_unchanged_changes_nothing_and_asks_no_reason(self) -> None:
        incident = self.log_incident(minutes_ago=7)  # discovered at a time with seconds: the form shows minutes
        self.login(self.bob)
        self.assertEqual(self.act(incident, "edit", **self.edit_data(incident)).status_code, 302)
        self.assertEqual(Incident.objects.get(pk=incident.pk).discovered_at, incident.discovered_at)
        self.assertFalse(TimelineEntry.objects.filter(incident=incident, kind="edited").exists())

    def test_only_the_units_working_groups_correct_an_open_incident(self) -> None:
        incident = self.log_incident()
        self.login(self.nina)
        self.assertNotIn("edit", self.actions_drawn(incident))
        self.assertEqual(self.act(incident, "edit", **self.edit_data(incident, title="无权修改")).status_code, 403)
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.incident_dismiss(incident_id=incident.pk, actor=self.ann, reason="非舆情")
        self.login(self.bob)
        self.assertNotIn("edit", self.actions_drawn(incident))
        self.assertEqual(Incident.objects.get(pk=incident.pk).title, incident.title)


class TypeTests(PageTestCase):
    def test_an_incident_is_logged_with_the_type_of_the_units_plan_and_the_page_shows_it(self) -> None:
        kind = self.plan.incident_types.order_by("order", "id").last()
        IncidentType.objects.create(plan=self.other_unit.plans.get(status="active"), name="邻区专属类型")
        self.login(self.bob)
        form = self.client.get(reverse("incident_new"))
        self.assertContains(form, kind.name)
        self.assertNotContains(form, "邻区专属类型")
        response = self.client.post(
            reverse("incident_new"),
            {
                "title": "网传某校学生信息泄露",
                "platform": "weibo",
                "incident_type": kind.pk,
                "discovered_at": local(timezone.now() - timedelta(minutes=3)),
            },
        )
        incident = Incident.objects.get(title="网传某校学生信息泄露")
        self.assertRedirects(response, reverse("incident_detail", args=[incident.pk]))
        self.assertEqual(incident.incident_type, kind)
        self.assertContains(self.page(incident), f'<dd data-testid="incident-type">{kind.name}</dd>', html=True)

    def test_another_units_type_is_refused_next_to_the_field(self) -> None:
        theirs = IncidentType.objects.create(plan=self.other_unit.plans.get(status="active"), name="邻区专属类型")
        self.login(self.bob)
        response = self.client.post(
            reverse("incident_new"),
            {"title": "某事", "platform": "weibo", "incident_type": theirs.pk, "discovered_at": local(timezone.now())},
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, 'id="id_incident_type_error"', status_code=400)
        self.assertFalse(Incident.objects.filter(title="某事").exists())


class ApiTests(ApiTestCase):
    def test_the_api_gives_the_type_and_asks_a_reason_for_a_new_discovery_time(self) -> None:
        kind = self.plan.incident_types.first()
        incident = self.log_incident(incident_type=kind)
        client = self.client_for(self.bob)
        url = f"/api/v1/incidents/{incident.pk}/"
        self.assertEqual(client.get(url).json()["incident_type_name"], kind.name)
        listed = client.get("/api/v1/incidents/").json()["results"][0]
        self.assertEqual((listed["incident_type"], listed["incident_type_name"]), (kind.pk, kind.name))
        earlier = (timezone.now() - timedelta(minutes=30)).isoformat()
        refused = client.patch(url, {"discovered_at": earlier}, content_type="application/json")
        self.assertEqual(refused.status_code, 400)
        self.assertIn("reason", refused.json()["error"]["fields"])
        accepted = client.patch(url, {"discovered_at": earlier, "reason": "值班记录"}, content_type="application/json")
        self.assertEqual(accepted.status_code, 200)
        self.assertEqual(TimelineEntry.objects.get(incident=incident, kind="edited").details["reason"], "值班记录")

    def test_merge_and_link_through_the_api_name_only_incidents_of_ones_own_unit(self) -> None:
        duplicate, survivor = self.log_incident(title="重复"), self.log_incident(title="主事件")
        theirs = self.log_incident(self.charlie, title="邻区舆情")
        client = self.client_for(self.ann)
        for action, body in (("merge", {"into": theirs.pk, "reason": "重复"}), ("link", {"related": theirs.pk})):
            ours = client.post(f"/api/v1/incidents/{duplicate.pk}/{action}/", body, content_type="application/json")
            missing = client.post(
                f"/api/v1/incidents/{duplicate.pk}/{action}/",
                {**body, **{key: 987_654 for key in ("into", "related") if key in body}},
                content_type="application/json",
            )
            self.assertEqual((ours.status_code, ours.json()["error"]["code"]), (400, "invalid"))
            self.assertEqual(ours.json()["error"]["fields"].keys(), missing.json()["error"]["fields"].keys())
            self.assertIn("对象不存在", str(ours.json()["error"]["fields"]))
        self.assertEqual(Incident.objects.get(pk=duplicate.pk).state, State.MONITORING)
        linked = client.post(
            f"/api/v1/incidents/{duplicate.pk}/link/", {"related": survivor.pk}, content_type="application/json"
        )
        self.assertEqual(linked.status_code, 200)
        merged = client.post(
            f"/api/v1/incidents/{duplicate.pk}/merge/",
            {"into": survivor.pk, "reason": "同一帖文重复登记"},
            content_type="application/json",
        )
        self.assertEqual(merged.status_code, 200)
        self.assertEqual((merged.json()["state"], merged.json()["merged_into"]), ("dismissed", survivor.pk))
        related = client.get(f"/api/v1/incidents/{survivor.pk}/related/").json()
        self.assertEqual([d["reference"] for d in related["merged_duplicates"]], [duplicate.reference])
        self.assertEqual([link["incident"]["id"] for link in related["links"]], [duplicate.pk])


class MergeTests(PageTestCase):
    def test_a_duplicate_is_merged_keeping_its_record_and_moving_its_posts(self) -> None:
        survivor = self.log_incident(title="网传某校食堂饭菜变质")
        duplicate = self.log_incident(user=self.bob, title="某校食堂饭菜问题（重复登记）")
        post = mention_create(actor=self.bob, platform="weibo", text="食堂饭菜发霉了", incident=duplicate)
        kept = list(TimelineEntry.objects.filter(incident=duplicate).order_by("seq").values_list("pk", "hash"))
        survivor_clocks = dict(Deadline.objects.filter(incident=survivor).values_list("pk", "status"))
        self.login(self.ann)
        self.assertIn("merge", self.actions_drawn(duplicate))
        response = self.act(duplicate, "merge", into=survivor.reference, reason="同一条微博重复登记")
        self.assertRedirects(response, reverse("incident_detail", args=[duplicate.pk]))
        duplicate.refresh_from_db()
        self.assertEqual((duplicate.state, duplicate.merged_into), (State.DISMISSED, survivor))
        self.assertEqual(duplicate.dismissal_reason, f"合并至 {survivor.reference}：同一条微博重复登记")
        # The duplicate's record stays where it was written, and goes on from there.
        after = list(TimelineEntry.objects.filter(incident=duplicate).order_by("seq").values_list("pk", "hash"))
        self.assertEqual(after[: len(kept)], kept)
        merged = TimelineEntry.objects.get(incident=duplicate, kind="transition", to_state=State.DISMISSED)
        self.assertIn(f"合并至 {survivor.reference}", merged.summary)
        self.assertIn("1 条关联帖文转入该舆情", merged.summary)
        self.assertEqual(Mention.objects.get(pk=post.pk).incident, survivor)
        into = TimelineEntry.objects.get(incident=survivor, kind="merge")
        self.assertIn(f"并入重复舆情 {duplicate.reference}", into.summary)
        self.assertEqual(into.details["moved"], {"mentions": [post.pk]})
        # Its clocks no longer count (the surviving incident counts its own); nothing of the survivor's moved.
        self.assertFalse(Deadline.objects.filter(incident=duplicate, status__in=Deadline.OPEN).exists())
        self.assertEqual(dict(Deadline.objects.filter(incident=survivor).values_list("pk", "status")), survivor_clocks)
        self.assertTrue(incident_record_verify(incident=duplicate).intact)
        self.assertTrue(incident_record_verify(incident=survivor).intact)
        # Both pages show the link.
        self.assertContains(self.page(duplicate), f'href="/incidents/{survivor.pk}/"')
        self.assertContains(self.page(duplicate), "本舆情为重复登记，已合并至")
        survivor_page = self.page(survivor)
        self.assertContains(survivor_page, "已并入的重复舆情")
        self.assertContains(survivor_page, f'href="/incidents/{duplicate.pk}/"')
        self.assertContains(survivor_page, "食堂饭菜发霉了")  # the post is on the surviving incident now
        self.assertNotIn("merge", self.actions_drawn(duplicate))

    def test_a_missed_clock_is_settled_by_a_leader_in_the_same_step(self) -> None:
        survivor = self.log_incident(title="主事件")
        duplicate = self.log_incident(title="重复", minutes_ago=40, logged_late=True)
        missed = Deadline.objects.get(incident=duplicate, kind="oral_report", status=Deadline.Status.MISSED)
        with self.assertRaises(InvalidTransition) as refused:
            incident_merge(incident_id=duplicate.pk, into_id=survivor.pk, actor=self.ann, reason="重复")
        self.assertIn("口头报告", str(refused.exception.message))
        self.login(self.ann)
        self.assertNotIn("merge", self.actions_drawn(duplicate))
        response = self.act(duplicate, "merge", into=survivor.reference, reason="重复")
        self.assertContains(response, "逾期须由领导小组成员在合并时逐项豁免或确认不再适用", status_code=400)
        self.login(self.alice)
        panel = self.client.get(
            reverse("incident_detail", args=[duplicate.pk]), {"panel": "merge"}, HTTP_HX_REQUEST="true"
        )
        self.assertIn(f"clock_{missed.pk}", panel.context["form"].fields)  # the panel's form, as it is opened
        no_reason = self.act(
            duplicate, "merge", into=survivor.reference, reason="重复", **{f"clock_{missed.pk}": "waive"}
        )
        self.assertEqual(no_reason.status_code, 400)
        self.assertEqual(Incident.objects.get(pk=duplicate.pk).state, State.MONITORING)
        done = self.act(
            duplicate,
            "merge",
            into=survivor.reference,
            reason="重复",
            **{f"clock_{missed.pk}": "not_applicable", f"reason_{missed.pk}": "已在主事件报告"},
        )
        self.assertEqual(done.status_code, 302)
        missed.refresh_from_db()
        self.assertEqual(
            (missed.status, missed.decided_by, missed.decision_reason), ("cancelled", self.alice, "已在主事件报告")
        )
        self.assertEqual(Incident.objects.get(pk=duplicate.pk).merged_into, survivor)

    def test_a_merge_across_units_is_refused_next_to_the_field_and_nothing_changes(self) -> None:
        duplicate = self.log_incident(title="重复")
        theirs = self.log_incident(self.charlie, title="邻区舆情")
        with self.assertRaises(DomainError) as refused:
            incident_merge(incident_id=duplicate.pk, into_id=theirs.pk, actor=self.alice, reason="重复")
        self.assertEqual(
            (refused.exception.field, str(refused.exception.message)), ("into", "本单位没有这起舆情，请核对编号。")
        )
        self.assertIsNone(incident_by_reference(organization_id=self.unit.pk, reference=f"{theirs.reference}x"))
        self.login(self.ann)
        response = self.act(duplicate, "merge", into="2026-9999", reason="同一事件")
        self.assertContains(response, "本单位没有这起舆情，请核对编号。", status_code=400)
        self.assertContains(response, 'id="id_merge_into_error"', status_code=400)
        self.assertContains(response, 'value="2026-9999"', status_code=400)
        self.assertContains(response, "同一事件", status_code=400)
        after = Incident.objects.get(pk=duplicate.pk)
        self.assertEqual(
            (after.state, after.merged_into_id, after.version), (State.MONITORING, None, duplicate.version)
        )
        self.assertEqual(Incident.objects.get(pk=theirs.pk).version, theirs.version)

    def test_it_refuses_merging_into_itself_or_into_a_closed_incident(self) -> None:
        duplicate, closed = self.log_incident(title="重复"), self.log_incident(title="已排除")
        svc.incident_start_assessment(incident_id=closed.pk, actor=self.ann)
        svc.incident_dismiss(incident_id=closed.pk, actor=self.ann, reason="非舆情")
        for into, message in ((duplicate, "不能选择本事件自身。"), (closed, "只能并入尚未办结的舆情")):
            with self.assertRaises(DomainError) as refused:
                incident_merge(incident_id=duplicate.pk, into_id=into.pk, actor=self.ann, reason="重复")
            self.assertEqual(refused.exception.field, "into")
            self.assertIn(message, str(refused.exception.message))
        self.assertEqual(Incident.objects.get(pk=duplicate.pk).state, State.MONITORING)

    def test_only_analysts_leaders_and_the_office_merge(self) -> None:
        duplicate, survivor = self.log_incident(title="重复"), self.log_incident(title="主事件")
        self.login(self.bob)
        self.assertNotIn("merge", self.actions_drawn(duplicate))
        self.assertEqual(self.act(duplicate, "merge", into=survivor.reference, reason="重复").status_code, 403)
        with self.assertRaises(NotPermitted):
            incident_merge(incident_id=duplicate.pk, into_id=survivor.pk, actor=self.hank, reason="重复")
        self.assertEqual(Incident.objects.get(pk=duplicate.pk).state, State.MONITORING)


class LinkTests(PageTestCase):
    def test_two_incidents_are_linked_both_ways_even_to_a_closed_one(self) -> None:
        earlier = self.log_incident(title="去年同类舆情", minutes_ago=60)
        svc.incident_start_assessment(incident_id=earlier.pk, actor=self.ann)
        svc.incident_dismiss(incident_id=earlier.pk, actor=self.ann, reason="已平息")
        current = self.log_incident(title="同类舆情再次出现")
        self.login(self.bob)
        response = self.act(current, "link", related=earlier.reference.replace("-000", "-"), note="同一话题反弹")
        self.assertEqual(response.status_code, 302)
        link = IncidentLink.objects.get()
        self.assertEqual({link.incident_id, link.related_id}, {current.pk, earlier.pk})
        for this, other in ((current, earlier), (earlier, current)):
            page = self.page(this)
            self.assertContains(page, f'href="/incidents/{other.pk}/"')
            self.assertContains(page, "同一话题反弹")
            entry = TimelineEntry.objects.get(incident=this, kind="link")
            self.assertIn(f"关联舆情 {other.reference}", entry.summary)
        again = self.act(current, "link", related=earlier.reference)
        self.assertContains(again, "这两起舆情已经关联。", status_code=400)
        self.assertEqual(IncidentLink.objects.count(), 1)

    def test_a_link_across_units_is_refused_and_nothing_changes(self) -> None:
        ours, theirs = self.log_incident(), self.log_incident(self.charlie, title="邻区舆情")
        with self.assertRaises(DomainError) as refused:
            incident_link(incident_id=ours.pk, related_id=theirs.pk, actor=self.bob)
        self.assertEqual(refused.exception.field, "related")
        self.assertFalse(IncidentLink.objects.exists())
        self.assertFalse(TimelineEntry.objects.filter(kind="link").exists())

    def test_the_superior_sees_only_the_linked_incidents_reported_up_to_it(self) -> None:
        reported, kept_home = self.log_incident(title="已上报舆情"), self.log_incident(title="未上报的内部舆情")
        incident_link(incident_id=reported.pk, related_id=kept_home.pk, actor=self.bob, note="内部备注")
        svc.incident_escalate(incident_id=reported.pk, actor=self.alice, note="报")
        self.login(self.sam)
        page = self.page(reported)
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, "未上报的内部舆情")  # the timeline names it by number only
        self.assertNotContains(page, f'href="/incidents/{kept_home.pk}/"')
        self.assertEqual(self.client.get(reverse("incident_detail", args=[kept_home.pk])).status_code, 404)


class AppendOnlyTests(BaseTestCase):
    def test_a_link_is_never_changed_or_removed(self) -> None:
        a, b = self.log_incident(), self.log_incident(title="另一起")
        link = incident_link(incident_id=a.pk, related_id=b.pk, actor=self.bob)
        with self.assertRaises(PermissionError):
            link.save()
        with self.assertRaises(PermissionError):
            link.delete()
        if connection.vendor == "postgresql":
            with self.assertRaises(DatabaseError), transaction.atomic():
                IncidentLink.objects.filter(pk=link.pk).update(note="改")

    def test_a_leader_can_still_waive_a_clock_of_a_merged_duplicate_that_was_missed_before(self) -> None:
        """A miss settled by the merge stays history; nothing else of the duplicate's clocks is open."""
        survivor = self.log_incident(title="主事件")
        duplicate = self.log_incident(title="重复", minutes_ago=40, logged_late=True)
        missed = Deadline.objects.get(incident=duplicate, status=Deadline.Status.MISSED)
        incident_merge(
            incident_id=duplicate.pk,
            into_id=survivor.pk,
            actor=self.alice,
            reason="重复",
            clocks={missed.pk: {"resolution": "waive", "reason": "主事件已报告"}},
        )
        self.assertEqual(Deadline.objects.get(pk=missed.pk).status, Deadline.Status.WAIVED)
        with self.assertRaises(InvalidTransition):
            deadline_decide(deadline_id=missed.pk, actor=self.alice, action="waive_deadline", reason="再次")
