"""Writes with side effects for the self-assessment."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinic.models import Clinic, Patient
from exercises.models import Program
from triage.models import Intake


def _patient_for(clinic: Clinic, details: dict[str, Any]) -> Patient:
    """The clinic's patient with this address, or a new one. An existing
    record's details are not overwritten by what someone typed into a public form."""
    email = details["email"].strip().lower()
    patient = Patient.objects.select_for_update().filter(clinic=clinic, email=email).first()
    if patient is None:
        patient = Patient(
            clinic=clinic,
            email=email,
            first_name=details["first_name"].strip(),
            last_name=details["last_name"].strip(),
            date_of_birth=details.get("date_of_birth"),
            time_zone=clinic.time_zone,
        )
    if details.get("consent_email") and not patient.consent_email:
        patient.consent_email = True
    patient.full_clean()
    patient.save()
    return patient


@transaction.atomic
def intake_create(
    *,
    clinic: Clinic,
    details: dict[str, Any],
    answers: dict[str, dict[str, Any]],
    ip_address: str | None = None,
) -> Intake:
    """Store a completed self-assessment with its scores, all or nothing, then
    (after commit) email the patient a link to their result and alert the
    clinic at once when a red flag makes it urgent."""
    from triage import engine, scoring, tasks

    if not details.get("consent_store"):
        raise ValueError("consent_store: the patient must agree to us storing their answers")
    scores = {code: scoring.score(code, values) for code, values in answers.items()}
    clean = {
        code: engine.validate_answers(engine.get_instrument(code), values)
        for code, values in answers.items()
    }
    flags = scores.get("red_flags")
    risk = next((s.risk for s in scores.values() if s.risk), "")
    runner = scores.get("runner_back")
    program = None
    if runner is not None and runner.suggested_program_slug:
        program = Program.objects.filter(clinic=None, slug=runner.suggested_program_slug).first()

    intake = Intake(
        clinic=clinic,
        patient=_patient_for(clinic, details),
        answers=_jsonable(clean),
        versions={code: engine.get_instrument(code).version for code in answers},
        scores={code: result.to_dict() for code, result in scores.items()},
        urgent=any(s.urgent for s in scores.values()),
        risk=risk or "",
        red_flags=list(flags.red_flags) if flags else [],
        factors=[factor.code for factor in runner.factors] if runner else [],
        suggested_program=program,
        consent_at=timezone.now(),
        submitted_from=ip_address,
    )
    intake.full_clean()
    intake.save()
    tasks.send_intake_confirmation.delay_on_commit(intake.pk)
    if intake.urgent:
        tasks.alert_clinic_urgent_intake.delay_on_commit(intake.pk)
    return intake


def intake_mark_reviewed(*, intake: Intake, user: Any) -> Intake:
    if intake.status != Intake.Status.REVIEWED:
        intake.status = Intake.Status.REVIEWED
        intake.reviewed_by = user
        intake.reviewed_at = timezone.now()
        intake.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return intake


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "is_finite"):  # Decimal
        return float(value)
    return value


def worded_items(code: str) -> Any:
    """How many items of an instrument's current version have wording
    installed, as a subquery another query can carry (the dashboard's, which
    would otherwise spend a round trip on it). The instrument is available to
    patients when that is all of them: `engine.is_available_to_patients` in SQL.
    Wording is never installed blank (`engine.validate_installed_text`)."""
    from django.db.models import Func, IntegerField, Subquery

    from triage import engine
    from triage.models import InstrumentText

    instrument = engine.get_instrument(code)
    return Subquery(
        InstrumentText.objects.filter(
            instrument=code, version=instrument.version, item_code__in=instrument.item_codes
        )
        .exclude(text="")
        .order_by()
        .values(n=Func("pk", function="COUNT")),
        output_field=IntegerField(),
    )


def installed_text(code: str, version: str) -> Any:
    """The licensed wording a clinic installed for an instrument version, if any."""
    from triage.engine import InstalledText
    from triage.models import InstrumentText

    rows = list(InstrumentText.objects.filter(instrument=code, version=version))
    if not rows:
        return None
    notice = next((row.notice for row in rows if row.notice), "")
    return InstalledText(texts={row.item_code: row.text for row in rows}, notice=notice)


@transaction.atomic
def instrument_text_install(code: str, version: str, texts: Any, notice: str) -> None:
    """Replace the stored wording of one instrument version."""
    from triage.models import InstrumentText

    InstrumentText.objects.filter(instrument=code, version=version).delete()
    InstrumentText.objects.bulk_create(
        InstrumentText(instrument=code, version=version, item_code=item, text=text, notice=notice)
        for item, text in texts.items()
    )
