"""On a phone (390 × 844): the header is one line and nothing is wider than the screen; the incident
page starts with the clocks and the actions (before, the clocks began 1,600 px down); tables are
cards."""

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from opinion_ops.testing import PASSWORD, make_unit, make_user
from tests.test_browser_workflow import CHROMIUM, LAUNCH_ARGS

if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOP = "el => el.getBoundingClientRect().top + window.scrollY"


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def test_a_leader_works_an_incident_on_a_phone(browser: Any, live_server: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from incidents.services.incidents import incident_create

    unit = make_unit("示范区教育局", "district")
    alice = make_user("alice", unit, "leadership", position="head")
    make_user("bob", unit, "monitoring")
    incident = incident_create(
        actor=alice, title="网传某校食堂饭菜变质，家长群大量转发", discovered_at=timezone.now() - timedelta(minutes=3)
    )
    page = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai", is_mobile=True
    ).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    for url in ["/", "/incidents/", f"/incidents/{incident.pk}/"]:
        page.goto(live_server.url + url)
        header = page.locator("header.topbar").bounding_box()
        assert header is not None and header["height"] <= 56, (url, header)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url

    deadlines = page.locator("#deadlines").evaluate(TOP)
    actions = page.locator("#actions").evaluate(TOP)
    facts = page.locator("section.card >> nth=0").evaluate(TOP)
    assert deadlines < actions, (deadlines, actions)
    assert deadlines < 400, deadlines
    assert actions < page.locator("#timeline").evaluate(TOP)
    assert facts >= deadlines

    page.click(".user-menu > summary")
    assert page.locator(".user-menu .menu a:has-text('账号安全')").is_visible()
    page.goto(f"{live_server.url}/incidents/")
    thead = page.locator("table.responsive thead").first
    if thead.count():
        assert thead.evaluate("el => getComputedStyle(el).display") == "none"
    assert re.search(r"列表", page.locator(".mainnav").inner_text())
