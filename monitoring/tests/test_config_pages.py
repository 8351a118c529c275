"""监测 → 信息来源, 监测方案, 值班表, 监测设置: who may read and change them, sources with their health,
schemes checked (the field and character of a mistake) and tried before saving, a saved scheme used
for the next post, the duty roster's rules, the unit's settings; every change audited."""

from datetime import timedelta
from typing import Any

from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring import alerts
from monitoring.alerts import posts_match
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import (
    Alert,
    DutyShift,
    KeywordScheme,
    Mention,
    MonitoringSettings,
    PostPurge,
    SchemeMatch,
    Source,
)
from opinion_ops.testing import PASSWORD, BaseTestCase, sign_in
from organizations.models import AuditEntry

SOURCES = reverse("monitoring:sources")
SOURCE_ADD = reverse("monitoring:source_add")
SCHEMES = reverse("monitoring:schemes")
SCHEME_ADD = reverse("monitoring:scheme_add")
DUTY = reverse("monitoring:duty")
SETTINGS = reverse("monitoring:monitoring_settings")
LISTS = [SOURCES, SCHEMES, DUTY, SETTINGS]


def local(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


class ConfigPagesTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.api = source_of_kind(self.unit.pk, Source.Kind.API)

    def feed(self, unit: Any = None, **fields: Any) -> Source:
        fields.setdefault("name", "区教育网")
        fields.setdefault("url", "https://news.example.cn/rss")
        return Source.objects.create(organization=unit or self.unit, kind=Source.Kind.FEED, **fields)

    def scheme(self, unit: Any = None, **fields: Any) -> KeywordScheme:
        fields.setdefault("name", "食堂安全")
        fields.setdefault("regions", "示范区")
        fields.setdefault("subjects", "一中")
        fields.setdefault("events", "食堂 中毒")
        return KeywordScheme.objects.create(organization=unit or self.unit, created_by=self.bob, **fields)

    def scheme_form(self, **overrides: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": "食堂安全",
            "regions": "示范区",
            "subjects": "一中、实验小学",
            "events": "食堂 中毒",
            "exclusions": "",
            "expression": "",
            "scope": "full",
            "severity": "high",
            "threshold_posts": "1",
            "window_minutes": "60",
            "watched_accounts": "",
            "enabled": "on",
            "action": "save",
        }
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}

    def ingest(self, *texts: str, source: Source | None = None, **fields: Any) -> list[int]:
        result = posts_ingest(source_id=(source or self.api).pk, posts=[PostIn(text=t, **fields) for t in texts])
        posts_match(result.created)
        return result.created


