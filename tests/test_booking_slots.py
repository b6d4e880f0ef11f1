"""Slot maths: free times from working hours, minus time off, booked consults
with their buffers and the notice period, up to the days-ahead limit; right
across clock changes, and shown on the viewer's clock."""

from __future__ import annotations

import zoneinfo
from datetime import date, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic import booking
from clinic.booking import Availability, free_slots
from clinic.models import Clinic, Consult, Patient, StaffMember, TimeOff
from tests.booking_helpers import MONDAY_MORNING, at, consult_types, weekday_hours
from tests.factories import StaffFactory

LONDON = zoneinfo.ZoneInfo("Europe/London")
MINUTES = timedelta(minutes=1)


def local_labels(slots: list, zone: zoneinfo.ZoneInfo = LONDON) -> list[str]:
    return [f"{s.astimezone(zone):%a %H:%M}" for s in slots]


# The pure core ----------------------------------------------------------------


def test_slots_fill_the_working_hours_on_a_half_hour_grid_and_the_consult_must_fit() -> None:
    week = Availability(zone=LONDON, hours=[(0, time(9), time(11))])
    slots = free_slots(
        week,
        duration=45 * MINUTES,
        buffer=15 * MINUTES,
        start=at(2026, 1, 5, 0),
        end=at(2026, 1, 12, 0),
    )
    assert local_labels(slots) == ["Mon 09:00", "Mon 09:30", "Mon 10:00"]


def test_the_buffer_may_run_past_the_end_of_the_hours() -> None:
    week = Availability(zone=LONDON, hours=[(0, time(9), time(10))])
    slots = free_slots(
        week,
        duration=60 * MINUTES,
        buffer=30 * MINUTES,
        start=at(2026, 1, 5, 0),
        end=at(2026, 1, 6, 0),
    )
    assert local_labels(slots) == ["Mon 09:00"]


def test_a_day_off_has_no_slots() -> None:
    week = Availability(
        zone=LONDON,
        hours=[(d, time(9), time(10)) for d in range(5)],
        days_off=[(date(2026, 1, 6), date(2026, 1, 7))],
    )
    slots = free_slots(
        week,
        duration=30 * MINUTES,
        buffer=0 * MINUTES,
        start=at(2026, 1, 5, 0),
        end=at(2026, 1, 10, 0),
    )
    assert {f"{s.astimezone(LONDON):%a}" for s in slots} == {"Mon", "Thu", "Fri"}


def test_a_booked_consult_blocks_its_time_and_its_buffer_and_nothing_else() -> None:
    busy = [(at(2026, 1, 6, 10), at(2026, 1, 6, 11))]  # 10:00-10:45 plus 15 minutes' buffer
    week = Availability(zone=LONDON, hours=[(1, time(9), time(12, 30))], busy=busy)
    slots = free_slots(
        week,
        duration=45 * MINUTES,
        buffer=15 * MINUTES,
        start=at(2026, 1, 6, 0),
        end=at(2026, 1, 7, 0),
    )
    # 09:00 ends its buffer at 10:00 exactly: spans are half-open, so it fits.
    assert local_labels(slots) == ["Tue 09:00", "Tue 11:00", "Tue 11:30"]


def test_the_spring_clock_change_keeps_nine_oclock_at_nine_local() -> None:
    week = Availability(zone=LONDON, hours=[(d, time(9), time(10)) for d in range(5)])
    slots = free_slots(
        week,
        duration=60 * MINUTES,
        buffer=0 * MINUTES,
        start=at(2026, 3, 27, 0),  # Friday; clocks go forward on Sunday 29 March
        end=at(2026, 3, 31, 0),
    )
    assert slots == [at(2026, 3, 27, 9), at(2026, 3, 30, 8)]
    assert local_labels(slots) == ["Fri 09:00", "Mon 09:00"]


def test_the_autumn_clock_change_keeps_nine_oclock_at_nine_local() -> None:
    week = Availability(zone=LONDON, hours=[(d, time(9), time(10)) for d in range(5)])
    slots = free_slots(
        week,
        duration=60 * MINUTES,
        buffer=0 * MINUTES,
        start=at(2026, 10, 23, 0),  # Friday; clocks go back on Sunday 25 October
        end=at(2026, 10, 27, 0),
    )
    assert slots == [at(2026, 10, 23, 8), at(2026, 10, 26, 9)]
    assert local_labels(slots) == ["Fri 09:00", "Mon 09:00"]


