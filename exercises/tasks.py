from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from clinic import emails
from exercises import reminders
from exercises.models import Assignment


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=5,
    retry_jitter=True,
    max_retries=5,
)
def send_plan_email(assignment_id: int, version: int) -> None:
    assignment = (
        Assignment.objects.select_related("patient", "clinic").filter(pk=assignment_id).first()
    )
    # A newer version queued its own email; only the latest plan is sent.
    if assignment is None or assignment.version != version:
        return
    emails.plan(assignment)


@shared_task
def plan_reminders() -> None:
    reminders.reminders_plan()
    reminders.reminders_render()


@shared_task
def dispatch_reminders() -> None:
    reminders.reminders_dispatch()


@shared_task
def send_reminders(ids: list[int], claim: str) -> None:
    """No automatic retry: a batch that dies leaves its rows claimed, and the
    dispatcher puts them back after REMINDER_SENDING_TIMEOUT. Retrying here
    could repeat a message the server had already accepted."""
    reminders.reminders_send(ids=ids, claim=claim)
