"""End to end in Chromium: the demo physio assigns the runner's low back
starter, the plan email arrives, and the patient logs today's session from it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core import mail
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from exercises.models import SessionLog
from tests.browser import PHYSIO, sign_in

PLAN_LINK = re.compile(r"https?://\S+?/p/[^/\s]+/")


def test_the_physio_assigns_a_program_and_the_patient_logs_today_from_the_email(
    page: Page, browser: Browser, demo: LiveServer
) -> None:
    sign_in(page, demo.url, *PHYSIO)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Jamie Rivers").click()
    page.get_by_role("link", name="Assign a program").click()

    page.get_by_label("Program").select_option(label="Runner's low back starter")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        page.get_by_label(day, exact=True).check()
    page.get_by_label("Reminder time").fill("07:30")
    page.get_by_label("Personal notes for the patient").fill("Slow and steady on the bridges.")
    page.get_by_role("button", name="Assign and email the plan").click()

    expect(page.get_by_role("heading", name="Runner's low back starter", level=1)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("will get the plan by email")
    expect(page.get_by_role("heading", name="Glute bridge", exact=False).first).to_be_visible()

    [message] = [m for m in mail.outbox if m.to == ["patient@example.com"]]
    assert message.attachments[0][0] == "exercise-plan.ics"
    found = PLAN_LINK.search(message.body)
    assert found, message.body

    # The patient opens the link from the email in their own browser, not signed in.
    patient = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    patient.goto(demo.url + urlsplit(found.group(0)).path)
    expect(patient.get_by_role("heading", name=re.compile(r"^Today's session"))).to_be_visible()
    expect(patient.get_by_text("Slow and steady on the bridges.")).to_be_visible()
    patient.locator("label", has_text="All of it").click()
    patient.locator(".pain-scale label", has_text=re.compile(r"^2$")).click()
    patient.locator("label", has_text="About right").click()
    patient.get_by_role("button", name="Log today's session").click()

    expect(patient.get_by_role("alert")).to_contain_text("Session logged")
    expect(
        patient.get_by_role("heading", name="You logged today: all of it. Change it?")
    ).to_be_visible()
    log = SessionLog.objects.get(assignment__patient__email="patient@example.com")
    assert (log.completion, log.pain, log.effort) == ("all", 2, "ok")