def test_hours_across_the_spring_gap_are_an_hour_shorter() -> None:
    sunday = Availability(zone=LONDON, hours=[(6, time(0), time(4))])
    slots = free_slots(
        sunday,
        duration=60 * MINUTES,
        buffer=0 * MINUTES,
        start=at(2026, 3, 28, 0),
        end=at(2026, 3, 30, 0),
        step=60 * MINUTES,
    )
    # 01:00 to 02:00 does not exist that night: three real hours, three slots.
    assert local_labels(slots) == ["Sun 00:00", "Sun 02:00", "Sun 03:00"]


def test_hours_across_the_autumn_repeat_are_an_hour_longer() -> None:
    sunday = Availability(zone=LONDON, hours=[(6, time(0), time(4))])
    slots = free_slots(
        sunday,
        duration=60 * MINUTES,
        buffer=0 * MINUTES,
        start=at(2026, 10, 24, 0),
        end=at(2026, 10, 26, 0),
        step=60 * MINUTES,
    )
    # 01:00 comes twice: five real hours, five slots, each a different instant.
    assert local_labels(slots) == ["Sun 00:00", "Sun 01:00", "Sun 01:00", "Sun 02:00", "Sun 03:00"]
    assert len(set(slots)) == 5


def test_working_hours_are_in_the_clinics_zone_not_utc() -> None:
    dublin_week = Availability(
        zone=zoneinfo.ZoneInfo("America/New_York"), hours=[(0, time(9), time(10))]
    )
    slots = free_slots(
        dublin_week,
        duration=60 * MINUTES,
        buffer=0 * MINUTES,
        start=at(2026, 1, 5, 0),
        end=at(2026, 1, 6, 0),
    )
    assert slots == [at(2026, 1, 5, 14)]


# From the database -------------------------------------------------------------


@pytest.fixture
def week(clinic: Clinic, physio: StaffMember) -> Clinic:
    consult_types(clinic)
    weekday_hours(physio)
    return clinic


def slots_now(clinic: Clinic, *, by_staff: bool = False, name: str = "Initial assessment") -> list:
    start, end = booking.booking_window(clinic, now=booking_now(), by_staff=by_staff)
    return booking.open_slots(
        clinic=clinic,
        consult_type=clinic.consult_types.get(name=name),
        clinicians=list(booking.bookable_clinicians(clinic)),
        start=start,
        end=end,
    )


def booking_now():  # type: ignore[no-untyped-def]
    from django.utils import timezone

    return timezone.now()


@pytest.mark.django_db
@time_machine.travel(MONDAY_MORNING, tick=False)
def test_no_slot_is_offered_inside_the_notice_period(week: Clinic) -> None:
    week.booking_min_notice_hours = 12
    week.save()
    first = slots_now(week)[0]
    assert first.starts_at == at(2026, 1, 6, 9)  # Monday 08:00 + 12 h: Tuesday morning


@pytest.mark.django_db
@time_machine.travel(MONDAY_MORNING, tick=False)
def test_staff_booking_on_a_patients_behalf_needs_no_notice(week: Clinic) -> None:
    assert slots_now(week, by_staff=True)[0].starts_at == at(2026, 1, 5, 9)


@pytest.mark.django_db
@time_machine.travel(MONDAY_MORNING, tick=False)
def test_no_slot_is_offered_beyond_the_days_ahead_limit(week: Clinic) -> None:
    week.booking_max_days_ahead = 3
    week.save()
    days = {s.starts_at.date() for s in slots_now(week)}
    assert max(days) == date(2026, 1, 8)  # Monday + 3 days, Thursday, to its end
    assert at(2026, 1, 8, 16) in {s.starts_at for s in slots_now(week)}


@pytest.mark.django_db
@time_machine.travel(MONDAY_MORNING, tick=False)
def test_time_off_removes_whole_days(week: Clinic, physio: StaffMember) -> None:
    TimeOff.objects.create(clinician=physio, starts_on=date(2026, 1, 7), ends_on=date(2026, 1, 8))
    days = {s.starts_at.date() for s in slots_now(week)}
    assert date(2026, 1, 6) in days and date(2026, 1, 9) in days
    assert date(2026, 1, 7) not in days and date(2026, 1, 8) not in days


