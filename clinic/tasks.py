from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from clinic import emails
from clinic.models import LoginLink


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=5,
    retry_jitter=True,
    max_retries=5,
)
def send_login_link(link_id: int) -> None:
    link = LoginLink.objects.usable().select_related("user").filter(pk=link_id).first()
    if link is None:  # used or expired before the worker got to it: nothing to send
        return
    emails.login_link(link)


# Consult emails live beside the booking code; imported here so the worker,
# which autodiscovers `clinic.tasks`, registers them too.
from clinic import consult_tasks  # noqa: E402, F401