class AccessTests(ConfigPagesTestCase):
    def test_monitors_leaders_and_administrators_open_and_change(self) -> None:
        for user in (self.bob, self.alice, self.uma):
            self.client.force_login(user)
            for url in [*LISTS, SOURCE_ADD, SCHEME_ADD]:
                with self.subTest(user=user.username, url=url):
                    response = self.client.get(url)
                    self.assertEqual(response.status_code, 200)
            self.assertContains(self.client.get(SCHEMES), f'href="{SCHEME_ADD}"')
        self.client.force_login(self.uma)
        self.client.post(SETTINGS, {"exclusions": "广告", "retention_days": "90"})
        self.assertEqual(MonitoringSettings.objects.get(organization=self.unit).retention_days, 90)

    def test_a_handler_reads_the_lists_but_changes_nothing(self) -> None:
        feed, scheme = self.feed(), self.scheme()
        self.client.force_login(self.hank)
        for url in [*LISTS, reverse("monitoring:scheme_edit", args=[scheme.pk])]:
            self.assertEqual(self.client.get(url).status_code, 200, url)
        self.assertNotContains(self.client.get(SCHEMES), f'href="{SCHEME_ADD}"')
        self.assertNotContains(self.client.get(SOURCES), reverse("monitoring:source_poll", args=[feed.pk]))
        self.assertEqual(self.client.get(SOURCE_ADD).status_code, 403)
        self.assertEqual(self.client.get(SCHEME_ADD).status_code, 403)
        posts = [
            (SOURCE_ADD, {"name": "X", "url": "https://x.example.cn/rss", "platform": "news", "interval_minutes": 5}),
            (reverse("monitoring:source_poll", args=[feed.pk]), {}),
            (reverse("monitoring:source_delete", args=[feed.pk]), {}),
            (SCHEME_ADD, self.scheme_form(name="另一个")),
            (reverse("monitoring:scheme_edit", args=[scheme.pk]), self.scheme_form(events="收费")),
            (DUTY, {"user": self.hank.pk, "starts_at": local(timezone.now()), "ends_at": local(timezone.now())}),
            (SETTINGS, {"exclusions": "", "retention_days": "30"}),
        ]
        for url, data in posts:
            self.assertEqual(self.client.post(url, data).status_code, 403, url)
        self.assertEqual(Source.objects.filter(kind="feed").count(), 1)
        self.assertEqual(KeywordScheme.objects.get().events, "食堂 中毒")
        self.assertFalse(DutyShift.objects.exists() or MonitoringSettings.objects.exists())
        self.assertFalse(AuditEntry.objects.filter(action__startswith="monitoring.").exists())

    def test_someone_without_a_role_or_a_login_is_kept_out(self) -> None:
        response = self.client.get(SOURCES)
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("login"), response["Location"])
        self.client.force_login(self.nina)  # in the unit, in no working group
        for url in LISTS:
            self.assertEqual(self.client.get(url).status_code, 403, url)

    def test_another_units_rows_are_not_found(self) -> None:
        feed, scheme = self.feed(), self.scheme()
        shift = DutyShift.objects.create(
            organization=self.unit,
            user=self.bob,
            starts_at=timezone.now() + timedelta(hours=1),
            ends_at=timezone.now() + timedelta(hours=9),
        )
        self.client.force_login(self.carl)  # the other unit's administrator
        for url in [
            reverse("monitoring:source_edit", args=[feed.pk]),
            reverse("monitoring:scheme_edit", args=[scheme.pk]),
        ]:
            self.assertEqual(self.client.get(url).status_code, 404, url)
        posts = [
            (
                reverse("monitoring:source_edit", args=[feed.pk]),
                {"name": "X", "url": feed.url, "platform": "news", "interval_minutes": 5},
            ),
            (reverse("monitoring:source_poll", args=[feed.pk]), {}),
            (reverse("monitoring:source_disable", args=[feed.pk]), {}),
            (reverse("monitoring:source_delete", args=[feed.pk]), {}),
            (reverse("monitoring:scheme_edit", args=[scheme.pk]), self.scheme_form(events="收费")),
            (reverse("monitoring:duty_remove", args=[shift.pk]), {}),
        ]
        for url, data in posts:
            self.assertEqual(self.client.post(url, data).status_code, 404, url)
        feed.refresh_from_db()
        self.assertEqual((feed.name, feed.enabled), ("区教育网", True))
        self.assertTrue(DutyShift.objects.filter(pk=shift.pk).exists())
        self.assertNotContains(self.client.get(SOURCES), "区教育网")
        self.assertNotContains(self.client.get(SCHEMES), "食堂安全")

    def test_a_forged_post_without_the_csrf_token_is_refused(self) -> None:
        strict = Client(enforce_csrf_checks=True)
        sign_in(strict, "bob", PASSWORD)
        self.assertEqual(strict.post(SCHEME_ADD, self.scheme_form()).status_code, 403)
        self.assertFalse(KeywordScheme.objects.exists())

    def test_the_top_bar_and_the_sub_navigation_lead_here(self) -> None:
        self.client.force_login(self.hank)
        response = self.client.get(SOURCES)
        for url in LISTS:
            self.assertContains(response, f'href="{url}"')
        self.assertContains(response, 'aria-current="page">信息来源')
        self.assertContains(response, f'<a href="{reverse("monitoring:alerts")}" aria-current="page">监测</a>')
        self.client.force_login(self.nina)  # no working group: no 监测 in the top bar
        self.assertNotContains(self.client.get(reverse("incident_list")), ">监测</a>")

    def test_the_sub_navigation_given_only_the_current_page_shows_what_members_open(self) -> None:
        request = RequestFactory().get("/monitoring/alerts/7/")
        context = {"monitoring_nav": "alerts", "current_roles": {"handler"}, "request": request}
        html = render_to_string("monitoring/partials/nav.html", context)
        self.assertIn(f'<a href="{reverse("monitoring:alerts")}" aria-current="page">预警</a>', html)
        self.assertIn(f'<a href="{SOURCES}" >信息来源</a>', html)
        self.assertNotIn('href=""', html)