@pytest.mark.django_db
@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_booked_consult_and_its_buffer_are_not_offered_but_a_cancelled_one_is(
    week: Clinic, physio: StaffMember, patient: Patient
) -> None:
    follow_up = week.consult_types.get(name="Follow-up")
    Consult.objects.create(
        clinic=week,
        clinician=physio,
        patient=patient,
        consult_type=follow_up,
        starts_at=at(2026, 1, 6, 10),
        ends_at=at(2026, 1, 6, 10, 30),
        blocked_until=at(2026, 1, 6, 10, 40),
    )
    starts = {s.starts_at for s in slots_now(week, name="Follow-up")}
    assert at(2026, 1, 6, 9) in starts
    assert at(2026, 1, 6, 9, 30) not in starts  # its own 30 + 10 would reach 10:10
    assert at(2026, 1, 6, 10) not in starts and at(2026, 1, 6, 10, 30) not in starts
    assert at(2026, 1, 6, 11) in starts

    Consult.objects.update(status=Consult.Status.CANCELLED)
    assert at(2026, 1, 6, 10) in {s.starts_at for s in slots_now(week, name="Follow-up")}


@pytest.mark.django_db
@time_machine.travel(at(2026, 3, 26, 12), tick=False)
def test_a_week_across_the_spring_change_books_nine_oclock_local_on_both_sides(
    week: Clinic,
) -> None:
    days = booking.group_by_day(slots_now(week), LONDON)
    friday = next(d for d in days if d.day == date(2026, 3, 27))
    monday = next(d for d in days if d.day == date(2026, 3, 30))
    assert friday.slots[0].label == monday.slots[0].label == "09:00"
    assert friday.slots[-1].label == monday.slots[-1].label == "16:00"
    starts = {s.starts_at for s in slots_now(week)}
    assert at(2026, 3, 27, 9) in starts and at(2026, 3, 30, 8) in starts


@pytest.mark.django_db
@time_machine.travel(at(2026, 10, 22, 12), tick=False)
def test_a_week_across_the_autumn_change_books_nine_oclock_local_on_both_sides(
    week: Clinic,
) -> None:
    days = booking.group_by_day(slots_now(week), LONDON)
    friday = next(d for d in days if d.day == date(2026, 10, 23))
    monday = next(d for d in days if d.day == date(2026, 10, 26))
    assert friday.slots[0].label == monday.slots[0].label == "09:00"
    starts = {s.starts_at for s in slots_now(week)}
    assert at(2026, 10, 23, 8) in starts and at(2026, 10, 26, 9) in starts


@pytest.mark.django_db
def test_slots_cost_the_same_queries_for_one_clinician_or_many(
    week: Clinic, physio: StaffMember
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            slots_now(week)
        return len(queries)

    one = count()
    for n in range(3):
        weekday_hours(StaffFactory(clinic=week, user__email=f"physio{n}@riverside.example.com"))
    assert count() == one


# On the page, on the viewer's clock --------------------------------------------


@pytest.mark.django_db
@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_visitor_sees_times_on_the_clinics_clock_with_the_zone_named(
    client: Client, week: Clinic
) -> None:
    response = client.get(reverse("book", args=[week.slug]))
    assert response.status_code == 200
    picker = response.context["picker"]
    assert picker.days[0].day == date(2026, 1, 6)
    assert picker.days[0].slots[0].label == "09:00"
    assert "Europe/London time (GMT)" in response.content.decode()


@pytest.mark.django_db
@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_patient_in_another_zone_sees_the_same_slots_on_their_own_clock(
    patient_client: Client, week: Clinic, patient: Patient
) -> None:
    patient.time_zone = "America/New_York"
    patient.save()
    response = patient_client.get(reverse("book", args=[week.slug]))
    picker = response.context["picker"]
    assert picker.days[0].slots[0].label == "04:00"  # 09:00 in London
    assert "America/New York time (EST)" in response.content.decode()


@pytest.mark.django_db
@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_far_away_visitor_can_ask_for_their_own_zone_and_days_follow_their_clock(
    client: Client, week: Clinic
) -> None:
    response = client.get(reverse("book", args=[week.slug]), {"tz": "Pacific/Auckland"})
    picker = response.context["picker"]
    # Tuesday 09:00 in London is Tuesday 22:00 in Auckland; 11:00 is Wednesday 00:00.
    assert picker.days[0].day == date(2026, 1, 6)
    assert picker.days[0].slots[0].label == "22:00"
    assert picker.days[1].day == date(2026, 1, 7) and picker.days[1].slots[0].label == "00:00"
    assert "Pacific/Auckland time (NZDT)" in response.content.decode()


@pytest.mark.django_db
@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_made_up_zone_is_ignored(client: Client, week: Clinic) -> None:
    response = client.get(reverse("book", args=[week.slug]), {"tz": "../../etc/passwd"})
    assert response.status_code == 200
    assert response.context["picker"].zone.key == "Europe/London"
