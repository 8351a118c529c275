"""The Content-Security-Policy in a real browser: Chromium visits the pages people use and runs what
they run there (the dashboard's ECharts charts and their tooltips, htmx searches, polls and forms, a
form on the incident page, the notifications, the admin, both API docs pages). Every violation the
browser reports (a `securitypolicyviolation` event, a CSP or Permissions-Policy console error, an
htmx refusal to evaluate code, an uncaught script error) fails the test, all of them listed.
"""

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.test_browser_workflow import CHROMIUM, LAUNCH_ARGS  # also skips this module without Chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs in every page before its own scripts (through the DevTools protocol, so the policy does not
# apply to it) and hands each report to Python at once, before a navigation could lose it.
LISTEN = """
(() => {
  const report = (kind, detail) => window.cspReport({kind, page: location.pathname + location.search, ...detail});
  document.addEventListener("securitypolicyviolation", (e) => report("violation", {
    directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample, source: e.sourceFile, line: e.lineNumber,
  }), true);
  document.addEventListener("htmx:evalDisallowedError", (e) => report("htmx eval", {
    source: String(e.target && e.target.outerHTML).slice(0, 200),
  }), true);
})();
"""
CONSOLE = re.compile(r"Content.Security.Policy|Permissions.Policy|Refused to", re.IGNORECASE)
# Nothing may be blocked: every page, the API docs included, loads only this site's own files (the
# vendored Redoc no longer asks for Redocly's logo on cdn.redoc.ly: static/vendor/redoc/VERSION).
INTENDED_BLOCKS: tuple[str, ...] = ()


class Recorder:
    """What the browser reported, from every page of every context."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def watch(self, context: Any) -> None:
        context.expose_function("cspReport", lambda report: self.found.append(f"{report}"))
        context.add_init_script(LISTEN)
        context.on("page", self._watch_page)

    def _watch_page(self, page: Any) -> None:
        page.on("console", lambda m: self._console(page, m))
        page.on("pageerror", lambda error: self.found.append(f"script error on {page.url}: {error}"))

    def _console(self, page: Any, message: Any) -> None:
        if message.type in {"error", "warning"} and CONSOLE.search(message.text):
            self.found.append(f"console on {page.url}: {message.text}")

    def take(self) -> list[str]:
        found, self.found = self.found, []
        return [item for item in found if not any(url in item for url in INTENDED_BLOCKS)]


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def world(transactional_db: Any, settings: Any) -> dict[str, Any]:
    """A unit with an incident waiting for assessment and one with a warning whose statement waits for
    the leader; a notification for the leader and the analyst; a superuser."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from incidents.services import incidents as svc
    from incidents.services import statements
    from notifications.services import notifications_send
    from opinion_ops.testing import make_unit, make_user

    settings.TWO_FACTOR_REQUIRED = False  # the pages, not the second-factor prompt
    superior = make_unit("示范市教育局", "city")
    unit = make_unit("示范区教育局", "district", parent=superior)
    alice = make_user("alice", unit, "leadership", position="head")
    bob = make_user("bob", unit, "monitoring")
    ann = make_user("ann", unit, "analysis")
    sara = make_user("sara", unit, "publicity")
    now = timezone.now()
    waiting = svc.incident_create(actor=bob, title="网传某校收费问题", discovered_at=now - timedelta(minutes=30))
    svc.incident_start_assessment(incident_id=waiting.pk, actor=ann)
    warned = svc.incident_create(actor=bob, title="网传某校食堂饭菜变质", discovered_at=now - timedelta(hours=2))
    svc.incident_start_assessment(incident_id=warned.pk, actor=ann)
    level = warned.plan.levels.get(name="二级")
    svc.assessment_record(
        incident_id=warned.pk, actor=ann, nature="谣言", scope="本地", trend="rising", risk="high", proposed_level=level
    )
    svc.incident_issue_warning(incident_id=warned.pk, actor=alice, level=level)
    statement = statements.statement_create(incident_id=warned.pk, actor=sara, title="情况通报", text="经核查不实。")
    statements.statement_submit(statement_id=statement.pk, actor=sara)
    notifications_send(key="csp-browser", kind="test", title="测试通知", url="/incidents/", recipients=[alice, ann])
    get_user_model().objects.create_superuser("root", password="root-password-for-the-browser-test")
    return {"waiting": waiting, "warned": warned}


def sign_in(context: Any, base: str, username: str, password: str | None = None) -> Any:
    from opinion_ops.testing import PASSWORD

    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/accounts/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", password or PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/")
    return page


def new_context(browser: Any, recorder: Recorder) -> Any:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
    recorder.watch(context)
    return context