class SourceTests(ConfigPagesTestCase):
    def test_a_feed_is_added_and_due_at_once(self) -> None:
        self.client.force_login(self.bob)
        data = {"name": "区政府网", "url": "https://gov.example.cn/rss", "platform": "news", "interval_minutes": "30"}
        data["enabled"] = "on"
        self.assertRedirects(self.client.post(SOURCE_ADD, data), SOURCES)
        feed = Source.objects.get(kind="feed")
        self.assertEqual((feed.url, feed.interval_minutes, feed.enabled), ("https://gov.example.cn/rss", 30, True))
        self.assertLess(abs((feed.next_fetch_at - timezone.now()).total_seconds()), 60)
        entry = AuditEntry.objects.get(action="monitoring.source_add")
        self.assertEqual((entry.organization_id, entry.actor, entry.after["url"]), (self.unit.pk, self.bob, feed.url))

    @override_settings(OUTBOUND_ALLOWED_NETWORKS=[])
    def test_a_feed_at_a_private_address_or_a_bad_interval_is_refused(self) -> None:
        self.client.force_login(self.bob)
        for url, interval, field, message in [
            ("http://127.0.0.1:8080/rss", "15", "url", "内网"),
            ("http://localhost/rss", "15", "url", "内网"),
            ("http://10.1.2.3/rss", "15", "url", "OUTBOUND_ALLOWED_NETWORKS"),
            ("javascript:alert(1)", "15", "url", "http://"),
            ("https://gov.example.cn/rss", "0", "interval_minutes", "1"),
            ("https://gov.example.cn/rss", "1441", "interval_minutes", "1440"),
        ]:
            with self.subTest(url=url, interval=interval):
                response = self.client.post(
                    SOURCE_ADD, {"name": "内网源", "url": url, "platform": "news", "interval_minutes": interval}
                )
                self.assertContains(response, f'id="id_{field}_error"', status_code=400)
                self.assertContains(response, message, status_code=400)
                self.assertContains(response, url.replace("&", "&amp;"), status_code=400)  # what was typed stays
        self.assertFalse(Source.objects.filter(kind="feed").exists())

    @override_settings(OUTBOUND_ALLOWED_NETWORKS=["10.0.0.0/8"])
    def test_an_operator_may_allow_an_intranet_network(self) -> None:
        self.client.force_login(self.bob)
        data = {"name": "内网源", "url": "http://10.1.2.3/rss", "platform": "news", "interval_minutes": "15"}
        self.assertRedirects(self.client.post(SOURCE_ADD, data), SOURCES)

    def test_the_health_view_shows_each_sources_state_and_intake(self) -> None:
        failing = self.feed(
            name="坏掉的源",
            failures=3,
            last_error="HTTP 503",
            last_error_at=timezone.now() - timedelta(minutes=5),
            last_success_at=timezone.now() - timedelta(days=2),
            interval_minutes=20,
        )
        healthy = self.feed(name="好的源", url="https://ok.example.cn/rss", last_success_at=timezone.now())
        posts_ingest(source_id=healthy.pk, posts=[PostIn(text="一"), PostIn(text="二")], match=False)
        posts_ingest(source_id=self.api.pk, posts=[PostIn(text="三")], match=False)
        Mention.objects.filter(text="二").update(captured_at=timezone.now() - timedelta(days=2))
        self.client.force_login(self.hank)
        response = self.client.get(SOURCES)
        content = response.content.decode()
        failing_row = content.split(f'id="source-{failing.pk}"')[1].split("</tr>")[0]
        self.assertIn("HTTP 503", failing_row)
        self.assertIn('class="count-pill danger">3<', failing_row)
        self.assertIn("20 分钟", failing_row)
        self.assertIn(timezone.localtime(failing.last_error_at).strftime("%Y-%m-%d %H:%M"), failing_row)
        healthy_row = content.split(f'id="source-{healthy.pk}"')[1].split("</tr>")[0]
        self.assertIn(">1</span> · <span", healthy_row.split("近 7 天")[-1])  # two days ago
        self.assertIn("共 2", healthy_row)
        self.assertRegex(healthy_row, r'class="num">2</td>')  # items in total
        api_row = content.split(f'id="source-{self.api.pk}"')[1].split("</tr>")[0]
        self.assertIn("接口推送", api_row)
        self.assertIn("共 1", api_row)

    def test_the_list_costs_the_same_queries_for_one_source_or_many(self) -> None:
        self.client.force_login(self.bob)
        self.feed()
        with CaptureQueriesContext(connection) as few:
            self.client.get(SOURCES)
        for n in range(5):
            self.feed(name=f"源{n}", url=f"https://s{n}.example.cn/rss")
        with CaptureQueriesContext(connection) as many:
            self.assertContains(self.client.get(SOURCES), "源4")
        self.assertEqual(len(many), len(few))

    def test_poll_now_makes_the_feed_due_without_fetching_it(self) -> None:
        feed = self.feed(next_fetch_at=timezone.now() + timedelta(hours=1))
        self.client.force_login(self.bob)
        self.assertRedirects(self.client.post(reverse("monitoring:source_poll", args=[feed.pk])), SOURCES)
        feed.refresh_from_db()
        self.assertLessEqual(feed.next_fetch_at, timezone.now())
        self.assertIsNone(feed.last_fetch_at)  # the sweeper fetches it, not the request
        self.assertTrue(AuditEntry.objects.filter(action="monitoring.source_poll").exists())

    def test_a_feed_with_posts_is_disabled_instead_of_deleted(self) -> None:
        used, unused = self.feed(), self.feed(name="没用过", url="https://unused.example.cn/rss")
        posts_ingest(source_id=used.pk, posts=[PostIn(text="一条")], match=False)
        self.client.force_login(self.bob)
        response = self.client.post(reverse("monitoring:source_delete", args=[used.pk]), follow=True)
        self.assertContains(response, "不能删除")
        used.refresh_from_db()
        self.assertEqual((used.enabled, used.next_fetch_at), (False, None))
        self.client.post(reverse("monitoring:source_delete", args=[unused.pk]))
        self.assertFalse(Source.objects.filter(pk=unused.pk).exists())
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        self.assertTrue({"monitoring.source_disable", "monitoring.source_delete"} <= actions)

    def test_re_enabling_a_feed_makes_it_due_at_once(self) -> None:
        feed = self.feed(enabled=False)
        self.client.force_login(self.bob)
        data = {"name": "区教育网", "url": feed.url, "platform": "weibo", "interval_minutes": "60", "enabled": "on"}
        self.assertRedirects(self.client.post(reverse("monitoring:source_edit", args=[feed.pk]), data), SOURCES)
        feed.refresh_from_db()
        self.assertEqual((feed.enabled, feed.platform, feed.interval_minutes), (True, "weibo", 60))
        self.assertLessEqual(feed.next_fetch_at, timezone.now())
        entry = AuditEntry.objects.get(action="monitoring.source_update")
        self.assertEqual((entry.before["enabled"], entry.after["enabled"]), (False, True))

    def test_the_api_source_can_only_be_renamed(self) -> None:
        self.client.force_login(self.bob)
        edit = reverse("monitoring:source_edit", args=[self.api.pk])
        self.assertNotContains(self.client.get(edit), 'name="url"')
        data = {"name": "舆情系统推送", "platform": "weibo", "url": "http://127.0.0.1/", "interval_minutes": "1"}
        self.assertRedirects(self.client.post(edit, data), SOURCES)
        self.api.refresh_from_db()
        self.assertEqual((self.api.name, self.api.platform, self.api.url), ("舆情系统推送", "weibo", ""))
        self.assertEqual(self.client.post(reverse("monitoring:source_poll", args=[self.api.pk])).status_code, 302)
        self.api.refresh_from_db()
        self.assertIsNone(self.api.next_fetch_at)


