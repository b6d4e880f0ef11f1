"""Booking, moving and cancelling online consults: `<noun>_<verb>`, keyword-only,
atomic.

No double booking, ever. Every write re-checks the slot inside its transaction:
on SQLite the transaction is IMMEDIATE, so it holds the database's write lock
from BEGIN and the re-check sees every booking committed before it; on
PostgreSQL two transactions can both pass the re-check, and the exclusion
constraint `consult_no_overlap` stops the second insert, which becomes the same
SlotTaken error. The patient's row is locked first, so one patient's bookings
queue up and the one-consult-per-day rule holds on PostgreSQL too.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic import booking
from clinic.models import Clinic, Consult, ConsultType, Patient, StaffMember, User

OVERLAP_CONSTRAINT = "consult_no_overlap"


class BookingError(Exception):
    code = "booking"
    message = "That booking did not work. Please try again."

    def __init__(self, message: str | None = None) -> None:
        if message:
            self.message = message
        super().__init__(self.message)


class SlotTaken(BookingError):
    code = "slot_taken"
    message = "Sorry, that time was just taken. Please pick another time."


class OneConsultPerDay(BookingError):
    code = "one_per_day"
    message = (
        "There is already a consult booked for you that day. Please pick another day, "
        "or change the time of the one you have."
    )


class BookingClosed(BookingError):
    code = "closed"
    message = "Online booking is not open at this clinic."


class ConsultLocked(BookingError):
    code = "locked"
    message = "This consult can no longer be changed. Please contact the clinic."


def video_url_for(clinic: Clinic, consult_type: ConsultType) -> str:
    """The clinic's own room, or a fresh room nobody can guess."""
    if consult_type.mode != ConsultType.Mode.VIDEO:
        return ""
    if clinic.video_url:
        return clinic.video_url
    return f"{settings.VIDEO_BASE_URL}/backstride-{secrets.token_hex(16)}"


def _patient_from_details(clinic: Clinic, details: dict[str, Any]) -> Patient:
    """Find or create the clinic's patient by email, never overwriting what the
    clinic holds; a new record takes the zone the times were shown in."""
    from triage.services import _patient_for

    email = details["email"].strip().lower()
    existed = Patient.objects.filter(clinic=clinic, email=email).exists()
    try:
        with transaction.atomic():
            patient = _patient_for(clinic, details)
    except IntegrityError:
        # Someone booked with the same new address at the same moment: use theirs.
        patient = _patient_for(clinic, details)
        existed = True
    changed = []
    zone = details.get("time_zone")
    if not existed and zone and booking.safe_zone(zone) and patient.time_zone != zone:
        patient.time_zone = zone
        changed.append("time_zone")
    if details.get("phone") and not patient.phone:
        patient.phone = details["phone"].strip()
        changed.append("phone")
    if changed:
        patient.save(update_fields=[*changed, "updated_at"])
    return patient


def _check_one_per_day(
    *, clinic: Clinic, patient: Patient, starts_at: datetime, ignore: Consult | None = None
) -> None:
    if not clinic.one_consult_per_day:
        return
    day = starts_at.astimezone(clinic.zone).date()
    day_start = booking.instant(day, datetime.min.time(), clinic.zone)
    day_end = booking.instant(day + timedelta(days=1), datetime.min.time(), clinic.zone)
    same_day = Consult.objects.active().filter(
        clinic=clinic, patient=patient, starts_at__gte=day_start, starts_at__lt=day_end
    )
    if ignore is not None:
        same_day = same_day.exclude(pk=ignore.pk)
    if same_day.exists():
        raise OneConsultPerDay