def test_the_recorder_catches_what_the_policy_blocks(browser: Any, live_server: Any, world: Any) -> None:
    """Otherwise the test below could pass with the listener broken."""
    recorder = Recorder()
    page = sign_in(new_context(browser, recorder), live_server.url, "ann")
    page.evaluate("""document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>')""")
    page.evaluate("""document.body.insertAdjacentHTML("beforeend", '<img src="x.png" onerror="void 0">')""")
    page.evaluate("""const s = document.createElement("script"); s.textContent = "void 0"; document.body.append(s)""")
    page.wait_for_timeout(500)
    found = "\n".join(recorder.take())
    for directive in ("style-src-attr", "script-src-attr", "script-src-elem"):
        assert directive in found, found


def test_the_pages_people_use_run_without_a_single_policy_violation(
    browser: Any, live_server: Any, world: dict[str, Any]
) -> None:
    recorder = Recorder()
    try:
        seen = visit_the_pages(browser, live_server.url, world, recorder)
    except Exception as exc:  # a step that failed may have failed because something was blocked
        raise AssertionError("\n".join([str(exc), "Reported until then:", *recorder.found])) from exc
    assert seen == ["dashboard", "incident list", "incident page", "notifications", "admin", "API docs"]
    violations = recorder.take()
    assert violations == [], "\n".join(violations)


def visit_the_pages(browser: Any, base: str, world: dict[str, Any], recorder: Recorder) -> list[str]:
    seen: list[str] = []

    # The leader's dashboard: both charts drawn, a chart's tooltip shown, a statement approved via htmx.
    alice = sign_in(new_context(browser, recorder), base, "alice")
    alice.wait_for_selector("[data-chart] svg")
    assert alice.locator("[data-chart] svg").count() == 2
    chart = alice.locator("[data-chart]").first
    box = chart.bounding_box()
    assert box is not None
    chart.hover(position={"x": box["width"] - 30, "y": box["height"] / 2})  # today's bar
    alice.wait_for_selector(".chart-tooltip:has-text('二级')")  # today's tooltip, markup ECharts writes
    alice.locator("[data-testid=approval] button:has-text('同意发布')").click()
    alice.wait_for_selector("[data-testid=approval-status]")
    alice.evaluate("htmx.ajax('GET', '/dashboard/stats/', '#stats')")
    alice.wait_for_selector("#stats [data-chart] svg")
    seen.append("dashboard")

    # The incident list: an htmx search that pushes the address.
    alice.goto(f"{base}/incidents/")
    alice.fill("#id_q", "食堂")
    alice.press("#id_q", "Enter")  # htmx takes the submit
    alice.wait_for_url(re.compile(r"q=%E9%A3%9F%E5%A0%82"))
    assert "食堂" in alice.locator("#results").inner_text()
    seen.append("incident list")

    # An incident page: open the assessment form and submit it.
    ann = sign_in(new_context(browser, recorder), base, "ann")
    ann.goto(f"{base}/incidents/{world['waiting'].pk}/")
    ann.click("#act-assessment > summary")
    ann.fill("#id_assessment_nature", "不实信息")
    ann.fill("#id_assessment_scope", "家长群")
    ann.select_option("#id_assessment_trend", "rising")
    ann.select_option("#id_assessment_risk", "high")
    ann.click("#act-assessment button[type=submit]")
    assert "研判意见已保存" in ann.locator(".messages").inner_text()
    ann.goto(f"{base}/incidents/{world['warned'].pk}/")  # with a level badge, clocks counting down
    ann.wait_for_timeout(1200)  # a countdown tick
    seen.append("incident page")

    # Notifications: one marked read through htmx, the badge refreshed.
    ann.goto(f"{base}/notifications/")
    ann.click("button:has-text('标为已读')")
    ann.wait_for_selector(".notifications li.unread", state="detached")
    ann.goto(f"{base}/notifications/channels/")
    seen.append("notifications")

    # The admin: index, a list with its filters and actions, an incident's and a plan's change forms.
    root = new_context(browser, recorder).new_page()
    root.set_default_timeout(15_000)
    root.goto(f"{base}/admin/login/?next=/admin/")
    root.fill("#id_username", "root")
    root.fill("#id_password", "root-password-for-the-browser-test")
    root.click("input[type=submit], button[type=submit]")
    root.wait_for_url(f"{base}/admin/")
    root.goto(f"{base}/admin/incidents/incident/")
    root.goto(f"{base}/admin/incidents/incident/{world['warned'].pk}/change/")
    root.wait_for_load_state("networkidle")
    root.goto(f"{base}/admin/incidents/emergencyplan/{world['warned'].plan_id}/change/")  # inlines
    root.wait_for_load_state("networkidle")
    seen.append("admin")

    # The API docs, as a signed-in user: Swagger UI with an operation opened, and Redoc.
    alice.goto(f"{base}/api/v1/docs/")
    alice.wait_for_selector(".swagger-ui .opblock")
    alice.locator(".swagger-ui .opblock-summary").first.click()
    alice.wait_for_selector(".swagger-ui .opblock-body")
    alice.goto(f"{base}/api/v1/redoc/")
    alice.wait_for_selector("h1")
    alice.wait_for_load_state("networkidle")
    seen.append("API docs")
    return seen
