"""A real Celery worker process takes the sign-in link task from Redis and sends
the email to a real SMTP server: the path a patient's sign-in takes in
production, without mocks."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from clinic.models import LoginLink
from tests.factories import PatientFactory, UserFactory
from tests.integration import (  # noqa: F401  (pytest fixtures, requested by name)
    SITE_URL,
    ReceivedMail,
    SmtpSink,
    Worker,
    smtp_sink_fixture,
    start_worker_fixture,
)

pytestmark = pytest.mark.integration

TASK = "clinic.tasks.send_login_link"


def _link_for_new_patient(email: str) -> LoginLink:
    user = UserFactory(email=email, first_name="Jamie", last_name="Rivers")
    PatientFactory(email=email, first_name="Jamie", last_name="Rivers", user=user)
    # Created directly and published below with send_task: login_link_create
    # would run the task eagerly in this process (unit tests make Celery eager).
    return LoginLink.objects.create(user=user, expires_at=timezone.now() + LoginLink.lifetime())


def _assert_is_the_sign_in_email(mail: ReceivedMail, *, link: LoginLink, to: str) -> None:
    assert mail.rcpt_tos == [to]
    assert mail.mail_from in settings.DEFAULT_FROM_EMAIL
    assert mail.message["To"] == to
    assert "text/plain" in mail.content_types
    assert "text/html" in mail.content_types

    text = mail.body("plain")
    prefix = SITE_URL + reverse("login_link", args=["TOKEN"]).removesuffix("TOKEN/")
    urls = re.findall(re.escape(prefix) + r"([^/\s]+)/", text)
    assert len(urls) == 1, f"expected one sign-in URL starting {prefix} in:\n{text}"
    token = urls[0]
    # The worker signs the link itself, a moment after this process could:
    # the token carries the signing time, so compare what it signs (this
    # link's id, with the right salt, still within its lifetime) and the
    # payload, not the exact string.
    assert LoginLink.id_from_token(token) == link.pk
    assert token.split(":")[0] == link.token.split(":")[0]
    assert f"{SITE_URL}{reverse('login_link', args=[token])}" in mail.body("html")


def test_a_real_worker_sends_the_sign_in_link_through_redis_to_an_smtp_server(
    smtp_sink: SmtpSink, start_worker: Callable[..., Worker]
) -> None:
    link = _link_for_new_patient("jamie.rivers@example.com")
    worker = start_worker(smtp=smtp_sink)

    worker.send_task(TASK, args=[link.pk])

    received = smtp_sink.wait_for(1, timeout=20)
    assert len(received) == 1, f"{len(received)} messages arrived at the SMTP server"
    _assert_is_the_sign_in_email(received[0], link=link, to="jamie.rivers@example.com")
    assert smtp_sink.refused == []


def test_the_worker_retries_when_the_smtp_server_says_try_again_later(
    smtp_sink: SmtpSink, start_worker: Callable[..., Worker]
) -> None:
    link = _link_for_new_patient("sam.hill@example.com")
    smtp_sink.fail_next("451 4.3.0 Try again later")
    worker = start_worker(smtp=smtp_sink)

    worker.send_task(TASK, args=[link.pk])

    # The task retries SMTP errors with retry_backoff=5 and full jitter: the
    # first retry comes 0-5 s later. Django's SMTP backend never retries, so a
    # second delivery attempt is Celery's.
    received = smtp_sink.wait_for(1, timeout=30)
    assert len(smtp_sink.refused) == 1, "the first attempt should have been refused"
    assert len(received) == 1, f"{len(received)} messages arrived after the refusal"
    _assert_is_the_sign_in_email(received[0], link=link, to="sam.hill@example.com")
