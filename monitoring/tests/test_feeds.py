"""Reading RSS/Atom feeds: fetched from the local feed server through the outbound policy, and
read as a person monitoring them would see the items."""

import socket
import time
from datetime import UTC, datetime, timedelta
from unittest import mock

from django.test import SimpleTestCase, override_settings

from monitoring.feeds import (
    MAX_FEED_BYTES,
    MAX_FEED_ENTRIES,
    MAX_ITEM_TEXT,
    FeedItem,
    FetchResult,
    feed_fetch,
    feed_parse,
    feed_retry_delay,
)
from monitoring.tests.feed_server import FIXTURES, FeedServer, feed_server

LOCAL_ALLOWED = override_settings(OUTBOUND_ALLOWED_NETWORKS=["127.0.0.0/8"])


def by_title(result: FetchResult) -> dict[str, FeedItem]:
    return {item.title: item for item in result.items}


class FeedServerTestCase(SimpleTestCase):
    server: FeedServer

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = cls.enterClassContext(feed_server())

    def setUp(self) -> None:
        self.server.requests.clear()


@LOCAL_ALLOWED
class FetchTests(FeedServerTestCase):
    def test_it_reads_a_feed_and_returns_the_validators_to_store(self) -> None:
        result = feed_fetch(self.server.url("rss2.xml"))
        self.assertEqual((result.status, result.http_status, result.error), ("ok", 200, ""))
        self.assertEqual(len(result.items), 3)
        self.assertEqual(result.items[0].title, "关于规范中小学食堂收费管理的通知")
        self.assertTrue(result.etag.startswith('"'))
        self.assertIn("GMT", result.last_modified)
        self.assertEqual(result.bytes_read, (FIXTURES / "rss2.xml").stat().st_size)
        self.assertGreaterEqual(result.elapsed_ms, 0)
        [request] = self.server.requests
        self.assertIn("OpinionOps", request.user_agent)
        self.assertEqual((request.if_none_match, request.if_modified_since), ("", ""))

    def test_the_next_fetch_with_the_stored_validators_is_not_modified_until_the_feed_changes(self) -> None:
        url = self.server.add("changing.xml", (FIXTURES / "rss2.xml").read_bytes())
        first = feed_fetch(url)
        second = feed_fetch(url, etag=first.etag, last_modified=first.last_modified)
        self.assertEqual((second.status, second.http_status, second.items), ("not_modified", 304, []))
        self.assertEqual((second.etag, second.last_modified), (first.etag, first.last_modified))
        self.assertEqual(self.server.requests[-1].if_none_match, first.etag)
        self.assertEqual(self.server.requests[-1].if_modified_since, first.last_modified)

        self.server.add("changing.xml", (FIXTURES / "atom.xml").read_bytes(), "application/atom+xml")
        third = feed_fetch(url, etag=second.etag, last_modified=second.last_modified)
        self.assertEqual(third.status, "ok")
        self.assertNotEqual(third.etag, first.etag)
        self.assertEqual(len(third.items), 2)

    def test_a_stored_last_modified_alone_is_enough_for_not_modified(self) -> None:
        first = feed_fetch(self.server.url("atom.xml"))
        again = feed_fetch(self.server.url("atom.xml"), last_modified=first.last_modified)
        self.assertEqual(again.status, "not_modified")
        self.assertEqual(again.etag, first.etag)  # the 304 names the current ETag: stored for next time

    def test_server_errors_and_rate_limits_are_worth_retrying_sooner(self) -> None:
        for code in (500, 502, 503, 429, 408):
            with self.subTest(code=code):
                result = feed_fetch(self.server.url(f"status/{code}"), etag='"old"', last_modified="x")
                self.assertEqual((result.status, result.http_status, result.transient), ("failed", code, True))
                self.assertIn(f"HTTP {code}", result.error)
                self.assertEqual((result.etag, result.last_modified), ('"old"', "x"))  # kept for next time
        self.assertIn("限流", feed_fetch(self.server.url("status/429")).error)

    def test_a_missing_or_forbidden_feed_is_not_transient(self) -> None:
        for code, words in ((404, "不存在"), (410, "已删除"), (403, "拒绝访问")):
            with self.subTest(code=code):
                result = feed_fetch(self.server.url(f"status/{code}"))
                self.assertEqual((result.status, result.http_status, result.transient), ("failed", code, False))
                self.assertIn(words, result.error)

    def test_a_silent_server_fails_within_the_timeout(self) -> None:
        started = time.monotonic()
        result = feed_fetch(self.server.url("slow?seconds=5"), timeout=0.4)
        self.assertLess(time.monotonic() - started, 0.9)
        self.assertEqual((result.status, result.http_status, result.transient), ("failed", None, True))
        self.assertIn("没有响应", result.error)

    def test_a_closed_port_reads_the_same_as_a_silent_server(self) -> None:
        # The policy never tells an open port from a closed one before an HTTP answer.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        closed = feed_fetch(f"http://127.0.0.1:{closed_port}/rss.xml", timeout=0.4)
        silent = feed_fetch(self.server.url("slow?seconds=5"), timeout=0.4)
        self.assertEqual(closed.error, silent.error)
        self.assertTrue(closed.transient)

    def test_a_server_trickling_its_body_is_cut_off_at_twice_the_timeout(self) -> None:
        started = time.monotonic()
        result = feed_fetch(self.server.url("trickle"), timeout=0.6)
        self.assertLess(time.monotonic() - started, 1.2 + 0.4)
        self.assertGreaterEqual(result.elapsed_ms, 1100)
        self.assertEqual((result.status, result.http_status, result.transient), ("failed", 200, True))
        self.assertIn("响应过慢", result.error)
        self.assertEqual(result.items, [])

    def test_a_server_trickling_its_headers_is_cut_off_too(self) -> None:
        started = time.monotonic()
        result = feed_fetch(self.server.url("trickle?head=1&every=0.2"), timeout=0.4)
        self.assertLess(time.monotonic() - started, 0.8 + 0.4)
        self.assertEqual((result.status, result.transient), ("failed", True))

    def test_a_huge_feed_is_refused_while_streaming_and_never_kept_whole(self) -> None:
        result = feed_fetch(self.server.url("huge"))
        self.assertEqual((result.status, result.transient), ("failed", False))
        self.assertIn("超过 5 MB", result.error)
        self.assertGreater(result.bytes_read, MAX_FEED_BYTES)
        self.assertLessEqual(result.bytes_read, MAX_FEED_BYTES + 64 * 1024)

    def test_an_announced_size_over_the_limit_is_refused_before_reading(self) -> None:
        result = feed_fetch(self.server.url("rss2.xml"), max_bytes=1000)
        self.assertEqual((result.status, result.bytes_read), ("failed", 0))
        self.assertIn("超过", result.error)
        self.assertEqual(feed_fetch(self.server.url("huge?length=1")).bytes_read, 0)

    def test_it_follows_up_to_three_redirects(self) -> None:
        result = feed_fetch(self.server.url("redirect?to=/rss2.xml&hops=3&code=301"))
        self.assertEqual((result.status, len(result.items)), ("ok", 3))
        self.assertEqual(result.final_url, self.server.url("rss2.xml"))
        self.assertEqual(len(self.server.requests), 4)

        too_many = feed_fetch(self.server.url("redirect?to=/rss2.xml&hops=4"))
        self.assertEqual((too_many.status, too_many.transient), ("failed", False))
        self.assertIn("重定向超过 3 次", too_many.error)

    def test_a_redirect_loop_is_stopped_at_once(self) -> None:
        result = feed_fetch(self.server.url("redirect-loop"))
        self.assertEqual(result.status, "failed")
        self.assertIn("循环", result.error)
        self.assertEqual(len(self.server.requests), 1)

    def test_a_redirect_into_the_intranet_or_to_a_script_is_refused(self) -> None:
        intranet = feed_fetch(self.server.url("redirect?to=http://10.0.0.1/feed.xml"))
        self.assertEqual((intranet.status, intranet.transient), ("failed", False))
        self.assertIn("不能向 10.0.0.1 发送", intranet.error)

        script = feed_fetch(self.server.url("redirect?to=javascript:alert(1)"))
        self.assertEqual(script.status, "failed")
        self.assertIn("重定向到了不能读取的地址", script.error)

    def test_an_address_that_is_not_a_web_link_fails_without_a_request(self) -> None:
        for url in ("", "ftp://edu.example.cn/rss.xml", "file:///etc/passwd", "javascript:alert(1)"):
            with self.subTest(url=url):
                result = feed_fetch(url)
                self.assertEqual((result.status, result.http_status), ("failed", None))
                self.assertIn("http://", result.error)
        self.assertEqual(self.server.requests, [])

    def test_an_unexpected_error_is_reported_not_raised(self) -> None:
        with (
            mock.patch("monitoring.feeds.feed_parse", side_effect=RuntimeError("bug")),
            self.assertLogs("monitoring.feeds", "ERROR"),
        ):
            result = feed_fetch(self.server.url("rss2.xml"), etag='"old"')
        self.assertEqual((result.status, result.etag), ("failed", '"old"'))
        self.assertIn("意外错误", result.error)


