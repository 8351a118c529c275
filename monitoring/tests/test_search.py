"""信息检索: Chinese words, phrases and exclusions, the filters, one unit never sees another's posts,
highlighting that escapes, keyset pages, the GIN index on PostgreSQL, linking a post to an incident
(and what the record keeps of it), and filling the words of old posts."""

import hashlib
import re
import unittest
from datetime import UTC, date, datetime
from io import StringIO
from typing import Any
from unittest import mock

from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.models import TimelineEntry
from monitoring.alerts import posts_match
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import KeywordScheme, Mention, Source
from monitoring.search import posts_reindex, posts_search, search_query_parse, text_marked
from opinion_ops.testing import BaseTestCase, sign_in

POSTGRES = connection.vendor == "postgresql"


class SearchTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.api = source_of_kind(self.unit.pk, Source.Kind.API)

    def post(self, text: str, *, source: Source | None = None, unit: Any = None, **fields: Any) -> Mention:
        """A post ingested and matched (so segmented for search), as every source's posts are."""
        if unit is not None:
            source = source_of_kind(unit.pk, Source.Kind.API)
        result = posts_ingest(source_id=(source or self.api).pk, posts=[PostIn(text=text, **fields)])
        posts_match(result.created)
        return Mention.objects.get(pk=result.created[0])

    def search(self, **arguments: Any) -> list[str]:
        arguments.setdefault("organization_id", self.unit.pk)
        return [post.text for post in posts_search(**arguments)]


class QueryTests(SearchTestCase):
    def test_it_finds_posts_having_every_chinese_word(self) -> None:
        self.post("示范区一中食堂发生学生中毒事件")
        self.post("示范区一中食堂饭菜涨价")
        self.post("某地发生食物中毒")
        self.assertEqual(self.search(q="食堂 中毒"), ["示范区一中食堂发生学生中毒事件"])
        self.assertEqual(len(self.search(q="食堂")), 2)
        self.assertEqual(self.search(q="饭菜涨价"), ["示范区一中食堂饭菜涨价"])

    def test_a_word_inside_a_longer_one_is_found(self) -> None:
        self.post("关注食品安全问题")
        self.assertEqual(self.search(q="安全"), ["关注食品安全问题"])

    def test_a_quoted_phrase_must_occur_as_written(self) -> None:
        self.post("网传学生中毒，家长担忧")
        self.post("中毒的不是学生，是老师")
        self.assertEqual(len(self.search(q="学生 中毒")), 2)
        self.assertEqual(self.search(q='"学生中毒"'), ["网传学生中毒，家长担忧"])
        self.assertEqual(self.search(q="“学生中毒”"), ["网传学生中毒，家长担忧"])

    def test_a_minus_word_leaves_posts_out(self) -> None:
        self.post("一中食堂中毒应急演练")
        self.post("一中食堂学生中毒")
        self.assertEqual(self.search(q="食堂 -演练"), ["一中食堂学生中毒"])
        self.assertEqual(self.search(q='食堂 -"应急演练"'), ["一中食堂学生中毒"])
        self.assertEqual(self.search(q="-演练"), ["一中食堂学生中毒"])

    def test_latin_words_are_found_in_any_case(self) -> None:
        self.post("新款 iPhone 发布会")
        self.assertEqual(self.search(q="IPHONE"), ["新款 iPhone 发布会"])

    def test_operators_and_quotes_typed_by_a_user_are_only_text(self) -> None:
        self.post("一中食堂")
        for q in ["食堂 & | ! :* ( ) '", "'); DROP TABLE x; --", '"', "-", "\\", "％_%"]:
            with self.subTest(q=q):
                posts_search(organization_id=self.unit.pk, q=q)  # no database error
        self.assertEqual(self.search(q="食堂 & | !"), ["一中食堂"])
        self.assertEqual(self.search(q='"食_"'), [])  # LIKE's wildcards are plain characters
        self.assertEqual(self.search(q='"食%"'), [])

    def test_the_query_is_read_as_words_phrases_and_exclusions(self) -> None:
        terms = search_query_parse('食品安全 "学生中毒" -谣言 -"应急演练"')
        self.assertEqual(terms.words, ("食品安全", "学生", "中毒"))
        self.assertEqual(terms.inner_words, {"食品安全": ("食品", "安全")})
        self.assertEqual(terms.phrases, ("学生中毒",))
        self.assertEqual(terms.excluded, ("谣言", "应急演练"))

    def test_a_word_the_post_holds_inside_a_longer_one_is_found(self) -> None:
        self.post("新修订的食品安全法今日实施")  # jieba: 食品 / 安全法
        self.post("安全的食品从哪里来")
        self.assertEqual(self.search(q="食品安全"), ["新修订的食品安全法今日实施"])
        self.assertEqual(self.search(q="安全 -食品安全"), ["安全的食品从哪里来"])


