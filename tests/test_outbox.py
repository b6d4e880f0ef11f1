"""The embedded default's mail: written to files and readable by staff at /outbox/."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic import emails
from clinic.models import LoginLink, Patient
from clinic.services import login_link_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def file_mail(settings: object) -> None:
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "clinic.mail.EmlFileBackend"


def test_mail_is_written_as_files_and_listed_in_the_outbox(
    file_mail: None, physio_client: Client, patient: Patient
) -> None:
    link = LoginLink.objects.create(
        user=patient.user, expires_at=timezone.now() + LoginLink.lifetime()
    )
    emails.login_link(link)
    page = physio_client.get(reverse("outbox"))
    html = page.content.decode()
    assert "Your sign-in link" in html
    assert patient.email in html

    name = page.context["messages_"][0].name
    detail = physio_client.get(reverse("outbox_message", args=[name])).content.decode()
    token = re.search(r"/accounts/link/([^/\s]+)/", detail).group(1)
    assert LoginLink.id_from_token(token) == link.pk
    body = physio_client.get(reverse("outbox_html", args=[name]))
    assert body.status_code == 200
    assert "sandbox" in body["Content-Security-Policy"]
    assert b"Sign me in" in body.content


def test_the_outbox_is_for_staff_only(file_mail: None, patient_client: Client) -> None:
    assert patient_client.get(reverse("outbox")).status_code == 403


def test_the_outbox_is_gone_when_debug_is_off(physio_client: Client, settings: object) -> None:
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "clinic.mail.EmlFileBackend"
    assert physio_client.get(reverse("outbox")).status_code == 404


def test_outbox_names_cannot_walk_out_of_the_mail_folder(
    file_mail: None, physio_client: Client
) -> None:
    assert (
        physio_client.get(reverse("outbox_message", args=["..%2F..%2Fsettings.py"])).status_code
        == 404
    )


def test_every_message_has_a_plain_text_and_an_html_part(
    patient: Patient, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        login_link_create(email=patient.email)
    [message] = mail.outbox
    assert message.body.strip()
    assert [mimetype for _content, mimetype in message.alternatives] == ["text/html"]
