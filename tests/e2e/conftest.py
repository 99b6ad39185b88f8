"""Browser tests: headless Chromium (the machine's /usr/bin/chromium) driven by Playwright.

Run with `make e2e` (`pytest -m e2e -p no:xdist`); `make test` skips them. The pages are
served by pytest-django's `live_server` in a thread of this process, so every test that
uses `page` gets a transactional database the server can see, and settings and the
locmem cache changed in a test are the server's too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("SCARRX_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
E2E_DIR = Path(__file__).resolve().parent
TIMEOUT_MS = 10_000


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Belt and braces: anything under tests/e2e/ is an e2e test, so `make test` skips it."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    # Playwright's sync API runs an asyncio loop in this thread, and Django refuses database
    # calls from a thread with a running loop ("You cannot call this from an async
    # context"). Allowed only while the browser is up, so the unit tests keep the check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test, pointed at the live server."""
    cache.clear()  # the login throttle's counts: no test inherits another's failures
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-US"
    )
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sign_in(page: Page) -> Callable[..., Page]:
    """sign_in(user) signs in through the login form and waits to leave it."""

    def _sign_in(user, password: str = PASSWORD) -> Page:
        page.goto("/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="Sign in").click()
        if posted.value.status != 302:
            page.wait_for_load_state()
            errors = page.locator(".errorlist").all_inner_texts()
            pytest.fail(f"sign-in as {user.username} refused ({posted.value.status}): {errors}")
        expect(page).not_to_have_url(re.compile(r"/login/"))
        return page

    return _sign_in


@pytest.fixture
def screenshot(page: Page) -> Callable[[str], Path]:
    """screenshot(name) saves a full-page PNG under test-results/ for people to look at."""

    def _shot(name: str) -> Path:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
