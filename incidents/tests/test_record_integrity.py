"""The tamper-evident record: every writer extends one hash chain per incident (the sweeper too),
approvals are anchored in it, the database refuses to change either, and `verify_record` and the
incident page find — and name — a row changed or removed behind the application's back."""

import hashlib
import json
from datetime import UTC, timedelta
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase
from django.urls import reverse
from django.utils import timezone

from incidents.integrity import (
    APPROVAL_DISAGREES,
    APPROVAL_MISSING,
    CONTENT_CHANGED,
    ENTRY_MISSING,
    LINK_BROKEN,
    incident_record_verify,
)
from incidents.models import Approval, Deadline, Incident, Report, Statement, StatementVersion, TimelineEntry
from incidents.models.chain import GENESIS, text_sha256
from incidents.services import incidents as svc
from incidents.services import records
from incidents.services.deadline_clock import deadlines_sweep
from incidents.services.statements import statement_create, statement_decide, statement_revise, statement_submit
from incidents.tests.test_clock_races import holding_the_incident, run_together
from opinion_ops.errors import InvalidTransition
from opinion_ops.testing import BaseTestCase, make_unit, make_user, sign_in

TIMELINE = "incidents_timelineentry"
APPROVALS = "incidents_approval"


def as_owner(table: str, sql: str, params: list[Any]) -> None:
    """Change a row the way only the database owner can: with the table's own triggers switched off
    for the one statement (on SQLite, where nothing refuses it, the statement alone)."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(sql, params)
            return
        # ALTER TABLE is refused while the transaction has deferred foreign-key checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class RecordTestCase(BaseTestCase):
    def responding(self) -> Incident:
        incident = self.log_incident(minutes_ago=10)
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.assessment_record(
            incident_id=incident.pk, actor=self.ann, nature="谣言", scope="本地", trend="rising", risk="low"
        )
        svc.incident_issue_warning(incident_id=incident.pk, actor=self.alice, level=self.level3)
        svc.incident_start_response(incident_id=incident.pk, actor=self.hank)
        return Incident.objects.get(pk=incident.pk)

    def approved_statement(self, incident: Incident) -> Statement:
        statement = statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="经核查……")
        statement_submit(statement_id=statement.pk, actor=self.sara)
        return statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)

    def signed_report(self, incident: Incident) -> Report:
        report = records.report_record(
            incident_id=incident.pk,
            actor=self.olga,
            kind="written",
            reported_to="周组长",
            occurred_at=timezone.now(),
            summary="书面报告",
            cause="起因",
            facts="事实",
            measures_taken="措施",
        )
        return records.report_sign_off(report_id=report.pk, actor=self.alice)

    def entry(self, incident: Incident, seq: int) -> TimelineEntry:
        return TimelineEntry.objects.get(incident=incident, seq=seq)

    def verify(self, *args: str) -> tuple[int, str]:
        out = StringIO()
        try:
            call_command("verify_record", *args, stdout=out)
        except CommandError as error:
            return error.returncode, out.getvalue()
        return 0, out.getvalue()


class ChainTests(RecordTestCase):
    def test_it_chains_every_entry_in_order_across_services_and_the_sweeper(self) -> None:
        incident = self.responding()
        self.approved_statement(incident)
        self.signed_report(incident)
        records.measure_record(
            incident_id=incident.pk, actor=self.hank, kind="reply", description="回复网民", taken_at=timezone.now()
        )
        clock = Deadline.objects.get(incident=incident, name="公开回应")
        Deadline.objects.filter(pk=clock.pk).update(
            due_at=timezone.now() - timedelta(minutes=1), next_action_at=timezone.now() - timedelta(minutes=1)
        )
        deadlines_sweep()
        entries = list(TimelineEntry.objects.filter(incident=incident).order_by("recorded_at", "id"))
        self.assertEqual([e.seq for e in entries], list(range(1, len(entries) + 1)))
        self.assertEqual([e.prev_hash for e in entries], [GENESIS] + [e.hash for e in entries[:-1]])
        self.assertTrue(all(e.hash == e.compute_hash() for e in entries))
        swept = entries[-1]
        self.assertEqual((swept.kind, swept.actor_id), ("deadline", None))
        self.assertIn("公开回应", swept.summary)
        check = incident_record_verify(incident=incident)
        self.assertTrue(check.intact, check.breaks)
        self.assertEqual((check.entries, check.approvals), (len(entries), 2))
        self.assertEqual((check.head_seq, check.head_hash), (swept.seq, swept.hash))

    def test_it_hashes_the_documented_serialisation(self) -> None:
        incident = self.log_incident()
        svc.incident_update(incident_id=incident.pk, actor=self.bob, title="更正：某校食堂")
        entry = TimelineEntry.objects.get(incident=incident, kind="edited")
        content = {
            "v": 1,
            "incident": incident.pk,
            "seq": entry.seq,
            "kind": "edited",
            "actor": self.bob.pk,
            "recorded_at": entry.recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "occurred_at": None,
            "from_state": "",
            "to_state": "",
            "summary": "修改舆情信息：标题“网传某校食堂饭菜质量问题”→“更正：某校食堂”",
            "details": {"changes": {"title": {"from": "网传某校食堂饭菜质量问题", "to": "更正：某校食堂"}}},
            "prev": self.entry(incident, entry.seq - 1).hash,
        }
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        self.assertEqual(entry.hash, hashlib.sha256(canonical.encode("utf-8")).hexdigest())

    def test_it_writes_an_approval_for_each_decision_on_the_exact_text(self) -> None:
        incident = self.responding()
        statement = statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="第一稿")
        statement_submit(statement_id=statement.pk, actor=self.sara)
        statement_decide(statement_id=statement.pk, actor=self.alice, approve=False, comment="补充时间线")
        statement_revise(statement_id=statement.pk, actor=self.sara, text="第二稿")
        statement_submit(statement_id=statement.pk, actor=self.sara)
        statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        report = self.signed_report(incident)
        rejected, approved, signed = Approval.objects.filter(incident=incident).order_by("id")
        self.assertEqual(
            (rejected.decision, rejected.version_number, rejected.comment, rejected.content_sha256),
            ("rejected", 1, "补充时间线", text_sha256("第一稿")),
        )
        self.assertEqual((approved.decision, approved.version_number), ("approved", 2))
        self.assertEqual(approved.content_sha256, text_sha256("第二稿"))
        version = StatementVersion.objects.get(statement=statement, number=2)
        self.assertEqual((approved.actor_id, approved.decided_at), (version.decided_by_id, version.decided_at))
        self.assertEqual((signed.decision, signed.report_id, signed.actor_id), ("signed_off", report.pk, self.alice.pk))
        for approval in (rejected, approved, signed):
            self.assertEqual(approval.hash, approval.compute_hash())
            assert approval.entry is not None
            self.assertEqual(approval.entry.details["approval_sha256"], approval.hash)
        self.assertTrue(incident_record_verify(incident=incident).intact)

    def test_it_leaves_no_approval_and_no_entry_when_a_decision_is_refused(self) -> None:
        incident = self.responding()
        statement = statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="正文")
        before = TimelineEntry.objects.filter(incident=incident).count()
        with self.assertRaises(InvalidTransition):  # a draft is not submitted yet
            statement_decide(statement_id=statement.pk, actor=self.alice, approve=True)
        self.assertEqual(TimelineEntry.objects.filter(incident=incident).count(), before)
        self.assertFalse(Approval.objects.filter(incident=incident).exists())


class VerifyCommandTests(RecordTestCase):
    def test_it_finds_normal_incidents_intact_and_exits_zero(self) -> None:
        incident = self.responding()
        self.approved_statement(incident)
        self.log_incident(title="另一起")
        status, out = self.verify()
        self.assertEqual(status, 0, out)
        self.assertIn("已校验 2 起舆情", out)
        self.assertIn("2 起完整，0 起受损", out)

    def test_it_reports_a_changed_summary_with_the_incident_and_the_number(self) -> None:
        incident = self.responding()
        untouched = self.log_incident(title="另一起")
        target = self.entry(incident, 3)
        summary = "UPDATE incidents_timelineentry SET summary = %s WHERE id = %s"
        as_owner(TIMELINE, summary, ["研判：风险低（已改）", target.pk])
        status, out = self.verify()
        self.assertEqual(status, 1, out)
        self.assertIn(f"{incident.reference}（id {incident.pk}", out)
        self.assertIn(f"第 3 条（记录 id {target.pk}）：内容被改动", out)
        self.assertNotIn(f"id {untouched.pk}，", out)
        self.assertIn("1 起完整，1 起受损", out)
        status, out = self.verify("--incident", str(untouched.pk))
        self.assertEqual(status, 0, out)
        status, out = self.verify("--incident", incident.reference, "--unit", self.unit.code)
        self.assertEqual(status, 1, out)
        check = incident_record_verify(incident=incident)
        self.assertEqual([(b.problem, b.seq) for b in check.breaks], [(CONTENT_CHANGED, 3)])

    def test_it_reports_a_rehashed_entry_at_the_next_link(self) -> None:
        incident = self.responding()
        target = self.entry(incident, 2)
        target.summary = "转入研判（已改）"
        as_owner(
            TIMELINE,
            "UPDATE incidents_timelineentry SET summary = %s, hash = %s WHERE id = %s",
            [target.summary, target.compute_hash(), target.pk],
        )
        first = incident_record_verify(incident=incident).first_break
        assert first is not None
        self.assertEqual((first.problem, first.seq, first.entry_id), (LINK_BROKEN, 3, self.entry(incident, 3).pk))

    def test_it_reports_a_deleted_middle_entry_as_missing(self) -> None:
        incident = self.responding()
        last = TimelineEntry.objects.filter(incident=incident).order_by("-seq").first()
        assert last is not None and last.seq > 4
        following = self.entry(incident, 5)
        as_owner(TIMELINE, "DELETE FROM incidents_timelineentry WHERE incident_id = %s AND seq = 4", [incident.pk])
        status, out = self.verify("--incident", str(incident.pk))
        self.assertEqual(status, 1, out)
        self.assertIn(f"第 4 条：记录缺失——第 4 条不存在，下一条为第 5 条（记录 id {following.pk}）", out)
        first = incident_record_verify(incident=incident).first_break
        assert first is not None
        self.assertEqual((first.problem, first.seq), (ENTRY_MISSING, 4))

    def test_it_refuses_an_unknown_incident_or_unit_with_status_two(self) -> None:
        self.assertEqual(self.verify("--incident", "1999-0001")[0], 2)
        self.assertEqual(self.verify("--unit", "no-such-unit")[0], 2)


class ApprovalAgreementTests(RecordTestCase):
    def test_it_detects_a_decider_changed_on_the_statement_version(self) -> None:
        incident = self.responding()
        statement = self.approved_statement(incident)
        StatementVersion.objects.filter(statement=statement).update(decided_by=self.olga)
        check = incident_record_verify(incident=incident)
        first = check.first_break
        assert first is not None
        approval = Approval.objects.get(statement_version__statement=statement)
        assert approval.entry is not None
        self.assertEqual((first.problem, first.seq), (APPROVAL_DISAGREES, approval.entry.seq))
        self.assertIn("审定人", first.description)
        status, out = self.verify()
        self.assertEqual(status, 1, out)
        self.assertIn("与审定记录不符", out)

    def test_it_detects_an_approved_text_changed_afterwards(self) -> None:
        incident = self.responding()
        statement = self.approved_statement(incident)
        StatementVersion.objects.filter(statement=statement).update(text="经核查，与事实不符……")
        first = incident_record_verify(incident=incident).first_break
        assert first is not None
        self.assertEqual(first.problem, APPROVAL_DISAGREES)
        self.assertIn("正文已不是审定时的正文", first.description)

    def test_it_detects_a_signed_report_changed_or_resigned(self) -> None:
        incident = self.responding()
        report = self.signed_report(incident)
        Report.objects.filter(pk=report.pk).update(facts="另一套事实")
        self.assertIn("内容已不是审阅时的内容", incident_record_verify(incident=incident).breaks[0].description)
        Report.objects.filter(pk=report.pk).update(facts="事实", signed_off_by=self.olga)
        self.assertIn("审阅领导", incident_record_verify(incident=incident).breaks[0].description)

    def test_it_detects_a_deleted_approval_at_its_entry_and_at_the_decision(self) -> None:
        incident = self.responding()
        statement = self.approved_statement(incident)
        approval = Approval.objects.get(statement_version__statement=statement)
        as_owner(APPROVALS, "DELETE FROM incidents_approval WHERE id = %s", [approval.pk])
        problems = [(b.problem, b.seq) for b in incident_record_verify(incident=incident).breaks]
        assert approval.entry is not None
        self.assertEqual(problems, [(APPROVAL_MISSING, approval.entry.seq), (APPROVAL_MISSING, None)])

    def test_it_detects_a_decision_written_where_none_was_taken(self) -> None:
        incident = self.responding()
        statement = statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="草稿")
        self.assertTrue(incident_record_verify(incident=incident).intact)
        StatementVersion.objects.filter(statement=statement).update(
            decision="approved", decided_by=self.alice, decided_at=timezone.now()
        )
        breaks = incident_record_verify(incident=incident).breaks
        self.assertEqual([(b.problem, b.seq) for b in breaks], [(APPROVAL_MISSING, None)])
        self.assertIn("没有对应的审定记录", breaks[0].description)

    def test_it_detects_a_changed_approval_row(self) -> None:
        incident = self.responding()
        self.approved_statement(incident)
        approval = Approval.objects.get(incident=incident)
        as_owner(APPROVALS, "UPDATE incidents_approval SET actor_id = %s WHERE id = %s", [self.olga.pk, approval.pk])
        first = incident_record_verify(incident=incident).first_break
        assert first is not None and approval.entry is not None
        self.assertEqual(
            (first.problem, first.seq, first.entry_id), (CONTENT_CHANGED, approval.entry.seq, approval.entry_id)
        )


class DatabaseRefusalTests(RecordTestCase):
    def setUp(self) -> None:
        super().setUp()
        if connection.vendor != "postgresql":
            self.skipTest("the append-only triggers are PostgreSQL's")

    def assertRefused(self, sql: str, params: list[Any]) -> None:
        with self.assertRaises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
            # TRUNCATE is refused anyway while deferred foreign-key checks are pending: fire them first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(sql, params)
        self.assertIn("append-only", str(caught.exception))

    def test_it_has_the_database_refuse_to_change_or_remove_timeline_and_approval_rows(self) -> None:
        incident = self.responding()
        self.approved_statement(incident)
        approval = Approval.objects.get(incident=incident)
        entry_id = self.entry(incident, 1).pk
        for sql, params in (
            ("UPDATE incidents_timelineentry SET summary = %s WHERE id = %s", ["改", entry_id]),
            ("DELETE FROM incidents_timelineentry WHERE id = %s", [entry_id]),
            ("TRUNCATE incidents_timelineentry CASCADE", []),
            ("UPDATE incidents_approval SET actor_id = %s WHERE id = %s", [self.olga.pk, approval.pk]),
            ("DELETE FROM incidents_approval WHERE id = %s", [approval.pk]),
            ("TRUNCATE incidents_approval", []),
        ):
            with self.subTest(sql=sql):
                self.assertRefused(sql, params)
        with self.assertRaises(DatabaseError), transaction.atomic():
            Approval.objects.filter(pk=approval.pk).update(comment="改")
        self.assertTrue(incident_record_verify(incident=incident).intact)


class PageTests(RecordTestCase):
    def test_it_shows_on_the_page_the_record_intact_then_the_first_broken_link(self) -> None:
        incident = self.responding()
        self.assertTrue(sign_in(self.client, "bob"))
        url = reverse("incident_detail", args=[incident.pk])
        count = TimelineEntry.objects.filter(incident=incident).count()
        self.assertContains(self.client.get(url), f"记录完整 · 共 {count} 条，已逐条校验")
        target = self.entry(incident, 2)
        as_owner(TIMELINE, "UPDATE incidents_timelineentry SET actor_id = %s WHERE id = %s", [self.nina.pk, target.pk])
        page = self.client.get(url)
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, "记录完整")
        self.assertContains(page, "处置记录校验未通过")
        self.assertContains(page, f"第 2 条（记录 id {target.pk}）：内容被改动")


class ChainRaceTests(TransactionTestCase):
    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("row locks need PostgreSQL")
        unit = make_unit("示范区教育局", "district")
        self.bob = make_user("bob", unit, "monitoring")
        self.incident = svc.incident_create(actor=self.bob, title="并发测试", discovered_at=timezone.now())

    def test_it_chains_two_writers_at_once_one_after_the_other(self) -> None:
        def edit(title: str) -> Any:
            return lambda: svc.incident_update(incident_id=self.incident.pk, actor=self.bob, title=title)

        with holding_the_incident(svc, "incident_touch"):
            results = run_together(edit("并发测试（一）"), edit("并发测试（二）"))
        self.assertEqual([r for r in results if isinstance(r, Exception)], [])
        edits = TimelineEntry.objects.filter(incident=self.incident, kind="edited").order_by("seq")
        self.assertEqual(edits.count(), 2)
        seqs = list(TimelineEntry.objects.filter(incident=self.incident).order_by("seq").values_list("seq", flat=True))
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        self.assertTrue(incident_record_verify(incident=self.incident).intact)


class MigrationTests(TransactionTestCase):
    """0007–0009 on a database that already holds a record: the old trigger goes, the rows are
    chained in the order they were recorded, earlier decisions are sealed, new triggers come."""

    BEFORE = [("incidents", "0006_clocks_history_and_numbers")]

    def test_it_chains_the_existing_record_as_the_services_would_and_seals_earlier_decisions(self) -> None:
        unit = make_unit("示范区教育局", "district")
        bob, alice = make_user("bob", unit, "monitoring"), make_user("alice", unit, "leadership")
        sara = make_user("sara", unit, "publicity")
        incident = svc.incident_create(actor=bob, title="迁移前", discovered_at=timezone.now())
        svc.incident_update(incident_id=incident.pk, actor=bob, title="迁移前（更正）")
        written = dict(TimelineEntry.objects.filter(incident=incident).values_list("pk", "hash"))
        executor = MigrationExecutor(connection)
        try:
            executor.migrate(self.BEFORE)
            old = executor.loader.project_state(self.BEFORE).apps
            statement = old.get_model("incidents", "Statement").objects.create(
                incident_id=incident.pk, title="情况通报", created_by_id=sara.pk
            )
            old.get_model("incidents", "StatementVersion").objects.create(
                statement=statement,
                number=1,
                text="经核查……",
                author_id=sara.pk,
                decision="approved",
                decided_by_id=alice.pk,
                decided_at=timezone.now(),
            )
            old.get_model("incidents", "TimelineEntry").objects.create(
                incident_id=incident.pk, kind="statement", actor_id=alice.pk, summary="审定同意“情况通报”（第 1 版）"
            )
        finally:
            executor = MigrationExecutor(connection)
            executor.migrate(executor.loader.graph.leaf_nodes())
        entries = list(TimelineEntry.objects.filter(incident=incident).order_by("seq"))
        self.assertEqual({e.pk: e.hash for e in entries if e.pk in written}, written)
        self.assertEqual([e.seq for e in entries], list(range(1, len(written) + 2)))
        self.assertEqual(entries[-1].summary, "审定同意“情况通报”（第 1 版）")
        sealed = Approval.objects.get(incident=incident)
        self.assertEqual((sealed.entry_id, sealed.actor_id, sealed.decision), (None, alice.pk, "approved"))
        self.assertTrue(incident_record_verify(incident=incident).intact)
        if connection.vendor == "postgresql":
            with self.assertRaises(DatabaseError), transaction.atomic():
                TimelineEntry.objects.filter(incident=incident).update(summary="改")
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'incidents_timeline_append_only'")
                self.assertEqual(cursor.fetchone()[0], 0)
