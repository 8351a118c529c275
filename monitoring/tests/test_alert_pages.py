"""The alerts pages as the on-duty monitors use them: the unit's alerts (active first, filtered,
refreshing itself), one alert with its posts and the words that hit marked, 确认 / 排除 / 登记为舆情,
and the 「监测预警」 card on the dashboard."""

from typing import Any
from unittest import mock

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents import dashboard_cards
from incidents.models import Incident, State
from monitoring.alerts import alert_dismiss, posts_match
from monitoring.dashboard import ALERTS_CARD
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import Alert, KeywordScheme, Mention, Source
from monitoring.views.alerts import text_highlight
from opinion_ops.testing import PASSWORD, BaseTestCase, sign_in

ALERTS = reverse("monitoring:alerts")


def detail(alert: Alert) -> str:
    return reverse("monitoring:alert_detail", args=[alert.pk])


def act(alert: Alert, action: str) -> str:
    return reverse("monitoring:alert_act", args=[alert.pk, action])


class AlertPageTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.sources = {unit.pk: source_of_kind(unit.pk, Source.Kind.API) for unit in (self.unit, self.other_unit)}

    def login(self, user: Any) -> None:
        self.client.logout()
        self.assertTrue(sign_in(self.client, user.username, PASSWORD))

    def scheme(self, unit: Any = None, **fields: Any) -> KeywordScheme:
        fields.setdefault("name", "食堂安全")
        fields.setdefault("regions", "示范区")
        fields.setdefault("subjects", "一中")
        fields.setdefault("events", "食堂")
        return KeywordScheme.objects.create(organization=unit or self.unit, created_by=self.bob, **fields)

    def raise_alert(self, *texts: str, unit: Any = None, **scheme_fields: Any) -> Alert:
        scheme = self.scheme(unit=unit, **scheme_fields)
        source = self.sources[(unit or self.unit).pk]
        result = posts_ingest(source_id=source.pk, posts=[PostIn(text=text) for text in texts])
        posts_match(result.created)
        return Alert.objects.get(scheme=scheme)


class AlertListTests(AlertPageTestCase):
    def test_it_shows_the_units_alerts_active_first_with_who_handled_them(self) -> None:
        closed = self.raise_alert("示范区一中收费", name="已排除的方案", events="收费")
        alert_dismiss(alert_id=closed.pk, actor=self.bob, reason="广告")
        active = self.raise_alert("示范区一中食堂", name="在办方案", severity="high")
        self.raise_alert("示范区一中校车", unit=self.other_unit, name="邻区方案", events="校车")
        self.login(self.ann)
        page = self.client.get(ALERTS)
        self.assertEqual([alert.pk for alert in page.context["alerts"]], [active.pk, closed.pk])
        self.assertNotContains(page, "邻区方案")
        self.assertContains(page, "紧急")
        self.assertContains(page, "排除：Bob")
        self.assertContains(page, 'hx-trigger="every 30s"')

    def test_it_filters_by_status_severity_and_scheme(self) -> None:
        dismissed = self.raise_alert("示范区一中收费", name="甲方案", severity="low", events="收费")
        alert_dismiss(alert_id=dismissed.pk, actor=self.bob, reason="旧闻")
        open_alert = self.raise_alert("示范区一中食堂", name="乙方案", severity="high")
        self.login(self.bob)

        def shown(query: str) -> list[int]:
            return [alert.pk for alert in self.client.get(ALERTS + query).context["alerts"]]

        self.assertEqual(shown("?status=dismissed"), [dismissed.pk])
        self.assertEqual(shown("?severity=high"), [open_alert.pk])
        self.assertEqual(shown(f"?scheme={dismissed.scheme_id}"), [dismissed.pk])
        page = self.client.get(ALERTS + "?status=bogus")  # a wrong filter is shown, never a 500
        self.assertContains(page, "筛选条件有误")

    def test_its_poll_answers_the_list_alone_keeping_the_filters(self) -> None:
        self.raise_alert("示范区一中食堂")
        self.login(self.bob)
        fragment = self.client.get(ALERTS + "?severity=medium", HTTP_HX_REQUEST="true")
        self.assertNotContains(fragment, "<html")
        self.assertContains(fragment, 'hx-get="/monitoring/?severity=medium"')
        self.assertContains(fragment, "食堂安全")

    def test_it_is_refused_to_those_without_a_role_in_the_unit(self) -> None:
        alert = self.raise_alert("示范区一中食堂")
        self.login(self.nina)
        self.assertEqual(self.client.get(ALERTS).status_code, 403)
        self.assertEqual(self.client.get(detail(alert)).status_code, 403)
        self.assertEqual(self.client.post(act(alert, "acknowledge")).status_code, 403)
        self.assertEqual(Alert.objects.get(pk=alert.pk).status, "open")
        self.login(self.uma)  # configures monitoring, handles no alerts: the home leads to the sources
        self.assertRedirects(self.client.get(ALERTS), reverse("monitoring:sources"), fetch_redirect_response=False)
        self.assertEqual(self.client.get(detail(alert)).status_code, 403)
        self.client.logout()
        login = f"{reverse('login')}?next={ALERTS}"
        self.assertRedirects(self.client.get(ALERTS), login, fetch_redirect_response=False)


