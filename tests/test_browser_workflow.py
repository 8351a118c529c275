"""The browser workflow end to end: log → assess → warn → draft → approve on a phone → publish.

Runs Chromium through Playwright against a live server. Screenshots go to artefacts/ (gitignored).
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opinion_ops.testing import PASSWORD, make_unit, make_user

CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = Path(__file__).resolve().parent.parent / "artefacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip(
        "Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium fonts-noto-cjk)",
        allow_module_level=True,
    )

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def people(transactional_db: Any) -> dict[str, Any]:
    superior = make_unit("示范市教育局", "city")
    unit = make_unit("示范区教育局", "district", parent=superior)
    return {
        "unit": unit,
        "alice": make_user("alice", unit, "leadership", position="head"),
        "bob": make_user("bob", unit, "monitoring"),
        "ann": make_user("ann", unit, "analysis"),
        "hank": make_user("hank", unit, "handling"),
        "sara": make_user("sara", unit, "publicity"),
        "nina": make_user("nina", unit),
    }


def login(browser: Any, base_url: str, username: str, **context: Any) -> Any:
    page = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base_url}/")
    return page


def open_action(page: Any, name: str) -> None:
    page.click(f"#act-{name} > summary")


def test_it_walks_an_incident_from_logging_to_a_published_response(browser: Any, live_server: Any, people: Any) -> None:
    base = live_server.url
    ARTEFACTS.mkdir(exist_ok=True)

    # A monitor logs what they saw: title and discovery time (prefilled with now) are enough.
    bob = login(browser, base, "bob")
    bob.click("text=+ 新建舆情")
    bob.fill("#id_title", "网传某校食堂饭菜变质")
    bob.fill("#id_description", "微博热帖，转发 300 余次")
    bob.fill("#id_source_links", "https://weibo.com/1234")
    bob.select_option("#id_platform", "weibo")
    bob.click("button:has-text('登记')")
    bob.wait_for_url(re.compile(r"/incidents/\d+/$"))
    incident_url = bob.url
    assert bob.locator("[data-testid=state]").inner_text() == "监测"
    assert bob.locator("[data-testid=deadline-public_response] .countdown").is_visible()

    # The analyst takes it into assessment and records the judgement.
    ann = login(browser, base, "ann")
    ann.goto(incident_url)
    ann.click("button:has-text('转入研判')")
    assert ann.locator("[data-testid=state]").inner_text() == "研判"
    open_action(ann, "assessment")
    ann.fill("#id_assessment_nature", "不实信息，涉及学校食品安全")
    ann.fill("#id_assessment_scope", "本地微博、家长群")
    ann.select_option("#id_assessment_trend", "rising")
    ann.select_option("#id_assessment_risk", "high")
    ann.select_option("#id_assessment_proposed_level", label="二级")
    ann.click("#act-assessment button[type=submit]")
    assert "研判意见已保存" in ann.locator(".messages").inner_text()

    # The leader issues a 二级 warning.
    alice = login(browser, base, "alice")
    alice.goto(incident_url)
    open_action(alice, "issue_warning")
    alice.select_option("#id_issue_warning_level", label="二级")
    alice.click("#act-issue_warning button[type=submit]")
    assert alice.locator("[data-testid=state]").inner_text() == "预警"
    assert alice.locator(".incident-head .badge").inner_text() == "二级"

    # The spokesperson drafts the statement and submits it for approval.
    sara = login(browser, base, "sara")
    sara.goto(incident_url)
    open_action(sara, "statement")
    sara.select_option("#id_statement_kind", "response")
    sara.fill("#id_statement_title", "关于网传我区某校食堂问题的情况通报")
    sara.fill("#id_statement_text", "经核查，网传视频系 2019 年外地旧闻，与我区学校无关。")
    sara.click("#act-statement button[type=submit]")
    sara.click("button:has-text('提交领导审定')")
    assert sara.locator("[data-testid=statement-status]").inner_text() == "待审定"

    # The leader approves on the dashboard, on a phone, in one tap.
    phone = login(browser, base, "alice", viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    card = phone.locator("[data-testid=approval]")
    assert "情况通报" in card.inner_text()
    approve = card.locator("button:has-text('同意发布')")
    box = approve.bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 390  # a thumb-sized target
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    approve.click()
    phone.wait_for_selector("[data-testid=approval-status]")
    assert phone.locator("[data-testid=approval-status]").inner_text() == "已审定"
    phone.screenshot(path=str(ARTEFACTS / "dashboard-phone.png"), full_page=True)

    # The spokesperson marks the approved version as published: the 3-hour clock is met.
    sara.goto(incident_url)
    sara.click("summary:has-text('标记为已发布')")
    sara.fill("input[name=channel]", "官方微博")
    sara.fill("input[name=url]", "https://weibo.com/official/1")
    sara.click("button:has-text('确认已发布')")
    assert sara.locator("[data-testid=statement-status]").inner_text() == "已发布"
    assert sara.locator("[data-testid=deadline-public_response]").inner_text().count("已按时完成") == 1
    sara.screenshot(path=str(ARTEFACTS / "incident-page.png"), full_page=True)

    # The worker recounts the unit's statistics within a tick of the change (here: its sweep, run now).
    from incidents.services.statistics import unit_statistics_sweep

    assert unit_statistics_sweep() == 1
    desk = login(browser, base, "alice", viewport={"width": 1366, "height": 900})
    desk.wait_for_selector("[data-chart] svg")
    assert "100%" in desk.locator("[data-testid=rate-public_response]").inner_text()
    desk.screenshot(path=str(ARTEFACTS / "dashboard-desktop.png"), full_page=True)


def test_a_user_without_the_permission_sees_no_button_and_is_refused(
    browser: Any, live_server: Any, people: Any
) -> None:
    from django.utils import timezone

    from incidents.services import incidents as svc
    from incidents.services.incidents import incident_create

    incident = incident_create(actor=people["bob"], title="网传某校收费问题", discovered_at=timezone.now())
    svc.incident_start_assessment(incident_id=incident.pk, actor=people["ann"])
    svc.assessment_record(
        incident_id=incident.pk, actor=people["ann"], nature="咨询", scope="家长群", trend="stable", risk="low"
    )
    base = live_server.url
    hank = login(browser, base, "hank")
    hank.goto(f"{base}/incidents/{incident.pk}/")
    assert hank.locator("#act-issue_warning").count() == 0
    assert hank.locator("text=发布预警").count() == 0

    # Posting the form anyway (as a crafted request would) is refused and changes nothing.
    token = next(c["value"] for c in hank.context.cookies() if c["name"] == "csrftoken")
    response = hank.request.post(
        f"{base}/incidents/{incident.pk}/act/issue_warning/",
        form={"level": str(incident.plan.levels.get(name="二级").pk), "expected_version": str(incident.version + 2)},
        headers={"X-CSRFToken": token, "Referer": f"{base}/incidents/{incident.pk}/"},
    )
    assert response.status in (403, 409)
    response = hank.request.post(
        f"{base}/incidents/{incident.pk}/act/issue_warning/",
        form={"level": str(incident.plan.levels.get(name="二级").pk)},
        headers={"X-CSRFToken": token, "Referer": f"{base}/incidents/{incident.pk}/"},
    )
    assert response.status == 403
    assert "只有研判组、领导小组或其办公室可以发布预警" in response.text()
    incident.refresh_from_db()
    assert incident.state == "assessing"

    nina = login(browser, base, "nina")
    nina.goto(f"{base}/incidents/{incident.pk}/")
    assert "当前没有您可以执行的操作" in nina.locator("#actions").inner_text()
