from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from clinic import emails
from triage.models import Intake

RETRY = {
    "autoretry_for": (SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": 5,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(**RETRY)
def send_intake_confirmation(intake_id: int) -> None:
    intake = Intake.objects.select_related("patient", "clinic").filter(pk=intake_id).first()
    if intake is not None and intake.patient.email:
        emails.intake_confirmation(intake)


@shared_task(**RETRY)
def alert_clinic_urgent_intake(intake_id: int) -> None:
    intake = Intake.objects.select_related("patient", "clinic").filter(pk=intake_id).first()
    if intake is not None and intake.urgent:
        emails.urgent_intake_alert(intake)