class AlertDetailTests(AlertPageTestCase):
    def test_another_units_alert_is_not_found(self) -> None:
        alert = self.raise_alert("示范区一中食堂")
        self.login(self.charlie)
        self.assertEqual(self.client.get(detail(alert)).status_code, 404)
        self.assertEqual(self.client.post(act(alert, "acknowledge")).status_code, 404)
        self.assertEqual(self.client.post(act(alert, "convert")).status_code, 404)
        self.assertEqual(Alert.objects.get(pk=alert.pk).status, "open")

    def test_it_marks_the_words_that_hit_and_escapes_the_post(self) -> None:
        alert = self.raise_alert("<script>alert(1)</script>示範區一中食堂<b>出事</b>")
        self.login(self.bob)
        page = self.client.get(detail(alert))
        self.assertContains(page, "&lt;script&gt;alert(1)&lt;/script&gt;")
        self.assertNotContains(page, "<script>alert(1)")
        self.assertNotContains(page, "<b>出事")
        # Written in traditional characters, marked as written.
        self.assertContains(page, "<mark>示範區一中食堂</mark>&lt;b&gt;")

    def test_text_highlight_merges_overlapping_words_and_ignores_width_and_case(self) -> None:
        self.assertEqual(text_highlight("ＡＢＣ食堂a<b", ["abc", "c食", "堂"]), "<mark>ＡＢＣ食堂</mark>a&lt;b")
        self.assertEqual(text_highlight("<i>", []), "&lt;i&gt;")

    def test_the_posts_are_newest_first_fifty_a_page(self) -> None:
        alert = self.raise_alert(*[f"示范区一中食堂 第{i}条" for i in range(51)])
        self.login(self.bob)
        first = self.client.get(detail(alert))
        self.assertEqual(len(first.context["rows"]), 50)
        self.assertTrue(first.context["has_next"])
        second = self.client.get(detail(alert) + "?page=2")
        self.assertEqual(len(second.context["rows"]), 1)
        newest = Mention.objects.order_by("-captured_at", "-id").values_list("pk", flat=True)[0]
        self.assertEqual(first.context["rows"][0]["post"].pk, newest)

    def test_acknowledge_then_a_stale_page_is_told_to_refresh(self) -> None:
        alert = self.raise_alert("示范区一中食堂")
        self.login(self.bob)
        response = self.client.post(act(alert, "acknowledge"), {"expected_version": alert.version}, follow=True)
        self.assertContains(response, "已确认这条预警")
        self.assertEqual(Alert.objects.get(pk=alert.pk).acknowledged_by, self.bob)
        stale = self.client.post(act(alert, "dismiss"), {"dismiss-reason": "广告", "dismiss-expected_version": 1})
        self.assertContains(stale, "刚被其他人处理过", status_code=409)
        self.assertEqual(Alert.objects.get(pk=alert.pk).status, "acknowledged")

    def test_dismiss_needs_a_reason_next_to_the_field(self) -> None:
        alert = self.raise_alert("示范区一中食堂")
        self.login(self.bob)
        response = self.client.post(act(alert, "dismiss"), {"dismiss-reason": "  "})
        self.assertContains(response, 'id="id_dismiss-reason_error"', status_code=400)
        self.assertContains(response, "请填写排除理由。", status_code=400)
        self.assertEqual(Alert.objects.get(pk=alert.pk).status, "open")
        self.client.post(act(alert, "dismiss"), {"dismiss-reason": "广告，与本单位无关"})
        self.assertEqual(Alert.objects.get(pk=alert.pk).dismiss_reason, "广告，与本单位无关")

    def test_a_closed_alert_has_no_buttons_and_refuses_actions(self) -> None:
        alert = self.raise_alert("示范区一中食堂")
        alert_dismiss(alert_id=alert.pk, actor=self.bob, reason="旧闻")
        self.login(self.bob)
        page = self.client.get(detail(alert))
        self.assertContains(page, "旧闻")
        for action in ("acknowledge", "dismiss", "convert"):
            self.assertNotContains(page, act(alert, action))
        self.assertContains(self.client.post(act(alert, "convert")), "已经处理完毕", status_code=409)
        self.assertEqual(self.client.post(act(alert, "delete")).status_code, 404)

    def test_convert_registers_an_incident_in_monitoring_with_the_posts(self) -> None:
        alert = self.raise_alert("示范区一中食堂 甲", "示范区一中食堂 乙", threshold_posts=2)
        self.login(self.bob)
        response = self.client.post(act(alert, "convert"), {"expected_version": alert.version})
        alert.refresh_from_db()
        self.assertRedirects(response, reverse("incident_detail", args=[alert.incident_id]))
        self.assertEqual(alert.status, "converted")
        assert alert.incident_id is not None
        self.assertTrue(Incident.objects.filter(pk=alert.incident_id, state=State.MONITORING).exists())
        self.assertEqual(Mention.objects.filter(incident_id=alert.incident_id).count(), 2)