def _save(consult: Consult, **kwargs: Any) -> None:
    """Save in a savepoint, so a lost race leaves the outer transaction usable
    for a clean rollback; PostgreSQL names the constraint that said no."""
    try:
        with transaction.atomic():
            consult.save(**kwargs)
    except IntegrityError as error:
        diag = getattr(error.__cause__, "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        if constraint in {OVERLAP_CONSTRAINT, None}:
            raise SlotTaken from error
        raise


@transaction.atomic
def consult_book(
    *,
    clinic: Clinic,
    consult_type: ConsultType,
    clinician: StaffMember,
    starts_at: datetime,
    patient: Patient | None = None,
    details: dict[str, Any] | None = None,
    reason: str = "",
    created_by: User | None = None,
    by_staff: bool = False,
    notify: bool = True,
    now: datetime | None = None,
) -> Consult:
    """Book a free slot for a patient (an existing one, or found or created from
    `details`: first_name, last_name, email, optionally phone and time_zone).
    All or nothing: a lost race leaves no new patient behind. The patient and
    the clinician are emailed after commit."""
    from clinic import consult_tasks

    now = now or timezone.now()
    if consult_type.clinic_id != clinic.pk or clinician.clinic_id != clinic.pk:
        raise ValueError("The consult type and the clinician must belong to the clinic.")
    if not consult_type.is_active or not clinician.is_active:
        raise SlotTaken
    if not by_staff and not clinic.booking_enabled:
        raise BookingClosed
    if patient is None:
        if details is None:
            raise ValueError("Pass a patient or the patient's details.")
        patient = _patient_from_details(clinic, details)
    elif patient.clinic_id != clinic.pk:
        raise ValueError("The patient must belong to the clinic.")
    else:
        patient = Patient.objects.select_for_update().get(pk=patient.pk)

    if not booking.is_free(
        clinic=clinic,
        consult_type=consult_type,
        clinician=clinician,
        starts_at=starts_at,
        now=now,
        by_staff=by_staff,
    ):
        raise SlotTaken
    _check_one_per_day(clinic=clinic, patient=patient, starts_at=starts_at)

    ends_at = starts_at + timedelta(minutes=consult_type.duration_minutes)
    consult = Consult(
        clinic=clinic,
        clinician=clinician,
        patient=patient,
        consult_type=consult_type,
        starts_at=starts_at,
        ends_at=ends_at,
        blocked_until=ends_at + timedelta(minutes=consult_type.buffer_minutes),
        reason=reason.strip(),
        video_url=video_url_for(clinic, consult_type),
        created_by=created_by,
    )
    consult.full_clean()
    _save(consult)
    if notify:
        consult_tasks.send_consult_booked.delay_on_commit(consult.pk)
    return consult


@transaction.atomic
def consult_reschedule(
    *,
    consult: Consult,
    starts_at: datetime,
    clinician: StaffMember | None = None,
    by_staff: bool = False,
    now: datetime | None = None,
) -> Consult:
    """Move a booked consult to another free slot. The row keeps its id and
    calendar UID; SEQUENCE goes up so calendars replace the event."""
    from clinic import consult_tasks

    now = now or timezone.now()
    Patient.objects.select_for_update().filter(pk=consult.patient_id).first()
    consult = (
        Consult.objects.select_for_update()
        .select_related("clinic", "consult_type", "clinician", "patient")
        .get(pk=consult.pk)
    )
    if not consult.is_booked or not (by_staff or consult.can_change(now)):
        raise ConsultLocked
    clinician = clinician or consult.clinician
    if clinician.clinic_id != consult.clinic_id:
        raise ValueError("The clinician must belong to the consult's clinic.")
    if starts_at == consult.starts_at and clinician.pk == consult.clinician_id:
        return consult
    if not booking.is_free(
        clinic=consult.clinic,
        consult_type=consult.consult_type,
        clinician=clinician,
        starts_at=starts_at,
        now=now,
        by_staff=by_staff,
        ignore=consult,
    ):
        raise SlotTaken
    _check_one_per_day(
        clinic=consult.clinic, patient=consult.patient, starts_at=starts_at, ignore=consult
    )
    duration = consult.ends_at - consult.starts_at
    buffer = consult.blocked_until - consult.ends_at
    consult.clinician = clinician
    consult.starts_at = starts_at
    consult.ends_at = starts_at + duration
    consult.blocked_until = consult.ends_at + buffer
    consult.sequence += 1
    consult.full_clean()
    _save(consult)
    consult_tasks.send_consult_rescheduled.delay_on_commit(consult.pk, consult.sequence)
    return consult


@transaction.atomic
def consult_cancel(*, consult: Consult, by: str, now: datetime | None = None) -> Consult:
    """Cancel a booked consult (`by` is "patient" or "clinic"). Cancelling twice
    changes nothing and sends nothing. Patients cannot cancel once it started."""
    from clinic import consult_tasks

    now = now or timezone.now()
    consult = Consult.objects.select_for_update().get(pk=consult.pk)
    if consult.status == Consult.Status.CANCELLED:
        return consult
    if not consult.is_booked or (by == "patient" and not consult.can_change(now)):
        raise ConsultLocked
    consult.status = Consult.Status.CANCELLED
    consult.cancelled_at = now
    consult.cancelled_by = by
    consult.sequence += 1
    consult.save(update_fields=["status", "cancelled_at", "cancelled_by", "sequence", "updated_at"])
    consult_tasks.send_consult_cancelled.delay_on_commit(consult.pk)
    return consult


@transaction.atomic
def consult_record_outcome(
    *, consult: Consult, status: str, now: datetime | None = None
) -> Consult:
    """Completed or no-show, once the consult has started; a slip of the
    finger can be corrected. No emails."""
    outcomes = {Consult.Status.COMPLETED, Consult.Status.NO_SHOW}
    if status not in outcomes:
        raise ValueError(f"Not an outcome: {status!r}")
    now = now or timezone.now()
    consult = Consult.objects.select_for_update().get(pk=consult.pk)
    if consult.status == status:
        return consult
    if consult.status not in {Consult.Status.BOOKED, *outcomes} or consult.starts_at > now:
        raise ConsultLocked("Only a consult that has started can be marked.")
    consult.status = status
    consult.save(update_fields=["status", "updated_at"])
    return consult
