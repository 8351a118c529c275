"""Monitoring over the API as other systems use it: batches of posts through the one ingest path
(duplicates, rejected rows, retries), the unit's schemes and alerts, each unit kept apart and each
token held to its scope."""

from typing import Any

from incidents.models import Incident, State
from integrations.testing import ApiTestCase
from monitoring.alerts import alert_dismiss, posts_match
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import Alert, KeywordScheme, Mention, Source

INGEST = "/api/v1/posts/ingest/"
ALERTS = "/api/v1/alerts/"
SCHEMES = "/api/v1/schemes/"


def alert_url(alert: Alert, action: str = "") -> str:
    return f"{ALERTS}{alert.pk}/" + (f"{action}/" if action else "")


class MonitoringApiTestCase(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()

    def scheme(self, unit: Any = None, **fields: Any) -> KeywordScheme:
        fields.setdefault("name", "食堂安全")
        fields.setdefault("events", "食堂")
        return KeywordScheme.objects.create(
            organization=unit or self.unit, regions="示范区", subjects="一中", created_by=self.bob, **fields
        )

    def raise_alert(self, unit: Any = None, **fields: Any) -> Alert:
        scheme = self.scheme(unit=unit, **fields)
        source = source_of_kind((unit or self.unit).pk, Source.Kind.API)
        text = f"示范区一中{scheme.events}（{scheme.name}）"  # a new post each time
        posts_match(posts_ingest(source_id=source.pk, posts=[PostIn(text=text)]).created)
        return Alert.objects.get(scheme=scheme)


class IngestTests(MonitoringApiTestCase):
    def test_it_stores_new_posts_counts_duplicates_and_lists_rejected_rows(self) -> None:
        client = self.client_for(self.bob, scope="ingest")
        batch = {
            "posts": [
                {"text": "示范区一中食堂", "external_id": "w-1", "platform": "weibo", "url": "https://weibo.com/1"},
                {"text": "同一条（已编辑）", "external_id": "w-1"},
                {"text": "链接不对", "url": "javascript:alert(1)"},
                {"txt": "字段名写错"},
                "不是对象",
                {"text": "时间不对", "published_at": "昨天"},
                {"title": "只有标题", "text": "", "author": "@某人", "published_at": "2026-01-02T03:04:05+08:00"},
            ]
        }
        response = client.post(INGEST, batch, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual((body["created"], body["duplicates"]), (2, 1))
        self.assertEqual(
            [(row["index"], row["field"]) for row in body["rejected"]],
            [(2, "url"), (3, "txt"), (4, ""), (5, "published_at")],
        )
        self.assertTrue(all(row["message"] for row in body["rejected"]))
        post = Mention.objects.get(external_id="w-1")
        api_source = source_of_kind(self.unit.pk, Source.Kind.API)
        self.assertEqual((post.organization, post.platform, post.source_id), (self.unit, "weibo", api_source.pk))
        again = client.post(INGEST, batch, format="json")
        self.assertEqual((again.status_code, again.json()["created"], again.json()["duplicates"]), (200, 0, 3))
        self.assertEqual(Mention.objects.count(), 2)

    def test_the_tokens_unit_decides_where_posts_go(self) -> None:
        client = self.client_for(self.charlie, scope="ingest")
        self.assertEqual(client.post(INGEST, {"posts": [{"text": "邻区的帖子"}]}, format="json").status_code, 201)
        self.assertEqual(Mention.objects.get().organization, self.other_unit)
        # A unit cannot be named: the field is unknown.
        refused = client.post(INGEST, {"posts": [], "organization": self.unit.pk}, format="json")
        self.assertError(refused, 400, "invalid", field="organization")

    def test_it_takes_a_named_api_source_of_the_unit_only(self) -> None:
        named = Source.objects.create(organization=self.unit, kind=Source.Kind.API, name="网信办推送")
        Source.objects.create(
            organization=self.unit, kind=Source.Kind.FEED, name="某订阅源", url="https://a.example/rss"
        )
        Source.objects.create(organization=self.other_unit, kind=Source.Kind.API, name="邻区推送")
        client = self.client_for(self.bob, scope="ingest")
        ok = client.post(INGEST, {"source": "网信办推送", "posts": [{"text": "甲"}]}, format="json")
        self.assertEqual(ok.status_code, 201)
        self.assertEqual(Mention.objects.get().source, named)
        for name in ("某订阅源", "邻区推送", "没有这个"):
            body = {"source": name, "posts": [{"text": "乙"}]}
            self.assertError(client.post(INGEST, body, format="json"), 400, "invalid", field="source")
        Source.objects.filter(pk=named.pk).update(enabled=False)
        body = {"source": "网信办推送", "posts": [{"text": "丙"}]}
        self.assertError(client.post(INGEST, body, format="json"), 400, "invalid", field="source")
        self.assertEqual(Mention.objects.count(), 1)

    def test_a_batch_over_the_limit_or_a_malformed_body_is_refused_whole(self) -> None:
        client = self.client_for(self.bob, scope="ingest")
        too_many = {"posts": [{"text": f"帖子{i}"} for i in range(1001)]}
        self.assertError(client.post(INGEST, too_many, format="json"), 400, "invalid", field="posts")
        self.assertError(client.post(INGEST, {"posts": "帖子"}, format="json"), 400, "invalid", field="posts")
        self.assertError(client.post(INGEST, {}, format="json"), 400, "invalid", field="posts")
        self.assertError(client.post(INGEST, [], format="json"), 400, "invalid")
        bad_json = client.post(INGEST, "{posts", content_type="application/json")
        self.assertError(bad_json, 400, "parse_error")
        self.assertEqual(Mention.objects.count(), 0)

    def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(self) -> None:
        client = self.client_for(self.bob, scope="ingest")
        body = {"posts": [{"text": "示范区一中食堂", "external_id": "k-1"}]}
        first = client.post(INGEST, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-7")
        replay = client.post(INGEST, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-7")
        self.assertEqual((replay.status_code, replay.json()), (201, first.json()))
        self.assertEqual(replay.headers["Idempotent-Replayed"], "true")
        other = {"posts": [{"text": "另一批"}]}
        self.assertError(
            client.post(INGEST, other, format="json", HTTP_IDEMPOTENCY_KEY="batch-7"), 422, "idempotency_key_reused"
        )
        self.assertEqual(Mention.objects.count(), 1)

    def test_an_ingest_token_may_push_posts_and_nothing_else(self) -> None:
        alert = self.raise_alert()
        client = self.client_for(self.bob, scope="ingest")
        self.assertEqual(client.post(INGEST, {"posts": [{"text": "甲"}]}, format="json").status_code, 201)
        self.assertError(client.get(ALERTS), 403, "token_scope")
        self.assertError(client.get(SCHEMES), 403, "token_scope")
        self.assertError(client.post(alert_url(alert, "acknowledge"), {}, format="json"), 403, "token_scope")
        reader = self.client_for(self.bob, scope="read")
        self.assertError(reader.post(INGEST, {"posts": [{"text": "乙"}]}, format="json"), 403, "token_scope")
        self.assertEqual(reader.get(ALERTS).status_code, 200)

    def test_a_user_without_a_role_may_not_push_posts(self) -> None:
        client = self.client_for(self.nina, scope="write")
        self.assertError(client.post(INGEST, {"posts": [{"text": "甲"}]}, format="json"), 403, "permission_denied")
        self.assertEqual(Mention.objects.count(), 0)


class AlertApiTests(MonitoringApiTestCase):
    def test_it_lists_and_filters_the_units_alerts_with_what_may_be_done(self) -> None:
        dismissed = self.raise_alert(name="甲方案", events="收费")
        alert_dismiss(alert_id=dismissed.pk, actor=self.bob, reason="旧闻")
        active = self.raise_alert(name="乙方案")
        self.raise_alert(unit=self.other_unit, name="邻区方案")
        client = self.client_for(self.bob)

        def ids(query: str = "") -> list[int]:
            response = client.get(ALERTS + query)
            self.assertEqual(response.status_code, 200, response.content)
            return [row["id"] for row in response.json()["results"]]

        self.assertEqual(ids(), [active.pk, dismissed.pk])
        self.assertEqual(ids("?status=open&status=acknowledged"), [active.pk])
        self.assertEqual(ids(f"?scheme={dismissed.scheme_id}"), [dismissed.pk])
        self.assertError(client.get(ALERTS + "?status=bogus"), 400, "invalid", field="status")
        row = client.get(alert_url(active)).json()
        self.assertEqual(row["scheme_name"], "乙方案")
        self.assertEqual(row["available_actions"], ["acknowledge", "dismiss", "convert"])
        self.assertEqual(client.get(alert_url(dismissed)).json()["available_actions"], [])

    def test_another_units_alert_is_not_found(self) -> None:
        alert = self.raise_alert()
        client = self.client_for(self.charlie)
        self.assertEqual(client.get(ALERTS).json()["count"], 0)
        self.assertError(client.get(alert_url(alert)), 404, "not_found")
        for action in ("acknowledge", "convert"):
            self.assertError(client.post(alert_url(alert, action), {}, format="json"), 404, "not_found")
        self.assertError(client.post(alert_url(alert, "dismiss"), {"reason": "x"}, format="json"), 404, "not_found")
        self.assertEqual(Alert.objects.get(pk=alert.pk).status, "open")

    def test_acknowledge_dismiss_and_convert_go_through_the_services(self) -> None:
        alert = self.raise_alert()
        client = self.client_for(self.bob)
        acknowledged = client.post(alert_url(alert, "acknowledge"), {"version": alert.version}, format="json")
        self.assertEqual(acknowledged.json()["status"], "acknowledged")
        stale = client.post(alert_url(alert, "convert"), {"version": alert.version}, format="json")
        self.assertError(stale, 409, "stale")
        self.assertError(client.post(alert_url(alert, "acknowledge"), {}, format="json"), 409, "invalid_transition")
        self.assertError(client.post(alert_url(alert, "dismiss"), {}, format="json"), 400, "invalid", field="reason")
        converted = client.post(alert_url(alert, "convert"), {}, format="json").json()
        self.assertEqual(converted["status"], "converted")
        alert.refresh_from_db()
        self.assertEqual(alert.incident_id, converted["incident"])
        self.assertTrue(Incident.objects.filter(pk=converted["incident"], state=State.MONITORING).exists())

    def test_members_without_a_role_may_not_read_alerts(self) -> None:
        self.raise_alert()
        self.assertError(self.client_for(self.nina).get(ALERTS), 403, "permission_denied")


class SchemeApiTests(MonitoringApiTestCase):
    def test_it_lists_the_units_schemes_read_only(self) -> None:
        ours = self.scheme()
        self.scheme(unit=self.other_unit, name="邻区方案")
        client = self.client_for(self.bob)
        rows = client.get(SCHEMES).json()["results"]
        self.assertEqual([(row["id"], row["name"]) for row in rows], [(ours.pk, "食堂安全")])
        self.assertError(client.post(SCHEMES, {"name": "新方案"}, format="json"), 405, "method_not_allowed")
        theirs = KeywordScheme.objects.get(name="邻区方案")
        self.assertError(client.get(f"{SCHEMES}{theirs.pk}/"), 404, "not_found")
