"""The .ics attached to the plan email: one recurring event per plan."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event, vRecur

from exercises.models import Assignment

ICAL_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def plan_uid(assignment: Assignment) -> str:
    # Stable across updates, so calendars replace the event instead of adding one.
    return f"plan-{assignment.pk}@backstride"


def plan_ics(assignment: Assignment, *, plan_url: str, minutes: int = 20) -> bytes:
    zone = assignment.patient.zone
    first = next(iter(assignment.session_days(assignment.start_date, assignment.end_date)), None)
    cal = Calendar()
    cal.add("prodid", "-//Backstride//Exercise plan//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    if first is not None:
        start = datetime.combine(first, assignment.reminder_time, tzinfo=zone)
        until = datetime.combine(assignment.end_date, assignment.reminder_time, tzinfo=zone)
        event = Event()
        event.add("uid", plan_uid(assignment))
        event.add("sequence", assignment.version)
        event.add("summary", f"Exercises: {assignment.name}")
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=minutes))
        event.add("dtstamp", assignment.updated_at)
        event.add(
            "rrule",
            vRecur(
                freq="weekly",
                byday=[ICAL_DAYS[d] for d in sorted(set(assignment.days_of_week))],
                until=until,
            ),
        )
        event.add("description", f"Today's exercises and how to do them: {plan_url}")
        event.add("url", plan_url)
        cal.add_component(event)
        cal.add_missing_timezones()
    return cal.to_ical()
