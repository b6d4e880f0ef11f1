"""Factories and helpers for the reminder tests and benchmarks/reminders.py."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import ClassVar

import factory
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from clinic.models import Clinic, Consult, ConsultType, Patient
from exercises.models import Assignment, AssignmentItem
from tests.factories import ExerciseFactory, PatientFactory, StaffFactory

# Both sides of the date line and both hemispheres, so a batch mixes local days.
ZONES = ["Europe/London", "America/New_York", "Pacific/Auckland", "Pacific/Pago_Pago"]


class AssignmentFactory(factory.django.DjangoModelFactory):
    """A running plan with reminders every day at 07:30, two exercises in it."""

    class Meta:
        model = Assignment
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    clinic = factory.LazyAttribute(lambda o: o.patient.clinic)
    name = "Runner's low back starter"
    goal = "Run without back pain"
    start_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=7))
    end_date = factory.LazyAttribute(lambda o: o.start_date + timedelta(weeks=8))
    days_of_week = factory.LazyFunction(lambda: list(range(7)))
    reminder_time = time(7, 30)

    @factory.post_generation
    def items(obj: Assignment, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        bridge = ExerciseFactory(name="Glute bridge")
        plank = ExerciseFactory(name="Plank", default_reps=None, default_hold_seconds=30)
        AssignmentItem.objects.create(assignment=obj, exercise=bridge, sets=3, reps=12, order=1)
        AssignmentItem.objects.create(
            assignment=obj, exercise=plank, sets=3, reps=None, hold_seconds=30, order=2
        )


def plans_due_at(
    *, clinic: Clinic, count: int, now: datetime, email_prefix: str = "runner"
) -> list[Assignment]:
    """`count` patients with a running plan whose reminder is due at `now`
    (to the minute) on their own clock, in a mix of time zones. Bulk-inserted,
    so thousands take a second or two. Recipients are unique: a sink can
    count deliveries per reminder by address."""
    exercises = [
        ExerciseFactory(name="Glute bridge"),
        ExerciseFactory(name="Side plank", default_reps=None, default_hold_seconds=20),
        ExerciseFactory(name="Bird dog", per_side=True),
    ]
    zones = itertools.cycle(ZONES)
    patients = Patient.objects.bulk_create(
        Patient(
            clinic=clinic,
            first_name="Runner",
            last_name=f"No. {n}",
            email=f"{email_prefix}{n}@example.com",
            time_zone=next(zones),
            consent_email=True,
        )
        for n in range(count)
    )
    plans = []
    for patient in patients:
        local = now.astimezone(patient.zone)
        plans.append(
            Assignment(
                clinic=clinic,
                patient=patient,
                name="Runner's low back starter",
                start_date=local.date() - timedelta(days=14),
                end_date=local.date() + timedelta(days=42),
                days_of_week=list(range(7)),
                reminder_time=time(local.hour, local.minute),
            )
        )
    plans = Assignment.objects.bulk_create(plans)
    # Made yesterday: the planner never reminds of a moment before a plan existed.
    Assignment.objects.filter(pk__in=[p.pk for p in plans]).update(
        created_at=now - timedelta(days=1)
    )
    AssignmentItem.objects.bulk_create(
        AssignmentItem(assignment=plan, exercise=exercise, sets=3, reps=10, order=n)
        for plan in plans
        for n, exercise in enumerate(exercises)
    )
    return plans


def make_consult(
    *, patient: Patient, starts_at: datetime, mode: str = "video", **fields: object
) -> Consult:
    clinician = StaffFactory(clinic=patient.clinic, user__first_name="Alex", user__last_name="Kim")
    kind = ConsultType.objects.create(
        clinic=patient.clinic, name="Follow-up", duration_minutes=30, mode=mode
    )
    consult = Consult.objects.create(
        clinic=patient.clinic,
        clinician=clinician,
        patient=patient,
        consult_type=kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        blocked_until=starts_at + timedelta(minutes=40),
        video_url="https://meet.example.com/backstride-abc123" if mode == "video" else "",
        **fields,
    )
    # Booked a week before: the planner reminds of nothing before a booking.
    Consult.objects.filter(pk=consult.pk).update(updated_at=starts_at - timedelta(days=7))
    consult.refresh_from_db()
    return consult


class WorkerDied(BaseException):
    """Stands in for SIGKILL: no `except Exception` handler sees it."""


class ScriptedBackend(BaseEmailBackend):
    """An email backend that answers each message as scripted (an exception to
    raise, CRASH_AFTER_ACCEPT, or None to accept) and accepts once the script
    runs out. `open_failures` are raised by open()."""

    script: ClassVar[list[BaseException | str | None]] = []
    open_failures: ClassVar[list[Exception]] = []
    accepted: ClassVar[list[EmailMessage]] = []
    connections: ClassVar[int] = 0

    @classmethod
    def reset(cls) -> None:
        cls.script, cls.open_failures, cls.accepted, cls.connections = [], [], [], 0

    def open(self) -> bool:
        if self.open_failures:
            raise self.open_failures.pop(0)
        type(self).connections += 1
        return True

    def close(self) -> None:
        pass

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            outcome = self.script.pop(0) if self.script else None
            if outcome == CRASH_AFTER_ACCEPT:
                self.accepted.append(message)
                raise WorkerDied("killed after the server accepted the message")
            if isinstance(outcome, BaseException):
                raise outcome
            self.accepted.append(message)
        return len(email_messages)


CRASH_AFTER_ACCEPT = "crash after accept"