class SchemeTests(ConfigPagesTestCase):
    def test_an_invalid_expression_is_shown_at_its_field_and_character_and_nothing_is_saved(self) -> None:
        self.client.force_login(self.bob)
        response = self.client.post(SCHEME_ADD, self.scheme_form(expression="学校 + ) 食堂"))
        self.assertContains(response, "第 6 个字符处多了一个右括号", status_code=400)
        content = response.content.decode()
        self.assertIn("第 6 个字符处多了一个右括号", content.split('id="id_expression_error"')[1].split("</ul>")[0])
        self.assertIn("学校 + <mark>)</mark> 食堂", content)
        self.assertIn('value="食堂安全"', content)  # what was typed stays
        self.assertFalse(KeywordScheme.objects.exists())
        self.assertFalse(AuditEntry.objects.filter(action__startswith="monitoring.").exists())

    def test_a_bad_word_list_is_shown_at_its_field(self) -> None:
        self.client.force_login(self.bob)
        long_word = "很" * 51
        response = self.client.post(SCHEME_ADD, self.scheme_form(events=f"食堂 {long_word}"))
        content = response.content.decode()
        self.assertEqual(response.status_code, 400)
        self.assertIn("超过 50 个字", content.split('id="id_events_error"')[1].split("</ul>")[0])
        self.assertIn(f"食堂 <mark>很</mark>{'很' * 50}", content)
        response = self.client.post(SCHEME_ADD, self.scheme_form(regions="", subjects="", events="", exclusions="广告"))
        self.assertContains(response, "至少需要一个必须出现的关键词", status_code=400)
        self.assertFalse(KeywordScheme.objects.exists())

    def test_trying_shows_what_it_would_match_with_the_words_marked_and_saves_nothing(self) -> None:
        self.ingest("網傳示範區一中食堂<b>中毒</b>", title="示范区一中")
        self.ingest("实验小学开学典礼")
        old = self.ingest("示范区一中食堂中毒（旧闻）")
        Mention.objects.filter(pk__in=old).update(captured_at=timezone.now() - timedelta(days=31))
        self.client.force_login(self.bob)
        response = self.client.post(SCHEME_ADD, self.scheme_form(action="try"))
        self.assertContains(response, "试用结果")
        self.assertContains(response, "会命中 1 条")
        self.assertContains(response, "網傳<mark>示範區一中食堂</mark>&lt;b&gt;<mark>中毒</mark>&lt;/b&gt;")
        self.assertContains(response, "<strong><mark>示范区一中</mark></strong>")
        self.assertNotContains(response, "开学典礼")
        self.assertNotContains(response, "旧闻")  # older than 30 days
        self.assertNotContains(response, "<b>")
        self.assertFalse(KeywordScheme.objects.exists())
        self.assertFalse(AuditEntry.objects.filter(action__startswith="monitoring.").exists())

    def test_trying_an_edit_leaves_the_saved_scheme_alone(self) -> None:
        scheme = self.scheme()
        self.ingest("示范区一中乱收费")
        self.client.force_login(self.bob)
        edit = reverse("monitoring:scheme_edit", args=[scheme.pk])
        response = self.client.post(edit, self.scheme_form(events="收费", action="try", expected_version=1))
        self.assertContains(response, "<mark>收费</mark>")
        scheme.refresh_from_db()
        self.assertEqual((scheme.events, scheme.version), ("食堂 中毒", 1))

    def test_a_saved_change_is_used_for_the_next_post(self) -> None:
        self.client.force_login(self.bob)
        self.assertRedirects(self.client.post(SCHEME_ADD, self.scheme_form()), SCHEMES)
        scheme = KeywordScheme.objects.get()
        self.assertEqual((scheme.created_by, scheme.severity, scheme.version), (self.bob, "high", 1))
        self.ingest("示范区一中食堂中毒")
        self.assertEqual(SchemeMatch.objects.filter(scheme=scheme).count(), 1)
        edit = reverse("monitoring:scheme_edit", args=[scheme.pk])
        self.assertRedirects(self.client.post(edit, self.scheme_form(events="收费", expected_version=1)), SCHEMES)
        self.ingest("示范区一中乱收费", "示范区一中食堂再次中毒")
        matched = SchemeMatch.objects.filter(scheme=scheme).values_list("mention__text", flat=True)
        self.assertEqual(sorted(matched), ["示范区一中乱收费", "示范区一中食堂中毒"])
        entry = AuditEntry.objects.get(action="monitoring.scheme_update")
        self.assertEqual(
            (entry.before["events"], entry.after["events"], entry.after["version"]), ("食堂 中毒", "收费", 2)
        )

    def test_changing_only_the_recipients_moves_the_version_and_the_change_time(self) -> None:
        scheme = self.scheme()
        before = scheme.updated_at
        self.client.force_login(self.bob)
        data = self.scheme_form(
            events=scheme.events,
            subjects=scheme.subjects,
            severity="medium",
            expected_version=1,
            recipients=[self.alice.pk],
        )
        self.assertRedirects(self.client.post(reverse("monitoring:scheme_edit", args=[scheme.pk]), data), SCHEMES)
        scheme.refresh_from_db()
        self.assertEqual(list(scheme.recipients.all()), [self.alice])
        self.assertEqual(scheme.version, 2)
        self.assertGreater(scheme.updated_at, before)

    def test_a_stale_edit_is_refused_with_a_clear_message(self) -> None:
        scheme = self.scheme(version=3)
        self.client.force_login(self.bob)
        response = self.client.post(
            reverse("monitoring:scheme_edit", args=[scheme.pk]), self.scheme_form(events="收费", expected_version=2)
        )
        self.assertContains(response, "刚被其他人修改过", status_code=409)
        self.assertContains(response, "收费", status_code=409)  # what was typed stays
        scheme.refresh_from_db()
        self.assertEqual((scheme.events, scheme.version), ("食堂 中毒", 3))

    def test_recipients_are_members_of_the_unit_and_limits_hold(self) -> None:
        self.client.force_login(self.bob)
        for data, field in [
            (self.scheme_form(recipients=[self.charlie.pk]), "recipients"),
            (self.scheme_form(threshold_posts="0"), "threshold_posts"),
            (self.scheme_form(window_minutes="10081"), "window_minutes"),
        ]:
            with self.subTest(field=field):
                self.assertContains(self.client.post(SCHEME_ADD, data), f'id="id_{field}_error"', status_code=400)
        self.assertFalse(KeywordScheme.objects.exists())
        self.scheme(name="已有")
        self.assertContains(self.client.post(SCHEME_ADD, self.scheme_form(name="已有")), "已有名为", status_code=400)

    def test_the_list_shows_recent_matches_and_the_rule(self) -> None:
        scheme = self.scheme(threshold_posts=5, window_minutes=30, watched_accounts="@甲\n@乙")
        self.ingest("示范区一中食堂中毒 1", "示范区一中食堂中毒 2")
        first = SchemeMatch.objects.filter(scheme=scheme).order_by("id")[:1].values_list("pk", flat=True)
        SchemeMatch.objects.filter(pk__in=list(first)).update(matched_at=timezone.now() - timedelta(hours=25))
        alert = Alert.objects.create(
            organization=self.unit,
            scheme=scheme,
            severity="high",
            reason="x",
            first_matched_at=timezone.now(),
            last_matched_at=timezone.now(),
        )
        self.client.force_login(self.hank)
        row = self.client.get(SCHEMES).content.decode().split(f'id="scheme-{scheme.pk}"')[1].split("</tr>")[0]
        self.assertIn("30 分钟内命中 5 条；重点关注账号 2 个", row)
        self.assertIn('class="num">1</td>', row)  # one match in the last 24 hours
        self.assertIn("示范区 + 一中 + (食堂 | 中毒)", row)
        self.assertIn(f'href="{reverse("monitoring:alert_detail", args=[alert.pk])}"', row)  # its active alert