class FilterTests(SearchTestCase):
    def test_it_filters_by_source_and_platform(self) -> None:
        feed = Source.objects.create(organization=self.unit, kind=Source.Kind.FEED, name="本地论坛", platform="forum")
        self.post("食堂 一", source=feed)
        self.post("食堂 二", platform="weibo")
        self.assertEqual(self.search(q="食堂", source_id=feed.pk), ["食堂 一"])
        self.assertEqual(self.search(q="食堂", platform="weibo"), ["食堂 二"])
        self.assertEqual(self.search(platform="forum"), ["食堂 一"])

    def test_it_filters_by_the_scheme_that_matched(self) -> None:
        scheme = KeywordScheme.objects.create(organization=self.unit, name="食堂", subjects="一中", events="中毒")
        self.post("一中食堂中毒")
        self.post("一中食堂涨价")
        self.assertEqual(self.search(scheme_id=scheme.pk), ["一中食堂中毒"])
        theirs = KeywordScheme.objects.create(organization=self.other_unit, name="食堂", subjects="一中")
        self.assertEqual(self.search(scheme_id=theirs.pk), [])

    def test_it_filters_by_shanghai_days_both_included(self) -> None:
        late = self.post("二十七日深夜")  # 23:30 in Shanghai is 15:30 UTC, still the 27th
        Mention.objects.filter(pk=late.pk).update(captured_at=datetime(2026, 11, 27, 15, 30, tzinfo=UTC))
        early = self.post("二十八日凌晨")  # 00:10 in Shanghai is the 27th in UTC
        Mention.objects.filter(pk=early.pk).update(captured_at=datetime(2026, 11, 27, 16, 10, tzinfo=UTC))
        self.assertEqual(self.search(until=date(2026, 11, 27)), ["二十七日深夜"])
        self.assertEqual(self.search(since=date(2026, 11, 28)), ["二十八日凌晨"])
        self.assertEqual(len(self.search(since=date(2026, 11, 27), until=date(2026, 11, 28))), 2)

    def test_it_filters_by_being_linked_to_an_incident(self) -> None:
        from monitoring.services import mention_attach

        linked = self.post("已关联的")
        self.post("未关联的")
        mention_attach(mention_id=linked.pk, incident_id=self.log_incident().pk, actor=self.bob)
        self.assertEqual(self.search(attached=True), ["已关联的"])
        self.assertEqual(self.search(attached=False), ["未关联的"])

    def test_another_units_posts_never_appear(self) -> None:
        self.post("一中食堂中毒", unit=self.other_unit)
        theirs = Mention.objects.get()
        self.assertEqual(self.search(q="食堂"), [])
        self.assertEqual(self.search(), [])
        self.assertEqual(self.search(source_id=theirs.source_id), [])
        self.assertEqual(self.search(before_id=theirs.pk), [])
        self.assertEqual(self.search(organization_id=self.other_unit.pk, q="食堂"), ["一中食堂中毒"])

    def test_pages_follow_on_from_the_last_post_newest_first(self) -> None:
        ids = [self.post(f"食堂 第{n}条").pk for n in range(5)]
        moment = datetime(2026, 11, 27, 8, tzinfo=UTC)
        Mention.objects.filter(pk__in=ids[:3]).update(captured_at=moment)  # a tie, broken by id
        first = posts_search(organization_id=self.unit.pk, q="食堂", limit=2)
        second = posts_search(organization_id=self.unit.pk, q="食堂", limit=2, before_id=first[-1].pk)
        third = posts_search(organization_id=self.unit.pk, q="食堂", limit=2, before_id=second[-1].pk)
        self.assertEqual([p.pk for p in first + second + third], [ids[4], ids[3], ids[2], ids[1], ids[0]])