class DashboardCardTests(AlertPageTestCase):
    def setUp(self) -> None:
        super().setUp()
        # What monitoring's AppConfig.ready() does; restored after the test.
        patcher = mock.patch.dict(dashboard_cards._cards, {ALERTS_CARD.name: ALERTS_CARD})
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_it_shows_the_active_alerts_not_the_closed_ones(self) -> None:
        active = self.raise_alert("示范区一中食堂", name="在办方案")
        closed = self.raise_alert("示范区一中收费", name="已排除方案", events="收费")
        alert_dismiss(alert_id=closed.pk, actor=self.bob, reason="广告")
        self.login(self.alice)
        page = self.client.get(reverse("home"))
        self.assertContains(page, "监测预警")
        self.assertContains(page, detail(active))
        self.assertNotContains(page, detail(closed))
        self.assertContains(self.client.get(reverse("dashboard_live")), detail(active))

    def test_it_is_not_shown_to_members_without_a_role(self) -> None:
        self.raise_alert("示范区一中食堂")
        self.login(self.nina)
        self.assertNotContains(self.client.get(reverse("home")), 'data-testid="dashboard-alerts"')

    def test_it_costs_one_query_whatever_the_number_of_alerts(self) -> None:
        self.raise_alert("示范区一中事件0", name="方案0", events="事件0")
        self.login(self.alice)

        def queries() -> int:
            cache.clear()
            with CaptureQueriesContext(connection) as captured:
                self.assertEqual(self.client.get(reverse("dashboard_live")).status_code, 200)
            return len(captured.captured_queries)

        queries()  # the first request of a session may differ
        few = queries()
        for i in range(1, 12):
            self.raise_alert(f"示范区一中事件{i}", name=f"方案{i}", events=f"事件{i}")
        self.assertEqual(queries(), few)
        with mock.patch.dict(dashboard_cards._cards):
            del dashboard_cards._cards["monitoring_alerts"]
            self.assertEqual(queries(), few - 1)  # the alerts card costs one query
