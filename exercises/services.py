"""Writes with side effects for the exercise library, programs and plans."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from clinic.models import Clinic, Patient, User
from exercises import reminders
from exercises.models import (
    DOSAGE_FIELDS,
    Assignment,
    AssignmentItem,
    Exercise,
    Program,
    ProgramItem,
    SessionLog,
)

ITEM_FIELDS = ("exercise_id", *DOSAGE_FIELDS)


def _unique_slug(model: type[Exercise] | type[Program], clinic: Clinic, name: str) -> str:
    base = slugify(name)[:90] or "item"
    slug, n = base, 2
    while model.objects.filter(clinic=clinic, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def exercise_adapt(*, exercise: Exercise, clinic: Clinic) -> Exercise:
    """The clinic's own editable copy of a shared exercise; the shared one is hidden
    for the clinic so its library shows one version."""
    copy = Exercise.objects.get(pk=exercise.pk)
    regions = list(exercise.regions.all())
    copy.pk = None
    copy.clinic = clinic
    copy.based_on = exercise
    copy.slug = _unique_slug(Exercise, clinic, exercise.name)
    copy.licence = exercise.licence  # CC BY-SA: adaptations keep the licence
    copy.full_clean()
    copy.save()
    copy.regions.set(regions)
    exercise.hidden_for.add(clinic)
    return copy


def exercise_set_hidden(*, exercise: Exercise, clinic: Clinic, hidden: bool) -> None:
    if hidden:
        exercise.hidden_for.add(clinic)
    else:
        exercise.hidden_for.remove(clinic)


@transaction.atomic
def program_duplicate(*, program: Program, clinic: Clinic, user: User | None) -> Program:
    items = list(program.items.all())
    copy = Program(
        clinic=clinic,
        name=f"{program.name} (copy)" if program.clinic_id == clinic.pk else program.name,
        goal=program.goal,
        description=program.description,
        duration_weeks=program.duration_weeks,
        based_on=program,
        created_by=user,
    )
    copy.slug = _unique_slug(Program, clinic, copy.name)
    copy.full_clean()
    copy.save()
    ProgramItem.objects.bulk_create(
        ProgramItem(program=copy, **{f: getattr(item, f) for f in ITEM_FIELDS}) for item in items
    )
    return copy


@transaction.atomic
def assignment_create(
    *,
    patient: Patient,
    program: Program,
    start_date: date,
    days_of_week: list[int],
    reminder_time: time,
    created_by: User | None,
    end_date: date | None = None,
    notes: str = "",
    notify: bool = True,
) -> Assignment:
    """Prescribe a program: the patient gets their own copy of its items, so
    editing the template later never changes this plan. Emails the plan
    (unless `notify` is off, for demo data)."""
    if program.clinic_id not in (None, patient.clinic_id):
        raise ValueError("That program belongs to another clinic.")
    assignment = Assignment(
        clinic=patient.clinic,
        patient=patient,
        program=program,
        name=program.name,
        goal=program.goal,
        start_date=start_date,
        end_date=end_date or start_date + timedelta(weeks=program.duration_weeks, days=-1),
        days_of_week=sorted(set(days_of_week)),
        reminder_time=reminder_time,
        notes=notes,
        created_by=created_by,
    )
    assignment.full_clean()
    assignment.save()
    AssignmentItem.objects.bulk_create(
        AssignmentItem(assignment=assignment, **{f: getattr(item, f) for f in ITEM_FIELDS})
        for item in program.items.all()
    )
    reminders.reminders_plan(assignments=[assignment])
    if notify:
        _email_plan(assignment)
    return assignment


@transaction.atomic
def assignment_update(*, assignment: Assignment, **changes: Any) -> Assignment:
    """Change one patient's plan (schedule, notes, status); the template is untouched.
    The patient is told whenever their plan changes."""
    for field, value in changes.items():
        setattr(assignment, field, value)
    if "days_of_week" in changes:
        assignment.days_of_week = sorted(set(assignment.days_of_week))
    assignment.version += 1
    assignment.full_clean()
    assignment.save()
    # A new time, new days, a pause or an end: the coming reminders follow.
    reminders.reminders_replan(assignment=assignment)
    _email_plan(assignment)
    return assignment


def _email_plan(assignment: Assignment) -> None:
    from exercises import tasks

    if assignment.patient.consent_email and assignment.patient.email:
        tasks.send_plan_email.delay_on_commit(assignment.pk, assignment.version)


def session_log_record(
    *,
    assignment: Assignment,
    day: date,
    completion: str = SessionLog.Completion.ALL,
    pain: int | None = None,
    effort: str = "",
    note: str = "",
) -> SessionLog:
    """One log per plan day: logging again (a second tap, the email link after
    the plan page) updates that day's log instead of adding another."""
    if not assignment.start_date <= day <= assignment.end_date:
        raise ValueError("That day is outside the plan.")
    values = {"completion": completion, "pain": pain, "effort": effort, "note": note}
    log = SessionLog(assignment=assignment, date=day, **values)
    log.full_clean(
        exclude=["assignment", "date"], validate_unique=False, validate_constraints=False
    )
    try:
        with transaction.atomic():
            log, _ = SessionLog.objects.update_or_create(
                assignment=assignment, date=day, defaults=values
            )
    except IntegrityError:  # a racing request created it first
        log = SessionLog.objects.get(assignment=assignment, date=day)
        for field, value in values.items():
            setattr(log, field, value)
        log.save()
    return log
