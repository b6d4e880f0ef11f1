from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from clinic import emails
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
