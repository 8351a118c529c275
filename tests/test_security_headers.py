"""Security headers on every page, API rate limits that answer before authentication, and the API docs
behind sign-in in production.

* Every HTML page a user of any role (and a superuser, in the admin) can open carries a
  Content-Security-Policy without 'unsafe-inline'/'unsafe-eval' and a Permissions-Policy, and its HTML
  holds nothing that policy would block: no inline script or style, no style attribute, no event
  handler attribute, no javascript: link, nothing htmx would have to eval.
* Anonymous calls and calls with a refused token are counted per address and answered 429 once over
  API_ANON_RATE, on every API view; a valid token or session is never slowed by them; Redis down
  turns the limit off, never into a 500.
* The schema and docs pages need a signed-in user or a token unless API_DOCS_PUBLIC.
"""

import re
from collections.abc import Iterable, Iterator
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory, SimpleTestCase, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import NoReverseMatch
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.models import Incident
from incidents.services import incidents as incident_services
from incidents.services import records as record_services
from incidents.services import statements as statement_services
from integrations.testing import ApiTestCase
from notifications import services as notification_services
from opinion_ops.api.base import ThrottleFirstMixin
from opinion_ops.cache import FailOpenRedisCache
from opinion_ops.testing import BaseTestCase
from tests.test_degraded import DEAD_REDIS
from tests.test_settings import PRODUCTION, run_manage

LIST = "/api/v1/incidents/"
ANON_LIMIT = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"].split("/")[0])
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "hx-get", "hx-post"}
EVAL_ATTRIBUTES = {"hx-vals", "hx-headers", "hx-request", "data-hx-vals", "data-hx-headers"}
DENIED_FEATURES = ["camera", "microphone", "geolocation", "payment", "usb"]


