"""In Chromium: the demo patient's reminder arrives, they click the email's
unsubscribe, confirm, and hear nothing more until they resume from their plan
page. Beat's planner and dispatcher run in this process (eager Celery, the
locmem outbox), with the clock moved to each morning."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from clinic.models import Patient
from exercises import reminders
from exercises.models import Assignment, Program, Reminder
from exercises.services import assignment_create

LONDON = ZoneInfo("Europe/London")


def morning(days_ahead: int) -> datetime:
    """A minute after the 07:30 reminder, `days_ahead` days from today in London."""
    day = timezone.now().astimezone(LONDON).date() + timedelta(days=days_ahead)
    return datetime.combine(day, time(7, 31), tzinfo=LONDON).astimezone(UTC)


def beat_at(moment: datetime) -> list[Any]:
    """Run the planner and dispatcher at `moment`; the exercise reminders they
    sent Jamie (the demo also books Jamie a consult, reminded separately)."""
    before = len(mail.outbox)
    with time_machine.travel(moment, tick=False):
        reminders.reminders_plan()
        reminders.reminders_dispatch()
    return [
        m
        for m in mail.outbox[before:]
        if m.to == ["patient@example.com"] and m.subject == "Time for today's exercises"
    ]


def test_the_patient_unsubscribes_from_the_email_and_resumes_from_their_plan(
    page: Page, demo: LiveServer, settings: Any
) -> None:
    settings.SITE_URL = demo.url  # the email's links point at this live server
    jamie = Patient.objects.get(email="patient@example.com")
    plan = assignment_create(
        patient=jamie,
        program=Program.objects.get(slug="runners-low-back-starter", clinic=None),
        start_date=timezone.now().astimezone(LONDON).date() - timedelta(days=3),
        days_of_week=list(range(7)),
        reminder_time=time(7, 30),
        created_by=None,
        notify=False,
    )
    Assignment.objects.filter(pk=plan.pk).update(created_at=morning(-5))

    [reminder] = beat_at(morning(1))
    assert reminder.subject == "Time for today's exercises"
    html = reminder.alternatives[0][0]
    header = reminder.extra_headers["List-Unsubscribe"].strip("<>")
    assert reminder.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The patient reads the email and clicks its unsubscribe link.
    page.set_content(html)
    footer_link = page.get_by_role("link", name="Pause these reminders")
    expect(footer_link).to_have_attribute("href", header)
    footer_link.click()
    expect(page.get_by_role("heading", name="Pause reminders?")).to_be_visible()
    page.get_by_role("button", name="Pause reminders").click()
    expect(page.get_by_role("heading", name="Reminders paused")).to_be_visible()

    assert beat_at(morning(2)) == []
    assert beat_at(morning(3)) == []
    assert set(
        Reminder.objects.filter(assignment=plan, day__gt=morning(1).date()).values_list(
            "state", "skip_reason"
        )
    ) == {("skipped", "reminders paused for this plan")}

    # Back on their plan page, they turn reminders on again.
    page.get_by_role("link", name="Open my plan").click()
    expect(page.get_by_text("Your reminders are paused.")).to_be_visible()
    page.get_by_role("button", name="Resume reminders").click()
    expect(page.get_by_role("alert")).to_contain_text("Reminders on: every day at 07:30.")
    expect(page.locator("#reminders")).to_contain_text("We email you at 07:30")

    [resumed] = beat_at(morning(4))
    assert re.search(r"/done/[^/\s]+/", resumed.body)
    assert Reminder.objects.filter(assignment=plan, state="sent").count() == 2
