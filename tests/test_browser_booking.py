"""End to end in Chromium: from the self-assessment result to a booked online
consult, its emailed invite, and the physio's schedule."""

from __future__ import annotations

from django.core import mail
from icalendar import Calendar
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from clinic.models import Consult
from tests.browser import PHYSIO, sign_in
from tests.test_browser_assessment import fill_self_assessment


def test_a_patient_books_a_consult_from_their_result_and_it_lands_on_the_physios_schedule(
    page: Page, demo: LiveServer
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    fill_self_assessment(page, demo.url, saddle="No", glute="My lower back worked hardest")
    expect(page.get_by_role("heading", name="Your self-assessment result")).to_be_visible()

    page.get_by_role("link", name="Book an online consult").click()
    expect(page.get_by_role("heading", name="Book an online consult")).to_be_visible()
    assert "intake=" in page.url
    # Who they are comes from the self-assessment.
    expect(page.get_by_label("First name")).to_have_value("Sam")
    expect(page.get_by_label("Last name")).to_have_value("Okoye")
    expect(page.get_by_label("Email address")).to_have_value("sam.okoye@example.com")
    expect(page.get_by_test_id("zone")).to_contain_text("Europe/London")

    first_day = page.locator("details.slot-day").first
    day_name = first_day.locator(".slot-day-name").inner_text()
    first_slot = first_day.locator("label.slot-btn").first
    time_label = first_slot.inner_text().strip()
    first_slot.click()
    expect(first_day.locator("input.btn-check").first).to_be_checked()
    page.get_by_role("button", name="Book this time").click()

    expect(page.get_by_role("heading", name="Your consult is booked")).to_be_visible()
    expect(page.get_by_test_id("consult-when")).to_contain_text(time_label)
    expect(page.get_by_test_id("consult-when")).to_contain_text(day_name)
    expect(page.get_by_role("link", name="Join the video call")).to_be_visible()

    consult = Consult.objects.select_related("patient").get(patient__email="sam.okoye@example.com")
    [confirmation] = [m for m in mail.outbox if m.subject.startswith("Booked")]
    assert confirmation.to == ["sam.okoye@example.com"]
    [(filename, content, mimetype)] = confirmation.attachments
    assert filename.endswith(".ics") and "method=REQUEST" in mimetype
    cal = Calendar.from_ical(content)
    assert str(cal["METHOD"]) == "REQUEST"
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["UID"]) == str(consult.uid)
    assert str(vevent["LOCATION"]) == consult.video_url

    sign_in(page, demo.url, *PHYSIO)
    day = consult.starts_at.astimezone(consult.clinic.zone).date()
    page.goto(f"{demo.url}/dashboard/schedule/?day={day:%Y-%m-%d}&view=week")
    expect(page.get_by_role("heading", name="Schedule")).to_be_visible()
    row = page.get_by_test_id("consult-row").filter(has_text="Sam Okoye")
    expect(row).to_be_visible()
    expect(row).to_contain_text(time_label)
    expect(row.get_by_role("link", name="Reschedule")).to_be_visible()