class HighlightTests(unittest.TestCase):
    def test_the_words_are_marked_and_everything_else_escaped(self) -> None:
        marked = text_marked("<script>alert(1)</script>一中食堂&中毒", ["食堂", "<script>"])
        self.assertEqual(marked, "<mark>&lt;script&gt;</mark>alert(1)&lt;/script&gt;一中<mark>食堂</mark>&amp;中毒")
        self.assertEqual(text_marked("<b>x</b>", []), "&lt;b&gt;x&lt;/b&gt;")

    def test_a_long_text_is_cut_around_the_first_word(self) -> None:
        marked = text_marked("开" * 300 + "食堂" + "尾" * 300, ["食堂"], width=40)
        self.assertTrue(marked.startswith("…") and marked.endswith("…"))
        self.assertIn("<mark>食堂</mark>", marked)
        self.assertLess(len(marked), 60)


class IndexTests(SearchTestCase):
    @unittest.skipUnless(POSTGRES, "the GIN index exists on PostgreSQL only")
    def test_postgresql_answers_the_words_from_the_gin_index(self) -> None:
        now = datetime(2026, 11, 27, 8, tzinfo=UTC)
        Mention.objects.bulk_create(
            Mention(
                organization=self.unit,
                source=self.api,
                platform="weibo",
                text=f"普通帖子 {n}",
                search_text=f"普通 帖子 {n}",
                captured_at=now,
                content_hash=f"{n:064d}",
            )
            for n in range(3000)
        )
        self.post("罕见词出现一次")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE monitoring_mention")
        with CaptureQueriesContext(connection) as queries:
            found = posts_search(organization_id=self.unit.pk, q="罕见词")
        self.assertEqual([post.text for post in found], ["罕见词出现一次"])
        [search_sql] = [q["sql"] for q in queries if "to_tsvector" in q["sql"] and not q["sql"].startswith("EXPLAIN")]
        self.assertIn('to_tsvector(\'simple\'::regconfig, "monitoring_mention"."search_text")', search_sql)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + search_sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        self.assertIn("mention_search", plan)


