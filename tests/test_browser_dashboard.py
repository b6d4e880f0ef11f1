"""End to end in Chromium: the demo physio works the triage queue from the
dashboard to an assigned plan, with the pain chart on the patient page."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from clinic.models import Clinic, Patient
from tests.browser import PHYSIO, sign_in
from triage import engine
from triage.models import Intake
from triage.services import intake_create

NO_FLAGS = {item.code: False for item in engine.get_instrument("red_flags").items}
RUNNER = {
    "pain_timing": "only_when_running",
    "pain_location": "one_side",
    "pain_into_leg": False,
    "numbness_or_weakness": False,
    "pain_duration": "two_to_six_weeks",
    "load_jump": False,
    "shoe_km": 300,
    "running_surface": ["road", "trail_or_grass"],
    "glute_test_result": "lower_back_hardest",
    "hip_flexor_test_result": "moves_forward_easily",
    "plank_hold_seconds": 60,
    "sleep": "good",
    "stress": "low",
}


def self_assessment(first: str, last: str, *, saddle: bool, pain: int) -> Intake:
    """A completed self-assessment, stored the way the public form stores it."""
    return intake_create(
        clinic=Clinic.objects.get(slug="demo"),
        details={
            "first_name": first,
            "last_name": last,
            "email": f"{first}.{last}@example.com".lower(),
            "date_of_birth": date(1991, 7, 2),
            "consent_store": True,
            "consent_email": True,
        },
        answers={
            "red_flags": {**NO_FLAGS, "saddle_numbness": saddle},
            "nprs": {"pain_now": pain, "pain_worst_week": pain + 1, "pain_average_week": pain},
            "runner_back": RUNNER,
        },
    )


def test_the_physio_reviews_an_urgent_intake_assigns_a_plan_and_sees_the_pain_chart(
    page: Page, demo: LiveServer
) -> None:
    self_assessment("Robin", "Marsh", saddle=False, pain=4)
    urgent = self_assessment("Sam", "Okoye", saddle=True, pain=6)
    assert urgent.urgent and urgent.suggested_program is not None

    sign_in(page, demo.url, *PHYSIO)
    expect(page).to_have_url(f"{demo.url}/dashboard/")
    queue = page.locator("#triage-queue")
    first = queue.locator(".queue-row").first
    expect(first).to_contain_text("Sam Okoye")
    expect(first).to_contain_text("Urgent")
    expect(first).to_contain_text("Red flags: Saddle numbness")
    expect(first).to_have_class("list-group-item queue-row urgent")
    expect(queue.locator(".queue-row").nth(1)).to_contain_text("Robin Marsh")

    first.get_by_role("link", name="Sam Okoye", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sam Okoye")
    expect(page.get_by_text("Possible cauda equina")).to_be_visible()
    page.get_by_role("button", name="Mark reviewed").click()
    # Swapped in place by htmx: the page stays, the button becomes a badge.
    expect(page.locator("#review-status")).to_contain_text("Reviewed")
    expect(page).to_have_url(f"{demo.url}{urgent.get_absolute_url()}")
    urgent.refresh_from_db()
    assert urgent.status == Intake.Status.REVIEWED

    page.get_by_role("navigation", name="breadcrumb").get_by_role(
        "link", name="Sam Okoye", exact=True
    ).click()
    expect(page.get_by_role("heading", name="Sam Okoye", level=1)).to_be_visible()
    page.get_by_role("link", name="Assign a program").click()
    expect(page.get_by_label("Program")).to_have_value(str(urgent.suggested_program_id))
    page.get_by_role("button", name="Assign and email the plan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(urgent.suggested_program.name)

    page.goto(f"{demo.url}{urgent.patient.get_absolute_url()}")
    chart = page.get_by_role("img", name="Pain over time")
    expect(chart).to_be_visible()
    expect(page.get_by_test_id("pain-chart")).to_contain_text("One pain score: 6")
    expect(page.locator("#plans")).to_contain_text(urgent.suggested_program.name)

    # Back on the dashboard the queue has moved on.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.locator("#triage-queue .queue-row").first).to_contain_text("Robin Marsh")


def test_marking_reviewed_in_the_queue_works_in_place(page: Page, demo: LiveServer) -> None:
    self_assessment("Robin", "Marsh", saddle=False, pain=4)
    sign_in(page, demo.url, *PHYSIO)
    row = page.locator("#triage-queue .queue-row").first
    row.get_by_role("button", name="Mark reviewed").click()
    expect(row).to_contain_text("Reviewed")
    expect(row).to_have_class("list-group-item queue-row is-reviewed")
    expect(page).to_have_url(f"{demo.url}/dashboard/")


def test_the_physio_sees_a_bounced_reminder_and_opens_the_patient(
    page: Page, demo: LiveServer
) -> None:
    # The demo data has one: Priya's reminder two session days ago bounced.
    sign_in(page, demo.url, *PHYSIO)
    card = page.get_by_test_id("undelivered")
    expect(card.get_by_role("heading")).to_have_text("Reminder emails not delivered")
    expect(card).to_contain_text("priya.nair@example.com")
    expect(card).to_contain_text("550 5.1.1 Mailbox unavailable")
    card.get_by_role("link", name="Priya Nair").click()
    expect(page.get_by_role("heading", name="Priya Nair", level=1)).to_be_visible()
    expect(page.get_by_text("priya.nair@example.com").first).to_be_visible()

    # Priya gives her right address; the physio puts it in.
    page.get_by_role("link", name="Edit Priya Nair's details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit Priya Nair's details")
    page.get_by_label("Email").fill("priya.nair@example.org")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Details saved.")).to_be_visible()
    expect(page.get_by_role("link", name="priya.nair@example.org")).to_be_visible()
    assert Patient.objects.get(first_name="Priya").email == "priya.nair@example.org"
