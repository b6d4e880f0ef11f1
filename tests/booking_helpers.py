"""Shared by the booking tests: a clinic's consult types and a clinician's
week, set up the way a clinic admin would in the admin."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from clinic.models import Clinic, ConsultType, StaffMember, WorkingHours

# A Monday in winter: London is on UTC, so local and UTC times read the same.
MONDAY_MORNING = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def consult_types(clinic: Clinic) -> tuple[ConsultType, ConsultType]:
    assessment = ConsultType.objects.create(
        clinic=clinic, name="Initial assessment", duration_minutes=45, buffer_minutes=15
    )
    follow_up = ConsultType.objects.create(
        clinic=clinic, name="Follow-up", duration_minutes=30, buffer_minutes=10
    )
    return assessment, follow_up


def weekday_hours(clinician: StaffMember, starts: time = time(9), ends: time = time(17)) -> None:
    WorkingHours.objects.bulk_create(
        WorkingHours(clinician=clinician, weekday=day, starts=starts, ends=ends) for day in range(5)
    )


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def details(email: str = "sam.okoye@example.com", **extra: Any) -> dict[str, Any]:
    return {"first_name": "Sam", "last_name": "Okoye", "email": email, **extra}
