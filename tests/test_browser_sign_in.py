"""Two-factor sign-in in a real browser: a leader binds an authenticator at first sign-in and goes on
to work; the binding page stays put while the header's fragments poll (before, each poll answered
with a redirect to the binding page itself, and the page reloaded endlessly with a growing `next`)."""

import base64
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django_otp.oath import totp

from opinion_ops.testing import PASSWORD, make_unit, make_user
from tests.test_browser_workflow import CHROMIUM, LAUNCH_ARGS

if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def code_from(secret: str) -> str:
    raw = secret.replace(" ", "")
    key = base64.b32decode(raw + "=" * (-len(raw) % 8))
    return f"{totp(key):06d}"


def test_a_leader_binds_an_authenticator_at_first_sign_in(browser: Any, live_server: Any, settings: Any) -> None:
    settings.TWO_FACTOR_REQUIRED = True
    unit = make_unit("示范区教育局", "district")
    make_user("alice", unit, "leadership", position="head")
    page = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    page.set_default_timeout(15_000)
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/two-factor/enrol/"))
    time.sleep(2)  # the header's badge has asked for itself by now
    assert len([url for url in loads if "/two-factor/enrol/" in url]) == 1, loads
    assert "%252F" not in page.url
    page.fill("input[name=code]", code_from(page.locator("dl.facts code").inner_text()))
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/two-factor/recovery-codes/"))
    assert page.locator("ol.recovery-codes li").count() == 10
    page.click("text=我已妥善保存，继续")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1, h2").first.is_visible()