@override_settings(OUTBOUND_ALLOWED_NETWORKS=[])
class RefusedAddressTests(FeedServerTestCase):
    def test_a_feed_on_this_machine_is_refused_with_a_clear_message(self) -> None:
        result = feed_fetch(self.server.url("rss2.xml"))
        self.assertEqual((result.status, result.http_status, result.transient), ("failed", None, False))
        self.assertIn("不能向 127.0.0.1 发送", result.error)
        self.assertIn("OUTBOUND_ALLOWED_NETWORKS", result.error)
        self.assertEqual(self.server.requests, [])


@LOCAL_ALLOWED
class FixtureTests(FeedServerTestCase):
    """Each fixture fetched as the poller will, read as a person would notice."""

    def fetch(self, path: str) -> FetchResult:
        result = feed_fetch(self.server.url(path))
        self.assertEqual(result.status, "ok", result.error)
        return result

    def test_rss_items_carry_text_author_and_time(self) -> None:
        result = self.fetch("rss2.xml")
        notice = result.items[0]
        self.assertEqual(notice.external_id, "edu-example-cn-tzgg-1024")
        self.assertEqual(notice.url, "https://edu.example.cn/tzgg/2024/0515/1024.html")
        self.assertEqual(notice.author, "区教育局办公室")
        self.assertEqual(notice.published_at, datetime(2024, 5, 15, 1, 30, tzinfo=UTC))
        # The full text (content:encoded), a line per paragraph and list item, no markup.
        self.assertIn("为规范学校食堂收费行为，切实减轻家长负担", notice.text)
        self.assertIn("\n食堂伙食费实行成本核算，不得以营利为目的。\n", notice.text)
        self.assertNotIn("<", notice.text)
        self.assertEqual(result.skipped, [])

    def test_atom_entries_have_links_resolved_against_the_feed_address(self) -> None:
        result = self.fetch("atom.xml")
        opinion = result.items[0]
        self.assertEqual(opinion.title, "示范市关于进一步规范中小学校服收费的意见")
        self.assertEqual(opinion.url, self.server.url("zwgk/2024/5521.html"))
        self.assertEqual(opinion.external_id, "tag:gov.example.cn,2024:zwgk/5521")
        self.assertEqual(opinion.published_at, datetime(2024, 5, 13, 2, 0, tzinfo=UTC))
        self.assertEqual(
            opinion.text,
            "一、校服实行自愿购买原则，学校不得强制或变相强制学生统一购买。\n二、校服采购价格须经家长委员会参与论证，并向社会公示。",
        )
        self.assertEqual(result.items[1].author, "市市场监管局")

    def test_an_rsshub_weibo_search_reads_as_posts(self) -> None:
        result = self.fetch("rsshub_weibo_search.xml")
        post, repost = result.items
        self.assertEqual(post.title, "#示范区第三实验小学食堂# 今天孩子回来说午饭的菜有异味，学校能不能给个说法？")
        self.assertEqual(post.text, post.title)  # the picture and the hashtag link leave no markup behind
        self.assertEqual(post.author, "家长小王_2024")
        self.assertEqual(post.url, "https://weibo.com/6012345678/OdAbCdEfG")
        self.assertEqual(post.published_at, datetime(2024, 5, 16, 3, 58, 12, tzinfo=UTC))
        self.assertIn("转发 @家长小王_2024: #示范区第三实验小学食堂#", repost.text)

    def test_a_gbk_feed_declared_in_its_prolog_reads_as_correct_chinese(self) -> None:
        # Declared gb2312 while using GBK-only characters (堃, 镕), as many county portals do.
        result = self.fetch("rss_gbk_declared.xml")
        self.assertEqual(result.items[0].title, "县教体局副局长王堃带队督查学校食堂收费")
        self.assertIn("朱镕路小学", result.items[0].text)
        # "2024-05-10 15:20:00" without a zone is Beijing time.
        self.assertEqual(result.items[0].published_at, datetime(2024, 5, 10, 7, 20, tzinfo=UTC))

    def test_a_gbk_feed_declared_only_in_the_http_header_reads_as_correct_chinese(self) -> None:
        result = self.fetch("rss_gbk_header_only.xml?type=application/rss%2Bxml;%20charset=gbk")
        self.assertEqual(result.items[0].title, "本学期学生餐费及代收费项目公示")
        self.assertIn("多退少补", result.items[0].text)

    def test_a_gbk_feed_declared_nowhere_still_reads_as_correct_chinese(self) -> None:
        result = self.fetch("rss_gbk_header_only.xml")  # served as application/xml, no charset
        self.assertEqual(result.items[0].title, "本学期学生餐费及代收费项目公示")

    def test_html_in_titles_and_text_is_stripped_and_scripts_dropped(self) -> None:
        result = self.fetch("rss_html_titles.xml")
        items = by_title(result)
        self.assertEqual(set(items), {"食堂招标结果公示 （第二批）", "学生收费&退费 Q&A"})
        award = items["食堂招标结果公示 （第二批）"]
        self.assertEqual(
            award.text, "中标单位为“示范餐饮管理有限公司”，服务期 三 年。\n公示期内如有异议，可向区教育局反映。"
        )
        self.assertEqual(items["学生收费&退费 Q&A"].text, "哪些费用可以退？\n怎么退？")
        for item in result.items:
            for field in (item.title, item.text):
                for trace in ("<", "alert", "steal", "track", ".article", "&amp;", "&nbsp;"):
                    self.assertNotIn(trace, field)
        [(which, why)] = result.skipped
        self.assertEqual(which, "第 3 条")
        self.assertIn("链接不是网页地址（javascript:", why)

    def test_a_malformed_feed_still_yields_its_readable_entries(self) -> None:
        result = self.fetch("rss_malformed.xml")
        items = by_title(result)
        self.assertEqual(set(items), {"家长质疑课后服务收费标准 & 退费流程", "区教育局：课后服务坚持自愿参加"})
        self.assertEqual(
            items["家长质疑课后服务收费标准 & 退费流程"].text,
            "有家长反映课后服务按学期一次性收费，中途退出无法退费。\n记者 李明",
        )

    def test_a_web_page_is_not_a_feed(self) -> None:
        result = feed_fetch(self.server.url("not_a_feed.html"))
        self.assertEqual((result.status, result.http_status, result.transient), ("failed", 200, False))
        self.assertIn("这是一个网页，不是 RSS 或 Atom 订阅", result.error)

    def test_an_empty_answer_is_not_a_feed(self) -> None:
        result = feed_fetch(self.server.url("empty.xml"))
        self.assertEqual((result.status, result.transient, result.items), ("failed", False, []))
        self.assertIn("内容为空", result.error)

    def test_an_enormous_item_is_truncated_and_says_so(self) -> None:
        result = self.fetch("rss_enormous_item.xml")
        long, short = result.items
        self.assertEqual((len(long.text), long.truncated), (MAX_ITEM_TEXT, True))
        self.assertTrue(long.text.startswith("本段为网友转帖的长篇内容"))
        self.assertEqual((short.text, short.truncated), ("区教育局表示已成立调查组。", False))

    def test_entries_without_links_or_guids_are_kept_and_empty_ones_skipped(self) -> None:
        result = self.fetch("rss_no_links_no_guids.xml")
        letter, question, answer = result.items
        self.assertEqual((letter.title, letter.url), ("反映某小学收取“赞助费”的来信", ""))
        self.assertTrue(letter.external_id.startswith("sha256:"))
        self.assertEqual((question.title, question.text), ("", "来信人询问学生营养餐补助发放时间，已答复。"))
        self.assertNotEqual(letter.external_id, question.external_id)
        self.assertEqual(answer.url, self.server.url("xfdf/2024/0507.html"))
        self.assertEqual(result.skipped, [("第 3 条", "没有标题也没有正文，已跳过。")])

    def test_duplicate_entries_are_read_once_and_reported(self) -> None:
        result = self.fetch("rss_duplicate_guids.xml")
        self.assertEqual(
            [item.title for item in result.items],
            ["三小食堂事件后续：涉事供餐企业被暂停供餐", "多所学校开展家长陪餐活动"],
        )
        self.assertEqual([which for which, _why in result.skipped], ["news-77", "第 4 条"])
        self.assertTrue(all("重复" in why for _which, why in result.skipped))

    def test_dates_in_various_forms_and_a_future_one(self) -> None:
        result = self.fetch("rss_dates.xml")
        published = {item.external_id: item.published_at for item in result.items}
        two_utc = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
        self.assertEqual(
            published,
            {
                "date-rfc822-offset": two_utc,
                "date-rfc822-gmt": two_utc,
                "date-iso-utc": two_utc,
                "date-zoneless": two_utc,  # Beijing 10:00
                "date-chinese": two_utc,  # 2024年5月1日 10:00
                "date-only": datetime(2024, 4, 30, 16, 0, tzinfo=UTC),  # Beijing midnight
                "date-garbage": None,
                "date-none": None,
                "date-future": None,  # year 2100: unknown rather than above everything for 76 years
            },
        )