class DutyTests(ConfigPagesTestCase):
    def shift(self, **data: Any) -> Any:
        now = timezone.now()
        form = {
            "user": self.ann.pk,
            "starts_at": local(now - timedelta(hours=1)),
            "ends_at": local(now + timedelta(hours=8)),
            "note": "夜班",
        }
        form.update(data)
        return self.client.post(DUTY, form)

    def test_a_shift_is_added_and_who_is_on_duty_is_shown(self) -> None:
        self.client.force_login(self.bob)
        self.assertRedirects(self.shift(), DUTY)
        shift = DutyShift.objects.get()
        self.assertEqual((shift.organization, shift.user, shift.note), (self.unit, self.ann, "夜班"))
        self.assertEqual(alerts.on_duty(self.unit.pk, timezone.now()), [self.ann.pk])
        on_duty = self.client.get(DUTY).content.decode().split('id="on-duty"')[1].split("</section>")[0]
        self.assertIn("Ann", on_duty)
        self.assertTrue(AuditEntry.objects.filter(action="monitoring.duty_add", organization=self.unit).exists())

    def test_a_shift_must_be_a_member_end_after_start_and_last_at_most_31_days(self) -> None:
        self.client.force_login(self.bob)
        now = timezone.now()
        for data, field, message in [
            ({"user": self.charlie.pk}, "user", "选择"),
            ({"ends_at": local(now - timedelta(hours=2))}, "ends_at", "晚于开始时间"),
            ({"ends_at": local(now + timedelta(days=31))}, "ends_at", "31 天"),
            (
                {"starts_at": local(now - timedelta(days=2)), "ends_at": local(now - timedelta(days=1))},
                "ends_at",
                "已经过去",
            ),
            ({"starts_at": "明天"}, "starts_at", ""),
        ]:
            with self.subTest(field=field, message=message):
                response = self.shift(**data)
                self.assertContains(response, f'id="id_{field}_error"', status_code=400)
                self.assertContains(response, message, status_code=400)
        self.assertFalse(DutyShift.objects.exists())

    def test_a_current_or_future_shift_is_removed_a_finished_one_stays(self) -> None:
        now = timezone.now()
        current = DutyShift.objects.create(
            organization=self.unit, user=self.ann, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
        )
        finished = DutyShift.objects.create(
            organization=self.unit, user=self.ann, starts_at=now - timedelta(hours=9), ends_at=now - timedelta(hours=1)
        )
        self.client.force_login(self.alice)
        self.assertRedirects(self.client.post(reverse("monitoring:duty_remove", args=[current.pk])), DUTY)
        response = self.client.post(reverse("monitoring:duty_remove", args=[finished.pk]), follow=True)
        self.assertContains(response, "已结束的值班不能删除")
        self.assertEqual(list(DutyShift.objects.all()), [finished])
        self.assertEqual(AuditEntry.objects.get(action="monitoring.duty_remove").before["user"], self.ann.pk)
        self.assertContains(response, "当前无人值班")


