"""Reminder times on the patient's own clock: either side of the date line and
through both daylight-saving changes, beat ticking every half hour.

Documented behaviour: a time the clocks skip (inside the spring-forward gap)
goes at the moment the clocks jump, the first valid time after it; a time that
happens twice (the autumn hour) goes once, at its first occurrence."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from clinic.models import Patient
from exercises import links, reminders
from exercises.models import Assignment, Reminder
from tests.factories import PatientFactory
from tests.reminders_support import AssignmentFactory

pytestmark = pytest.mark.django_db

HALF_HOUR = timedelta(minutes=30)


def plan_in(zone: str, *, around: date, at: time = time(7, 30)) -> Assignment:
    patient = PatientFactory(
        time_zone=zone, email=f"runner@{zone.replace('/', '-').lower()}.example"
    )
    plan = AssignmentFactory(
        patient=patient,
        reminder_time=at,
        start_date=around - timedelta(days=10),
        end_date=around + timedelta(days=10),
    )
    Assignment.objects.filter(pk=plan.pk).update(created_at=datetime(2000, 1, 1, tzinfo=UTC))
    plan.refresh_from_db()
    return plan


def run_beat(clock: Any, start: datetime, end: datetime) -> None:
    """Beat's minute ticks, coarsened to every half hour (reminders here fall on
    the half hour, so each goes at its exact moment)."""
    moment = start
    while moment <= end:
        clock.move_to(moment, tick=False)
        reminders.reminders_plan()
        reminders.reminders_dispatch()
        moment += HALF_HOUR


def sent_local_times(plan: Assignment) -> list[datetime]:
    zone = plan.patient.zone
    rows = Reminder.objects.filter(assignment=plan, state=Reminder.State.SENT).order_by("day")
    assert all(row.sent_at == row.due_at for row in rows)
    return [row.sent_at.astimezone(zone).replace(tzinfo=None) for row in rows]


@pytest.mark.parametrize(
    ("zone", "change"),
    [
        ("Europe/London", date(2026, 3, 29)),  # spring forward
        ("Europe/London", date(2026, 10, 25)),  # fall back
        ("America/New_York", date(2026, 3, 8)),
        ("America/New_York", date(2026, 11, 1)),
        ("Pacific/Auckland", date(2026, 9, 27)),  # southern spring, across the date line
        ("Pacific/Auckland", date(2026, 4, 5)),
    ],
)
def test_a_0730_reminder_goes_at_0730_local_every_day_through_a_clock_change(
    time_machine: Any, zone: str, change: date
) -> None:
    plan = plan_in(zone, around=change)
    tz = ZoneInfo(zone)
    first, last = change - timedelta(days=2), change + timedelta(days=2)
    start = datetime.combine(first, time(0, 0), tzinfo=tz).astimezone(UTC).replace(minute=0)
    end = datetime.combine(last, time(12, 0), tzinfo=tz).astimezone(UTC)
    run_beat(time_machine, start, end)

    days = [first + timedelta(n) for n in range(5)]
    assert sent_local_times(plan) == [datetime.combine(day, time(7, 30)) for day in days]
    # Each email's one-tap "done" is for the patient's own day.
    done_days = [
        links.done_from_token(message.body.split("/done/")[1].split("/")[0])
        for message in mail.outbox
    ]
    assert done_days == [(plan.pk, day) for day in days]
    offsets = {datetime.combine(d, time(7, 30), tzinfo=tz).utcoffset() for d in days}
    assert len(offsets) == 2, "the window should straddle the clock change"


def test_either_side_of_the_date_line_each_patient_gets_their_own_day(time_machine: Any) -> None:
    kiritimati = plan_in("Pacific/Kiritimati", around=date(2026, 11, 23))  # UTC+14
    pago_pago = plan_in("Pacific/Pago_Pago", around=date(2026, 11, 23))  # UTC-11
    run_beat(
        time_machine,
        datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 19, 0, tzinfo=UTC),
    )
    # Within one UTC hour, Kiritimati (UTC+14) is reminded for Tuesday 24
    # November and Pago Pago (UTC-11) for Monday 23: 07:30 local for both.
    kiritimati_rows = Reminder.objects.filter(assignment=kiritimati, state="sent")
    pago_pago_rows = Reminder.objects.filter(assignment=pago_pago, state="sent")
    assert [(r.day, r.sent_at) for r in kiritimati_rows.order_by("day")] == [
        (date(2026, 11, 23), datetime(2026, 11, 22, 17, 30, tzinfo=UTC)),
        (date(2026, 11, 24), datetime(2026, 11, 23, 17, 30, tzinfo=UTC)),
    ]
    assert [(r.day, r.sent_at) for r in pago_pago_rows.order_by("day")] == [
        (date(2026, 11, 22), datetime(2026, 11, 22, 18, 30, tzinfo=UTC)),
        (date(2026, 11, 23), datetime(2026, 11, 23, 18, 30, tzinfo=UTC)),
    ]
    assert sent_local_times(kiritimati) == [
        datetime(2026, 11, 23, 7, 30),
        datetime(2026, 11, 24, 7, 30),
    ]
    assert sent_local_times(pago_pago) == [
        datetime(2026, 11, 22, 7, 30),
        datetime(2026, 11, 23, 7, 30),
    ]


@pytest.mark.parametrize(
    ("zone", "change", "at", "that_day"),
    [
        # 01:30 does not exist on 29 March in London: it goes at 02:00 BST.
        ("Europe/London", date(2026, 3, 29), time(1, 30), datetime(2026, 3, 29, 2, 0)),
        # 02:30 does not exist on 8 March in New York: it goes at 03:00 EDT.
        ("America/New_York", date(2026, 3, 8), time(2, 30), datetime(2026, 3, 8, 3, 0)),
    ],
)
def test_a_time_inside_the_spring_forward_gap_goes_when_the_clocks_jump(
    time_machine: Any, zone: str, change: date, at: time, that_day: datetime
) -> None:
    plan = plan_in(zone, around=change, at=at)
    tz = ZoneInfo(zone)
    run_beat(
        time_machine,
        datetime.combine(change - timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC),
        datetime.combine(change + timedelta(days=1), time(6), tzinfo=tz).astimezone(UTC),
    )
    day_before, day_after = change - timedelta(days=1), change + timedelta(days=1)
    assert sent_local_times(plan) == [
        datetime.combine(day_before, at),
        that_day,
        datetime.combine(day_after, at),
    ]


@pytest.mark.parametrize(
    ("zone", "change", "first_occurrence"),
    [
        ("Europe/London", date(2026, 10, 25), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("America/New_York", date(2026, 11, 1), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    ],
)
def test_a_time_in_the_repeated_autumn_hour_goes_once_at_its_first_occurrence(
    time_machine: Any, zone: str, change: date, first_occurrence: datetime
) -> None:
    plan = plan_in(zone, around=change, at=time(1, 30))
    tz = ZoneInfo(zone)
    run_beat(
        time_machine,
        datetime.combine(change, time(0), tzinfo=tz).astimezone(UTC),
        datetime.combine(change, time(6), tzinfo=tz).astimezone(UTC),
    )
    rows = Reminder.objects.filter(assignment=plan, day=change)
    assert [(r.state, r.sent_at) for r in rows] == [("sent", first_occurrence)]
    assert Counter(m.to[0] for m in mail.outbox) == {plan.patient.email: 1}


def test_the_planner_uses_the_patients_zone_not_the_clinics_or_the_servers(
    time_machine: Any, clinic: Any
) -> None:
    clinic.time_zone = "Europe/London"
    clinic.save()
    patient: Patient = PatientFactory(clinic=clinic, time_zone="Asia/Kolkata")
    plan = AssignmentFactory(patient=patient, start_date=date(2026, 11, 1))
    Assignment.objects.filter(pk=plan.pk).update(created_at=datetime(2026, 11, 1, tzinfo=UTC))
    time_machine.move_to(datetime(2026, 11, 23, 1, 0, tzinfo=UTC), tick=False)
    reminders.reminders_plan()
    row = Reminder.objects.get(assignment=plan, day=date(2026, 11, 23))
    assert row.due_at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 07:30 IST is UTC+5:30