class ParseTests(SimpleTestCase):
    def rss(self, *items: str) -> bytes:
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
            + "".join(items)
            + "</channel></rss>"
        ).encode()

    def test_garbage_and_json_are_not_feeds(self) -> None:
        for content in (b"\x00\x01\x02garbage\xff", b'{"items": []}', b"   \n"):
            with self.subTest(content=content):
                items, skipped, error = feed_parse(content)
                self.assertEqual((items, skipped), ([], []))
                self.assertTrue(error)

    def test_content_is_never_taken_for_a_file_name(self) -> None:
        # feedparser opens a bytes argument as a path when one exists.
        items, _skipped, error = feed_parse(str(FIXTURES / "rss2.xml").encode())
        self.assertEqual(items, [])
        self.assertIn("无法识别", error)

    def test_a_feed_with_no_entries_is_a_feed(self) -> None:
        self.assertEqual(feed_parse(self.rss()), ([], [], ""))

    def test_at_most_500_entries_are_read_and_the_rest_reported(self) -> None:
        entries = [f"<item><title>第{n}条消息</title><guid>g{n}</guid></item>" for n in range(1, 521)]
        items, skipped, error = feed_parse(self.rss(*entries))
        self.assertEqual((len(items), error), (MAX_FEED_ENTRIES, ""))
        self.assertEqual(items[-1].external_id, "g500")
        self.assertEqual(skipped, [("第 501–520 条", "每次最多读取 500 条，其余未读取。")])

    def test_a_long_guid_is_hashed_and_ids_do_not_depend_on_the_feed_address(self) -> None:
        long_guid = "https://bbs.example.cn/thread?" + "x" * 300
        content = self.rss(
            f"<item><title>a</title><guid>{long_guid}</guid></item>", "<item><title>b</title><guid>b-1</guid></item>"
        )
        first, _skipped, _error = feed_parse(content, base_url="https://one.example.cn/feed")
        second, _skipped, _error = feed_parse(content, base_url="https://two.example.cn/rss/")
        self.assertEqual([item.external_id for item in first], [item.external_id for item in second])
        self.assertTrue(first[0].external_id.startswith("sha256:"))
        self.assertLessEqual(len(first[0].external_id), 255)
        self.assertEqual(first[1].external_id, "b-1")
        self.assertEqual(first[1].url, "")  # a guid that is not a web address is no link

    def test_long_titles_are_cut_and_control_characters_removed(self) -> None:
        title = "食堂" * 400
        [item], _skipped, _error = feed_parse(
            self.rss(f"<item><title>{title}</title><description>a&#8;b\tc</description></item>")
        )
        self.assertEqual(len(item.title), 500)
        self.assertEqual(item.text, "ab c")

    def test_a_web_link_with_a_password_is_dropped_but_the_item_kept(self) -> None:
        [item], skipped, _error = feed_parse(
            self.rss("<item><title>a</title><link>https://u:p@edu.example.cn/1</link></item>")
        )
        self.assertEqual((item.url, skipped), ("", []))

    def test_published_times_are_aware_utc(self) -> None:
        [item], _skipped, _error = feed_parse(
            self.rss("<item><title>a</title><pubDate>Wed, 01 May 2024 10:00:00 +0800</pubDate></item>")
        )
        assert item.published_at is not None
        self.assertEqual(item.published_at.utcoffset(), timedelta(0))

    def test_a_date_up_to_a_day_ahead_is_kept(self) -> None:
        soon = datetime.now(UTC) + timedelta(hours=20)
        stamp = soon.strftime("%a, %d %b %Y %H:%M:%S GMT")
        [item], _skipped, _error = feed_parse(self.rss(f"<item><title>a</title><pubDate>{stamp}</pubDate></item>"))
        self.assertEqual(item.published_at, soon.replace(microsecond=0))


class RetryDelayTests(SimpleTestCase):
    def test_it_doubles_from_the_interval_up_to_six_hours(self) -> None:
        interval = timedelta(minutes=15)
        delays = [feed_retry_delay(interval, failures) for failures in range(7)]
        minutes = [int(delay.total_seconds() // 60) for delay in delays]
        self.assertEqual(minutes, [15, 30, 60, 120, 240, 360, 360])
        self.assertEqual(feed_retry_delay(interval, 10_000), timedelta(hours=6))

    def test_a_source_slower_than_six_hours_keeps_its_interval(self) -> None:
        self.assertEqual(feed_retry_delay(timedelta(days=1), 0), timedelta(days=1))
        self.assertEqual(feed_retry_delay(timedelta(days=1), 5), timedelta(days=1))

    def test_odd_input_gives_a_sane_delay(self) -> None:
        self.assertEqual(feed_retry_delay(timedelta(minutes=30), -3), timedelta(minutes=30))
        self.assertEqual(feed_retry_delay(timedelta(0), 0), timedelta(minutes=1))
        self.assertEqual(feed_retry_delay(timedelta(0), 2), timedelta(minutes=4))