class SettingsTests(ConfigPagesTestCase):
    def test_retention_is_between_7_and_3650_days(self) -> None:
        self.client.force_login(self.bob)
        for days in ["6", "3651", ""]:
            with self.subTest(days=days):
                response = self.client.post(SETTINGS, {"exclusions": "广告", "retention_days": days})
                self.assertContains(response, 'id="id_retention_days_error"', status_code=400)
        self.assertFalse(MonitoringSettings.objects.exists())
        response = self.client.post(SETTINGS, {"exclusions": "很" * 51, "retention_days": "30"})
        self.assertContains(response, 'id="id_exclusions_error"', status_code=400)

    def test_saved_settings_exclude_the_next_posts_and_are_audited(self) -> None:
        scheme = self.scheme()
        self.ingest("示范区一中食堂中毒")
        self.client.force_login(self.bob)
        self.assertRedirects(self.client.post(SETTINGS, {"exclusions": "演练、广告", "retention_days": "30"}), SETTINGS)
        self.ingest("示范区一中食堂中毒应急演练")
        self.assertEqual(SchemeMatch.objects.filter(scheme=scheme).count(), 1)
        entry = AuditEntry.objects.get(action="monitoring.settings_update")
        self.assertEqual((entry.before, entry.after), (None, {"exclusions": "演练、广告", "retention_days": 30}))
        response = self.client.get(SETTINGS)
        self.assertContains(response, "当前 30 天")
        self.assertContains(response, "未关联任何舆情事件")

    def test_the_last_purges_are_listed(self) -> None:
        PostPurge.objects.create(
            organization=self.unit, cutoff=timezone.now() - timedelta(days=180), posts_deleted=4321
        )
        PostPurge.objects.create(organization=self.other_unit, cutoff=timezone.now(), posts_deleted=9876)
        self.client.force_login(self.hank)
        response = self.client.get(SETTINGS)
        self.assertContains(response, "4321")
        self.assertNotContains(response, "9876")
        self.assertNotContains(response, 'type="submit" class="primary"')