class InlineCode(HTMLParser):
    """Everything in a page that only 'unsafe-inline' or 'unsafe-eval' would let run or apply."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        where = f"line {self.getpos()[0]} <{tag}>"
        named = {name: (value or "") for name, value in attrs}
        if tag == "script" and not named.get("src") and named.get("type", "").lower() != "application/json":
            self.found.append(f"{where}: inline script")
        if tag == "style":
            self.found.append(f"{where}: <style> element")
        for name, value in named.items():
            lowered = value.strip().lower()
            if name == "style":
                self.found.append(f"{where}: style attribute {value!r}")
            elif name.startswith(("hx-on", "data-hx-on")) or name in {"hx-vars", "data-hx-vars"}:
                self.found.append(f"{where}: {name} (htmx evaluates it)")
            elif name.startswith("on"):
                self.found.append(f"{where}: event handler attribute {name}")
            elif name in URL_ATTRIBUTES and lowered.startswith("javascript:"):
                self.found.append(f"{where}: javascript: URL in {name}")
            elif name in EVAL_ATTRIBUTES and lowered.startswith(("js:", "javascript:")):
                self.found.append(f"{where}: {name} with script (htmx evaluates it)")
            elif name in {"hx-trigger", "data-hx-trigger"} and "[" in value:
                self.found.append(f"{where}: hx-trigger filter {value!r} (htmx evaluates it)")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def policy_violations(response: Any) -> list[str]:
    """What is missing or too permissive in the response's Content-Security-Policy."""
    header = response.get("Content-Security-Policy")
    if not header:
        return ["no Content-Security-Policy header"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = [word.lower() for word in words[1:]]
    problems = []
    default = directives.get("default-src", [])
    if default != ["'self'"]:
        problems.append(f"default-src is {default}")
    for name in ("script-src", "style-src", "script-src-elem", "script-src-attr", "style-src-elem", "style-src-attr"):
        sources = directives.get(name, default)
        unsafe = [s for s in sources if "unsafe" in s or s in {"*", "data:", "blob:", "http:", "https:"}]
        if unsafe:
            problems.append(f"{name} allows {unsafe}")
    if directives.get("object-src") != ["'none'"]:
        problems.append("object-src is not 'none'")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append("frame-ancestors is not 'none'")
    return problems


def permissions_policy_violations(response: Any) -> list[str]:
    header = response.get("Permissions-Policy", "")
    return [f"{feature} not denied" for feature in DENIED_FEATURES if f"{feature}=()" not in header]


def no_argument_urls() -> list[str]:
    """Every named route that takes no argument, in every namespace."""
    names: list[str] = []

    def walk(patterns: Iterable[Any], namespace: list[str]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, [*namespace, pattern.namespace] if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.append(":".join([*namespace, pattern.name]))

    walk(get_resolver().url_patterns, [])
    urls = set()
    for name in names:
        try:
            urls.add(reverse(name))
        except NoReverseMatch:
            continue  # needs an argument
    return sorted(urls)


class InlineCodeDetectorTests(SimpleTestCase):
    """The page checks below would pass on anything if the detector found nothing."""

    def test_it_finds_every_kind_of_inline_code(self) -> None:
        page = """
        <script>alert(1)</script>
        <script type="module">import x from "./x.js"</script>
        <style>body { color: red }</style>
        <p style="color: red">x</p>
        <button onclick="go()">x</button>
        <img src="x.png" onerror="go()">
        <a href="javascript:history.back()">back</a>
        <form hx-post="/x" hx-on::after-request="go()"></form>
        <div hx-get="/x" hx-trigger="every 20s[opsIdle(this)]"></div>
        <div hx-get="/x" hx-vals="js:{a: go()}"></div>
        <svg><style>rect { fill: red }</style></svg>
        """
        expected = ["script", "script", "style", "p", "button", "img", "a", "form", "div", "div", "style"]
        self.assertEqual(
            [f"line {n} <{tag}>" for n, tag in enumerate(expected, 2)], [f.split(":")[0] for f in inline_code(page)]
        )

    def test_it_allows_json_data_and_script_files(self) -> None:
        page = """
        <script src="/static/js/app.js" defer></script>
        <script type="application/json" id="data">{"a": 1}</script>
        <link rel="stylesheet" href="/static/css/app.css">
        <div hx-get="/x" hx-trigger="every 20s" data-poll-when-idle hx-headers='{"X-CSRFToken": "t"}'></div>
        <a href="/" data-history-back>back</a>
        """
        self.assertEqual(inline_code(page), [])

    def test_it_refuses_a_policy_that_allows_inline_code(self) -> None:
        strict = {"Content-Security-Policy": "default-src 'self'; object-src 'none'; frame-ancestors 'none'"}
        self.assertEqual(policy_violations(strict), [])
        loose = {"Content-Security-Policy": strict["Content-Security-Policy"] + "; style-src 'self' 'unsafe-inline'"}
        self.assertEqual(policy_violations(loose), ["style-src allows [\"'unsafe-inline'\"]"])
        self.assertEqual(policy_violations({}), ["no Content-Security-Policy header"])


@override_settings(TWO_FACTOR_REQUIRED=False)  # the pages themselves, not the second-factor prompt
class PageHeaderTests(BaseTestCase):
    incident: Incident
    quiet: Incident
    statement: Any

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        now = timezone.now()
        # An incident with a level (badges), a task, a statement waiting for the leader (approval card).
        incident = incident_services.incident_create(
            actor=cls.bob, title="网传某校食堂饭菜变质", discovered_at=now - timedelta(minutes=30)
        )
        incident_services.incident_start_assessment(incident_id=incident.pk, actor=cls.ann)
        incident_services.assessment_record(
            incident_id=incident.pk,
            actor=cls.ann,
            nature="谣言",
            scope="本地论坛",
            trend="rising",
            risk="medium",
            proposed_level=cls.level2,
        )
        incident_services.incident_issue_warning(incident_id=incident.pk, actor=cls.alice, level=cls.level2)
        record_services.task_create(
            incident_id=incident.pk,
            actor=cls.alice,
            title="核实情况",
            assignee=cls.hank,
            due_at=now + timedelta(hours=2),
        )
        cls.statement = statement_services.statement_create(
            incident_id=incident.pk, actor=cls.sara, title="情况通报", text="经核查，网传内容不实。"
        )
        statement_services.statement_submit(statement_id=cls.statement.pk, actor=cls.sara)
        cls.incident = Incident.objects.get(pk=incident.pk)
        cls.quiet = incident_services.incident_create(
            actor=cls.bob, title="另一条舆情", discovered_at=now - timedelta(minutes=5)
        )
        users = list(get_user_model().objects.all())
        notification_services.notifications_send(
            key="csp-test", kind="test", title="测试通知", body="内容", url="/incidents/", recipients=users
        )
        cls.root = get_user_model().objects.create_superuser("root", password="x")

    def pages_for(self, user: Any) -> list[str]:
        """The pages of the site (the admin: only its sign-in page; the API: only its docs pages)."""
        admin, api = reverse("admin:index"), "/api/"
        pages = [url for url in no_argument_urls() if not url.startswith((admin, api)) or url == reverse("admin:login")]
        return [
            *pages,
            reverse("incident_detail", args=[self.incident.pk]),
            reverse("incident_detail", args=[self.quiet.pk]),
            reverse("statement_detail", args=[self.statement.pk]),
            "/api/v1/docs/",
            "/api/v1/redoc/",
        ]

    def sweep(self, client: Client, urls: Iterable[str]) -> Iterator[str]:
        """GET each page; check every response's headers and every HTML page's content. Yields the
        HTML pages checked."""
        for url in urls:
            response = client.get(url)
            with self.subTest(url=url, status=response.status_code):
                self.assertEqual(permissions_policy_violations(response), [])
                self.assertLess(response.status_code, 500)
                if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                    continue
                self.assertEqual(policy_violations(response), [])
                self.assertEqual(inline_code(response.content.decode()), [])
                yield url

    def test_every_page_of_every_role_has_a_strict_policy_and_no_inline_code(self) -> None:
        users = get_user_model().objects.filter(is_superuser=False).order_by("username")
        self.assertGreaterEqual(users.count(), 10)
        checked = {}
        for user in users:
            client = Client()
            client.force_login(user)
            checked[user.username] = set(self.sweep(client, self.pages_for(user)))
            expected = {"/", "/incidents/", "/notifications/", "/api/v1/docs/", "/api/v1/redoc/"}
            self.assertLessEqual(expected, checked[user.username], user.username)
        # The leader sees the most: the approval card, level badges, the warning's clocks and the task.
        incident_page = reverse("incident_detail", args=[self.incident.pk])
        self.assertLessEqual({incident_page, reverse("statement_detail", args=[self.statement.pk])}, checked["alice"])
        client = Client()
        client.force_login(self.alice)
        self.assertContains(client.get("/"), 'data-testid="approval"')
        self.assertContains(client.get(incident_page), "badge level")

    def test_every_admin_page_a_superuser_opens_has_a_strict_policy_and_no_inline_code(self) -> None:
        client = Client()
        client.force_login(self.root)
        site = resolve("/admin/").func.admin_site  # type: ignore[attr-defined]
        change_pages = []
        for model, model_admin in site._registry.items():
            obj = model_admin.get_queryset(_request_for(self.root)).order_by("pk").first()
            if obj is not None:
                opts = model._meta
                change_pages.append(reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        admin_pages = [url for url in no_argument_urls() if url.startswith(reverse(f"{site.name}:index"))]
        checked = set(self.sweep(client, [*admin_pages, *change_pages]))
        self.assertIn(reverse(f"{site.name}:index"), checked)
        self.assertLessEqual(set(change_pages), checked)
        changelists = {
            reverse(f"{site.name}:{model._meta.app_label}_{model._meta.model_name}_changelist")
            for model in site._registry
        }
        self.assertLessEqual(changelists, checked)

    def test_the_pages_a_visitor_sees_have_a_strict_policy_too(self) -> None:
        checked = set(self.sweep(Client(), no_argument_urls()))
        self.assertIn(reverse("login"), checked)

    def test_error_pages_and_api_answers_carry_the_headers(self) -> None:
        client = Client()
        client.force_login(self.charlie)  # another unit: the incident is not found for him
        not_found = client.get(reverse("incident_detail", args=[self.incident.pk]))
        self.assertEqual(not_found.status_code, 404)
        self.assertEqual(policy_violations(not_found), [])
        self.assertEqual(inline_code(not_found.content.decode()), [])
        api = APIClient().get(LIST)
        self.assertEqual(api.status_code, 401)
        self.assertEqual(permissions_policy_violations(api), [])
        self.assertEqual(policy_violations(api), [])

    def test_htmx_injects_no_style_and_evaluates_nothing(self) -> None:
        client = Client()
        client.force_login(self.alice)
        html = client.get("/").content.decode()
        config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'", html)
        assert config is not None
        for setting in ('"includeIndicatorStyles":false', '"allowEval":false'):
            self.assertIn(setting, config.group(1))


def api_routes() -> Iterator[tuple[str, Any]]:
    """(route, view class) of every view under /api/v1/."""

    def walk(patterns: Iterable[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), getattr(pattern.callback, "cls", None) or object

    for route, view in walk(get_resolver().url_patterns, ""):
        if route.startswith("api/v1/"):
            yield route, view


def _request_for(user: Any) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


class ApiThrottleTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        FailOpenRedisCache._last_logged = 0.0

    def exhaust(self, client: APIClient, address: str, **headers: str) -> None:
        """ANON_LIMIT refused calls from `address`: each answered 401, none throttled yet."""
        statuses = {client.get(LIST, REMOTE_ADDR=address, **headers).status_code for _ in range(ANON_LIMIT)}
        self.assertEqual(statuses, {401})

    def test_anonymous_calls_are_answered_429_once_over_the_limit_of_their_address(self) -> None:
        client = APIClient()
        self.exhaust(client, "203.0.113.7")
        response = client.get(LIST, REMOTE_ADDR="203.0.113.7")
        self.assertError(response, 429, "rate_limited")
        self.assertGreaterEqual(int(response["Retry-After"]), 1)
        # Before the permission check could answer, and for writes too.
        self.assertError(client.post(LIST, {"title": "x"}, REMOTE_ADDR="203.0.113.7"), 429, "rate_limited")
        self.assertError(client.get(LIST, REMOTE_ADDR="203.0.113.8"), 401, "not_authenticated")  # per address

    def test_calls_with_an_invalid_token_are_counted_and_answered_429(self) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer oo_deadbeef_not-a-real-token")
        statuses = [client.get(LIST, REMOTE_ADDR="203.0.113.9").status_code for _ in range(ANON_LIMIT)]
        self.assertEqual(set(statuses), {401})
        response = client.get(LIST, REMOTE_ADDR="203.0.113.9")
        self.assertError(response, 429, "rate_limited")
        self.assertTrue(response.has_header("Retry-After"))
        # A revoked token counts the same.
        token, raw = self.token(self.bob)
        from integrations.tokens import api_token_revoke

        api_token_revoke(token_id=token.pk)
        revoked = APIClient()
        revoked.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        self.assertError(revoked.get(LIST, REMOTE_ADDR="203.0.113.9"), 429, "rate_limited")

    def test_a_valid_token_or_session_is_not_slowed_by_someone_elses_failures(self) -> None:
        attacker = APIClient()
        attacker.credentials(HTTP_AUTHORIZATION="Bearer oo_deadbeef_not-a-real-token")
        self.exhaust(attacker, "198.51.100.1")
        self.assertError(attacker.get(LIST, REMOTE_ADDR="198.51.100.1"), 429, "rate_limited")
        integration = self.client_for(self.bob)
        self.assertEqual(integration.get(LIST, REMOTE_ADDR="198.51.100.2").status_code, 200)
        # Even from the same address (an office behind one NAT): a valid credential has its own limit.
        self.assertEqual(integration.get(LIST, REMOTE_ADDR="198.51.100.1").status_code, 200)
        self.assertEqual(self.session_client(self.alice).get(LIST, REMOTE_ADDR="198.51.100.1").status_code, 200)

    def test_a_forged_forwarded_for_does_not_open_a_new_count(self) -> None:
        client = APIClient()
        for n in range(ANON_LIMIT):
            client.get(LIST, REMOTE_ADDR="203.0.113.10", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        response = client.get(LIST, REMOTE_ADDR="203.0.113.10", HTTP_X_FORWARDED_FOR="10.9.9.9")
        self.assertError(response, 429, "rate_limited")

    def test_behind_a_trusted_proxy_each_client_address_has_its_own_count(self) -> None:
        with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
            client = APIClient()
            proxy = {"REMOTE_ADDR": "10.0.0.2"}
            self.exhaust(client, "10.0.0.2", HTTP_X_FORWARDED_FOR="forged, 203.0.113.20")
            self.assertError(client.get(LIST, HTTP_X_FORWARDED_FOR="203.0.113.20", **proxy), 429, "rate_limited")
            self.assertError(client.get(LIST, HTTP_X_FORWARDED_FOR="203.0.113.21", **proxy), 401, "not_authenticated")

    def test_every_api_view_counts_and_refuses_an_address_over_its_limit(self) -> None:
        views = dict(api_routes())
        unthrottled = [route for route, view in views.items() if not issubclass(view, ThrottleFirstMixin)]
        self.assertEqual(unthrottled, [])
        self.assertGreater(len(views), 20)
        client = APIClient()
        self.exhaust(client, "203.0.113.30")
        urls = ["/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/", "/api/v1/no-such-thing/"]
        for name in ("api-incident-list", "api-statement-list", "api-mention-list", "api-notification-list"):
            urls.append(reverse(name))
        urls.append(reverse("api-incident-start-assessment", args=[1]))
        for url in urls:
            with self.subTest(url=url):
                self.assertError(client.get(url, REMOTE_ADDR="203.0.113.30"), 429, "rate_limited")

    def test_with_redis_down_the_limit_is_off_and_nothing_fails(self) -> None:
        with override_settings(CACHES=DEAD_REDIS), self.assertLogs("opinion_ops.cache", "WARNING"):
            client = APIClient()
            statuses = {client.get(LIST, REMOTE_ADDR="203.0.113.40").status_code for _ in range(ANON_LIMIT + 5)}
            self.assertEqual(statuses, {401})
            self.assertEqual(self.client_for(self.bob).get(LIST, REMOTE_ADDR="203.0.113.40").status_code, 200)


class ApiDocsAccessTests(ApiTestCase):
    PAGES = ["/api/v1/schema/", "/api/v1/docs/", "/api/v1/docs/?script", "/api/v1/redoc/"]

    def test_in_development_the_docs_are_open(self) -> None:
        self.assertTrue(settings.API_DOCS_PUBLIC)
        for url in self.PAGES:
            with self.subTest(url=url):
                self.assertEqual(APIClient().get(url).status_code, 200)

    @override_settings(API_DOCS_PUBLIC=False, DEBUG=False)
    def test_in_production_a_visitor_is_sent_to_sign_in_and_a_program_gets_401(self) -> None:
        client = APIClient()
        self.assertError(client.get("/api/v1/schema/"), 401, "not_authenticated")
        self.assertError(client.get("/api/v1/schema/?format=json"), 401, "not_authenticated")
        for url in ["/api/v1/docs/", "/api/v1/redoc/"]:
            with self.subTest(url=url):
                response = client.get(url)
                self.assertEqual(response.status_code, 302)
                self.assertEqual(response["Location"], f"{reverse('login')}?next={url}")
        bad = APIClient()
        bad.credentials(HTTP_AUTHORIZATION="Bearer oo_deadbeef_not-a-real-token")
        self.assertError(bad.get("/api/v1/schema/"), 401, "token_invalid")

    @override_settings(API_DOCS_PUBLIC=False, DEBUG=False)
    def test_in_production_a_signed_in_user_or_any_token_may_read_them(self) -> None:
        session = self.session_client(self.nina)  # no role at all
        for url in self.PAGES:
            with self.subTest(url=url):
                self.assertEqual(session.get(url).status_code, 200)
        reader = self.client_for(self.bob, scope="read")
        schema = reader.get("/api/v1/schema/?format=json")
        self.assertEqual(schema.status_code, 200)
        self.assertIn("/api/v1/incidents/", schema.json()["paths"])

    @override_settings(API_DOCS_PUBLIC=True, DEBUG=False)
    def test_an_operator_may_open_them_in_production(self) -> None:
        for url in self.PAGES:
            with self.subTest(url=url):
                self.assertEqual(APIClient().get(url).status_code, 200)

    def test_production_closes_the_docs_and_reads_addresses_as_sign_in_does(self) -> None:
        code = "from django.conf import settings as s; print(s.API_DOCS_PUBLIC, s.REST_FRAMEWORK['NUM_PROXIES'])"
        self.assertEqual(run_manage(PRODUCTION, "shell", "-c", code).stdout.split()[-2:], ["False", "0"])
        opened = {**PRODUCTION, "API_DOCS_PUBLIC": "true", "TRUSTED_PROXY_COUNT": "1"}
        self.assertEqual(run_manage(opened, "shell", "-c", code).stdout.split()[-2:], ["True", "1"])
