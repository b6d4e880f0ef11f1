"""End to end in a real browser: Debian's Chromium against pytest-django's live
server, signing in the way the demo's physio and patient do."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core import mail
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser import CLINIC_NAME, LINK_PATTERN, PATIENT, PHYSIO, sign_in


def test_the_demo_physio_signs_in_and_sees_the_dashboard(page: Page, demo: LiveServer) -> None:
    page.goto(demo.url + "/")
    page.get_by_role("link", name="Sign in").first.click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.get_by_label("Email address").fill(PHYSIO[0])
    page.get_by_label("Password").fill(PHYSIO[1])
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{demo.url}/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Good to see you, Alex")
    expect(page.get_by_role("main")).to_contain_text(CLINIC_NAME)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", name="Patients", level=1)).to_be_visible()
    page.get_by_role("link", name="Jamie Rivers").click()
    expect(page.get_by_role("heading", name="Jamie Rivers", level=1)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(PATIENT[0])

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{demo.url}/")
    expect(page.get_by_role("heading", name="Back to running, one step at a time")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()


def test_the_demo_patient_signs_in_with_a_password_and_sees_their_page(
    page: Page, demo: LiveServer
) -> None:
    sign_in(page, demo.url, *PATIENT)

    expect(page).to_have_url(f"{demo.url}/me/")
    expect(page.get_by_role("heading", name="Hello Jamie", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=CLINIC_NAME)).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="My plan")).to_be_visible()
    expect(nav.get_by_role("link", name="Dashboard")).to_have_count(0)


def test_a_patient_signs_in_with_an_emailed_link(page: Page, demo: LiveServer) -> None:
    page.goto(f"{demo.url}/accounts/login/")
    page.get_by_role("link", name="Email me a sign-in link").click()
    page.get_by_label("Email address").fill(PATIENT[0])
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    # The view queues the task on commit; Celery runs it eagerly in the live
    # server's thread and the locmem outbox is shared by the whole process.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [PATIENT[0]]
    found = LINK_PATTERN.search(str(message.body))
    assert found is not None, message.body
    # Emailed links are built from SITE_URL; open the same path on the live server.
    link = demo.url + urlsplit(found.group(0)).path

    # Opening the link (as a mail scanner would) only shows a button.
    page.goto(link)
    sign_me_in = page.get_by_role("button", name="Sign me in")
    expect(sign_me_in).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    sign_me_in.click()
    expect(page).to_have_url(f"{demo.url}/me/")
    expect(page.get_by_role("heading", name="Hello Jamie", level=1)).to_be_visible()

    # The link works once: opened again it says so, with no button to press.
    page.goto(link)
    expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
    expect(page.get_by_role("button", name="Sign me in")).to_have_count(0)


def test_a_wrong_password_shows_a_clear_message_and_keeps_the_email(
    page: Page, demo: LiveServer
) -> None:
    sign_in(page, demo.url, PHYSIO[0], "not-the-password")

    expect(page).to_have_url(f"{demo.url}/accounts/login/")
    expect(page.get_by_role("main")).to_contain_text(
        "Please enter a correct email address and password."
    )
    expect(page.get_by_label("Email address")).to_have_value(PHYSIO[0])
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_on_a_phone_the_menu_opens_from_the_toggler_and_offers_sign_in(
    page: Page, live_server: LiveServer
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/")

    nav = page.get_by_role("navigation", name="Main")
    sign_in_link = nav.get_by_role("link", name="Sign in")
    expect(sign_in_link).to_be_hidden()

    toggler = nav.get_by_role("button", name="Menu")
    expect(toggler).to_have_attribute("aria-expanded", "false")
    toggler.click()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(sign_in_link).to_be_visible()
    sign_in_link.click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
