"""Consult emails, sent by a worker: each task takes ids, re-fetches and hands
over to clinic.emails. A task that finds the consult changed since it was
queued sends nothing: the change queued its own email."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from clinic import emails
from clinic.models import Consult

RETRY = {
    "autoretry_for": (SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": 5,
    "retry_jitter": True,
    "max_retries": 5,
}


def _consult(consult_id: int) -> Consult | None:
    return (
        Consult.objects.select_related("clinic", "patient", "consult_type", "clinician__user")
        .filter(pk=consult_id)
        .first()
    )


@shared_task(**RETRY)
def send_consult_booked(consult_id: int) -> None:
    consult = _consult(consult_id)
    if consult is None or not consult.is_booked:
        return
    emails.consult_booked(consult)


@shared_task(**RETRY)
def send_consult_rescheduled(consult_id: int, sequence: int) -> None:
    consult = _consult(consult_id)
    if consult is None or not consult.is_booked or consult.sequence != sequence:
        return
    emails.consult_rescheduled(consult)


@shared_task(**RETRY)
def send_consult_cancelled(consult_id: int) -> None:
    consult = _consult(consult_id)
    if consult is None or consult.status != Consult.Status.CANCELLED:
        return
    emails.consult_cancelled(consult)