class PageTests(SearchTestCase):
    def test_members_search_with_the_words_marked_and_escaped(self) -> None:
        self.post("<b>粗体</b>一中食堂中毒", author="@家长", url="https://weibo.com/1/2")
        self.post("无关的信息")
        sign_in(self.client, "ann")
        response = self.client.get(reverse("monitoring:posts"), {"q": "食堂"})
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertIn("&lt;b&gt;粗体&lt;/b&gt;一中<mark>食堂</mark>中毒", body)
        self.assertNotIn("<b>粗体", body)
        self.assertIn("@家长", body)
        self.assertNotIn("无关的信息", body)

    def test_a_typed_query_is_not_markup(self) -> None:
        self.post("一中食堂")
        sign_in(self.client, "bob")
        response = self.client.get(reverse("monitoring:posts"), {"q": "<img src=x>食堂"})
        self.assertNotIn("<img src=x>", response.content.decode())

    def test_the_filters_fetch_only_the_results_when_htmx_asks(self) -> None:
        self.post("一中食堂")
        sign_in(self.client, "bob")
        response = self.client.get(reverse("monitoring:posts"), {"q": "食堂"}, headers={"HX-Request": "true"})
        body = response.content.decode()
        self.assertIn("<mark>食堂</mark>", body)
        self.assertNotIn("<html", body)
        self.assertIn("HX-Request", response["Vary"])

    def test_the_schemes_that_matched_and_the_incident_are_shown(self) -> None:
        from monitoring.services import mention_attach

        KeywordScheme.objects.create(organization=self.unit, name="校园食品安全", subjects="一中", events="中毒")
        post = self.post("一中食堂中毒")
        incident = self.log_incident(title="一中食堂中毒事件")
        mention_attach(mention_id=post.pk, incident_id=incident.pk, actor=self.bob)
        sign_in(self.client, "bob")
        body = self.client.get(reverse("monitoring:posts")).content.decode()
        self.assertIn("校园食品安全", body)
        self.assertIn(reverse("incident_detail", args=[incident.pk]), body)

    def test_the_number_of_queries_does_not_grow_with_the_results(self) -> None:
        KeywordScheme.objects.create(organization=self.unit, name="食堂", events="食堂")
        self.log_incident()
        self.post("食堂 一")
        sign_in(self.client, "bob")
        url = reverse("monitoring:posts")
        self.client.get(url, {"q": "食堂"})  # warm the session and the caches
        with CaptureQueriesContext(connection) as one:
            self.client.get(url, {"q": "食堂"})
        for n in range(5):
            self.post(f"食堂 {n}", platform="weibo", url=f"https://weibo.com/{n}")
        with CaptureQueriesContext(connection) as six:
            response = self.client.get(url, {"q": "食堂"})
        self.assertEqual(len(re.findall('data-testid="post"', response.content.decode())), 6)
        self.assertEqual(len(six), len(one))

    def test_bad_filters_are_shown_next_to_the_field_and_never_a_500(self) -> None:
        theirs = KeywordScheme.objects.create(organization=self.other_unit, name="他们的方案")
        sign_in(self.client, "bob")
        url = reverse("monitoring:posts")
        response = self.client.get(url, {"scheme": str(theirs.pk), "since": "明天", "q": "x" * 300})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(set(response.context["form"].errors), {"scheme", "since", "q"})
        response = self.client.get(url, {"since": "2026-11-28", "until": "2026-11-27", "before": "abc"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("截止日期不能早于起始日期。", response.content.decode())

    def test_the_next_page_link_continues_after_the_last_post(self) -> None:
        from monitoring.views import posts as views

        ids = [self.post(f"食堂 {n}").pk for n in range(3)]
        sign_in(self.client, "bob")
        with mock.patch.object(views, "PAGE_SIZE", 2):
            first = self.client.get(reverse("monitoring:posts"), {"q": "食堂"})
            self.assertIn(f"before={ids[1]}", first.content.decode())
            second = self.client.get(reverse("monitoring:posts"), {"q": "食堂", "before": str(ids[1])})
        self.assertEqual([row["post"].pk for row in second.context["rows"]], [ids[0]])
        self.assertNotIn('data-testid="next"', second.content.decode())

    def test_people_outside_the_working_groups_are_refused(self) -> None:
        self.post("一中食堂")
        sign_in(self.client, "nina")  # of the unit, in no group
        self.assertEqual(self.client.get(reverse("monitoring:posts")).status_code, 403)
        self.client.logout()
        response = self.client.get(reverse("monitoring:posts"))
        self.assertEqual(response.status_code, 302)
        self.assertIn("login", response["Location"])

    def test_another_unit_sees_only_its_own_posts(self) -> None:
        self.post("一中食堂中毒")
        sign_in(self.client, "charlie")
        response = self.client.get(reverse("monitoring:posts"), {"q": "食堂"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["rows"], [])


class AttachTests(SearchTestCase):
    def test_a_post_is_linked_to_an_open_incident_and_the_record_keeps_it(self) -> None:
        post = self.post("一中食堂中毒", url="https://weibo.com/9/9", title="网传中毒")
        incident = self.log_incident()
        sign_in(self.client, "bob")
        page = self.client.get(reverse("monitoring:posts"), {"q": "食堂"})
        self.assertContains(page, reverse("monitoring:post_attach", args=[post.pk]))
        response = self.client.post(
            reverse("monitoring:post_attach", args=[post.pk]), {"incident": incident.pk, "back": "q=食堂&evil=1"}
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Location"], reverse("monitoring:posts") + "?q=%E9%A3%9F%E5%A0%82")
        post.refresh_from_db()
        self.assertEqual(post.incident_id, incident.pk)
        entry = TimelineEntry.objects.filter(incident=incident, kind="mention").get()
        self.assertEqual(entry.details["url"], "https://weibo.com/9/9")
        # 存证: the post as fetched, when, and a fingerprint of its text, in the hash-chained record.
        self.assertEqual(entry.details.get("text"), "一中食堂中毒")
        self.assertEqual(entry.details.get("sha256"), hashlib.sha256("一中食堂中毒".encode()).hexdigest())
        self.assertEqual(entry.details.get("fetched_at"), post.captured_at.isoformat())

    def test_no_link_to_another_units_incident_or_post(self) -> None:
        post = self.post("一中食堂中毒")
        theirs = self.post("邻区食堂", unit=self.other_unit)
        their_incident = self.log_incident(user=self.charlie)
        sign_in(self.client, "bob")
        response = self.client.post(reverse("monitoring:post_attach", args=[post.pk]), {"incident": their_incident.pk})
        self.assertEqual(response.status_code, 302)
        post.refresh_from_db()
        self.assertIsNone(post.incident_id)
        own = self.log_incident()
        response = self.client.post(reverse("monitoring:post_attach", args=[theirs.pk]), {"incident": own.pk})
        self.assertEqual(response.status_code, 404)
        theirs.refresh_from_db()
        self.assertIsNone(theirs.incident_id)

    def test_a_post_already_linked_elsewhere_stays_and_the_reason_is_shown(self) -> None:
        from monitoring.services import mention_attach

        post = self.post("一中食堂中毒")
        first, second = self.log_incident(title="甲"), self.log_incident(title="乙")
        mention_attach(mention_id=post.pk, incident_id=first.pk, actor=self.bob)
        sign_in(self.client, "bob")
        response = self.client.post(
            reverse("monitoring:post_attach", args=[post.pk]), {"incident": second.pk}, follow=True
        )
        self.assertContains(response, "这条信息已关联到其他舆情。")
        post.refresh_from_db()
        self.assertEqual(post.incident_id, first.pk)

    def test_linking_needs_a_working_group_member(self) -> None:
        post = self.post("一中食堂中毒")
        incident = self.log_incident()
        sign_in(self.client, "nina")
        response = self.client.post(reverse("monitoring:post_attach", args=[post.pk]), {"incident": incident.pk})
        self.assertEqual(response.status_code, 403)
        post.refresh_from_db()
        self.assertIsNone(post.incident_id)


class ReindexTests(SearchTestCase):
    def test_posts_without_words_get_them_and_are_then_found(self) -> None:
        ours = self.post("一中食堂中毒")
        theirs = self.post("邻区食堂中毒", unit=self.other_unit)
        Mention.objects.update(search_text="")
        out = StringIO()
        call_command("posts_reindex", "--unit", self.unit.code, stdout=out)
        self.assertIn("1 posts", out.getvalue())
        ours.refresh_from_db()
        theirs.refresh_from_db()
        self.assertIn("食堂", ours.search_text.split())
        self.assertEqual(theirs.search_text, "")
        self.assertEqual(self.search(q="食堂 中毒"), ["一中食堂中毒"])
        self.assertEqual(posts_reindex(), 1)
        self.assertEqual(posts_reindex(), 0)  # a repeat finds nothing to do

    def test_an_unknown_unit_is_refused(self) -> None:
        with self.assertRaises(CommandError):
            call_command("posts_reindex", "--unit", "nowhere", stdout=StringIO())
