"""Signing in through the login page, and the throttle on repeated wrong passwords."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD


def submit_login(page: Page, username: str, password: str) -> int:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign in").click()
    return posted.value.status


@pytest.mark.e2e
def test_repeated_wrong_passwords_make_the_page_say_wait(page: Page, screenshot, pharmacist):
    cache.clear()  # the throttle counts in the (per-process, locmem) cache
    limit = settings.LOGIN_ATTEMPTS_PER_15_MINUTES
    page.goto("/login/")
    for _ in range(limit):
        assert submit_login(page, pharmacist.username, "wrong-password") == 200
        expect(page.locator(".errorlist.nonfield")).to_contain_text("correct username")

    # Over the limit: refused with a plain instruction, even with the right password.
    assert submit_login(page, pharmacist.username, PASSWORD) == 429
    message = page.locator(".errorlist.nonfield")
    expect(message).to_contain_text("Too many failed sign-in attempts")
    expect(message).to_contain_text("Wait 15 minutes")
    screenshot("login-throttled")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.goto("/patients/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/patients/"))

    cache.clear()


@pytest.mark.e2e
def test_signing_in_leads_to_the_worklist_then_the_patient_list(
    page: Page, sign_in, pharmacist, patient
):
    cache.clear()
    sign_in(pharmacist)
    expect(page).to_have_url(re.compile(r"/worklist/$"))  # the staff home page
    expect(page.locator("header.console")).to_contain_text("Phil Pharm")
    page.locator("header.console").get_by_role("link", name="Patients").click()
    expect(page).to_have_url(re.compile(r"/patients/$"))
    expect(page.get_by_role("link", name="Example, Ada")).to_be_visible()
