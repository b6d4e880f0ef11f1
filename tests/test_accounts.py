"""Signing in and out: passwords for staff and patients, password reset, and
the one-time emailed sign-in link for patients."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.models import LoginLink, Patient, StaffMember, User
from clinic.services import login_link_create, login_link_use
from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db


def sign_in(client: Client, email: str, password: str = PASSWORD) -> object:
    return client.post(reverse("login"), {"username": email, "password": password})


def link_in(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://\S+/accounts/link/[^/\s]+/", message.body)
    assert match, message.body
    return match.group(0)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


# Passwords -------------------------------------------------------------------


def test_staff_sign_in_with_email_and_password_and_land_on_the_dashboard(
    client: Client, physio: StaffMember
) -> None:
    response = sign_in(client, "PHYSIO@riverside.example.com")
    assert response.status_code == 302
    assert client.get(response.url).url == reverse("dashboard")


def test_patients_sign_in_with_a_password_and_land_on_their_page(
    client: Client, patient: Patient
) -> None:
    response = sign_in(client, patient.email)
    assert client.get(response.url).url == reverse("me")


def test_a_wrong_password_is_refused_with_a_clear_message(
    client: Client, physio: StaffMember
) -> None:
    response = sign_in(client, physio.user.email, "not-the-password")
    assert response.status_code == 200
    assert "correct email address and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_wrong_passwords_lock_the_account_for_that_address(
    client: Client, physio: StaffMember, settings: object
) -> None:
    for _ in range(10):
        sign_in(client, physio.user.email, "guess")
    response = sign_in(client, physio.user.email)
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signing_out_needs_a_post_and_ends_the_session(physio_client: Client) -> None:
    assert physio_client.get(reverse("logout")).status_code == 405
    response = physio_client.post(reverse("logout"))
    assert response.url == reverse("landing")
    assert physio_client.get(reverse("dashboard")).status_code == 302


def test_pages_need_a_sign_in(client: Client, clinic: object) -> None:
    for name in ("dashboard", "patient_list", "me", "outbox"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_patients_cannot_open_staff_pages_and_staff_have_no_patient_page(
    patient_client: Client, physio_client: Client
) -> None:
    assert patient_client.get(reverse("dashboard")).status_code == 403
    assert patient_client.get(reverse("patient_list")).status_code == 403
    assert physio_client.get(reverse("me")).status_code == 403


# Password reset ----------------------------------------------------------------


def test_password_reset_emails_a_link_built_from_the_site_url(
    client: Client, physio: StaffMember, settings: object
) -> None:
    settings.SITE_URL = "https://clinic.example.org"
    settings.ALLOWED_HOSTS = ["*"]  # even a host the proxy let through is never used in links
    response = client.post(
        reverse("password_reset"), {"email": physio.user.email}, HTTP_HOST="evil.example"
    )
    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [physio.user.email]
    assert "https://clinic.example.org/accounts/password/reset/" in message.body
    assert "evil.example" not in message.body
    assert message.alternatives and message.alternatives[0][1] == "text/html"

    url = re.search(r"https://\S+/accounts/password/reset/\S+/", message.body).group(0)
    form_url = client.get(path_of(url)).url  # Django swaps the token for a session value
    response = client.post(
        form_url,
        {"new_password1": "a-new-long-password-9", "new_password2": "a-new-long-password-9"},
    )
    assert response.url == reverse("password_reset_complete")
    physio.user.refresh_from_db()
    assert physio.user.check_password("a-new-long-password-9")


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(
    client: Client, clinic: object
) -> None:
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


# One-time sign-in links --------------------------------------------------------


def request_link(client: Client, email: str, django_capture_on_commit_callbacks: object) -> object:
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("login_link_request"), {"email": email})


def test_a_patient_signs_in_with_an_emailed_link_once(
    client: Client, patient: Patient, django_capture_on_commit_callbacks: object
) -> None:
    response = request_link(client, patient.email.upper(), django_capture_on_commit_callbacks)
    assert response.url == reverse("login_link_sent")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.email]
    assert message.alternatives[0][1] == "text/html"
    path = path_of(link_in(message))

    # Opening the link (as a mail scanner would) signs nobody in.
    page = client.get(path)
    assert page.status_code == 200
    assert "Sign me in" in page.content.decode()
    assert "_auth_user_id" not in client.session

    response = client.post(path)
    assert response.url == reverse("home")
    assert int(client.session["_auth_user_id"]) == patient.user_id

    # Single use: the page now says so, and a second press, even from another
    # browser, is refused.
    other = Client()
    assert "Sign me in" not in other.get(path).content.decode()
    response = other.post(path)
    assert response.url == reverse("login_link_request")
    assert "_auth_user_id" not in other.session


def test_a_sign_in_link_expires(
    client: Client, patient: Patient, django_capture_on_commit_callbacks: object
) -> None:
    request_link(client, patient.email, django_capture_on_commit_callbacks)
    path = path_of(link_in(mail.outbox[0]))
    with time_machine.travel(timezone.now() + LoginLink.lifetime() + timedelta(seconds=5)):
        assert "expired" in client.get(path).content.decode()
        assert client.post(path).url == reverse("login_link_request")
    assert "_auth_user_id" not in client.session


def test_a_tampered_link_is_refused(
    client: Client, patient: Patient, django_capture_on_commit_callbacks: object
) -> None:
    request_link(client, patient.email, django_capture_on_commit_callbacks)
    path = path_of(link_in(mail.outbox[0]))
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    assert client.post(tampered).url == reverse("login_link_request")
    assert "_auth_user_id" not in client.session


def test_a_link_for_an_unknown_address_sends_nothing_and_says_the_same(
    client: Client, clinic: object, django_capture_on_commit_callbacks: object
) -> None:
    response = request_link(client, "stranger@example.com", django_capture_on_commit_callbacks)
    assert response.url == reverse("login_link_sent")
    assert mail.outbox == []
    assert not User.objects.filter(email="stranger@example.com").exists()


def test_a_patient_without_a_login_gets_one_from_their_first_link(
    client: Client, clinic: object, django_capture_on_commit_callbacks: object
) -> None:
    patient = PatientFactory(clinic=clinic, email="new@example.com", first_name="Noor", user=None)
    request_link(client, "new@example.com", django_capture_on_commit_callbacks)
    patient.refresh_from_db()
    assert patient.user is not None
    assert not patient.user.has_usable_password()
    assert patient.user.first_name == "Noor"
    client.post(path_of(link_in(mail.outbox[0])))
    assert client.get(reverse("home")).url == reverse("me")


def test_staff_cannot_sign_in_by_link(
    client: Client, physio: StaffMember, django_capture_on_commit_callbacks: object
) -> None:
    # A staff member who is also on the patient list still uses their password.
    PatientFactory(clinic=physio.clinic, email=physio.user.email, user=physio.user)
    request_link(client, physio.user.email, django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_two_racing_uses_of_one_link_sign_in_only_once(patient: Patient) -> None:
    link = login_link_create(email=patient.email)
    assert link is not None
    assert login_link_use(token=link.token) == patient.user
    assert login_link_use(token=link.token) is None


def test_the_sign_in_email_carries_no_health_information(
    client: Client, patient: Patient, django_capture_on_commit_callbacks: object
) -> None:
    request_link(client, patient.email, django_capture_on_commit_callbacks)
    message = mail.outbox[0]
    text = (message.subject + message.body).lower()
    for word in ("pain", "back pain", "diagnos", "risk", patient.clinic.name.lower()):
        assert word not in text
