"""Personas shared by every test: a physio, a receptionist, a clinic admin and
a patient of one clinic, and a physio and patient of another clinic."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from clinic import celery_app
from clinic.models import Clinic, Patient, StaffMember, User
from tests.factories import ClinicFactory, PatientFactory, StaffFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; the ORM calls
# the tests make around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True, scope="session")
def _eager_celery() -> None:
    # Unit tests run tasks in-process; the integration tests start a real
    # worker and publish with send_task, which never runs eagerly.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    # A fast hash: the real one costs a third of a second per password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clinic(db: None) -> Clinic:
    return ClinicFactory(name="Riverside Running Physio", slug="riverside")


@pytest.fixture
def other_clinic(db: None) -> Clinic:
    return ClinicFactory(name="Northside Sports Physio", slug="northside")


@pytest.fixture
def physio(clinic: Clinic) -> StaffMember:
    return StaffFactory(
        clinic=clinic, user__email="physio@riverside.example.com", user__first_name="Alex"
    )


@pytest.fixture
def receptionist(clinic: Clinic) -> StaffMember:
    return StaffFactory(clinic=clinic, role=StaffMember.Role.RECEPTIONIST, job_title="")


@pytest.fixture
def clinic_admin(clinic: Clinic) -> StaffMember:
    return StaffFactory(
        clinic=clinic, role=StaffMember.Role.ADMIN, user__is_staff=True, job_title=""
    )


@pytest.fixture
def patient(clinic: Clinic) -> Patient:
    user = UserFactory(email="jamie@example.com", first_name="Jamie", last_name="Rivers")
    return PatientFactory(
        clinic=clinic, email=user.email, first_name="Jamie", last_name="Rivers", user=user
    )


@pytest.fixture
def other_physio(other_clinic: Clinic) -> StaffMember:
    return StaffFactory(clinic=other_clinic, user__email="physio@northside.example.com")


@pytest.fixture
def other_patient(other_clinic: Clinic) -> Patient:
    return PatientFactory(clinic=other_clinic, first_name="Seán", last_name="Kelly")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def physio_client(physio: StaffMember) -> Client:
    return client_for(physio.user)


@pytest.fixture
def receptionist_client(receptionist: StaffMember) -> Client:
    return client_for(receptionist.user)


@pytest.fixture
def patient_client(patient: Patient) -> Client:
    assert patient.user is not None
    return client_for(patient.user)


@pytest.fixture
def other_physio_client(other_physio: StaffMember) -> Client:
    return client_for(other_physio.user)


# Browser tests: Debian's Chromium, never a downloaded browser build ---------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def demo(live_server: LiveServer, settings: Any) -> LiveServer:
    # A cheap hasher for the seeded passwords and the sign-ins that check them;
    # the live server runs in this process, so it sees the same settings.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # live_server flushes the database after every test, so seed each time.
    # Tests run with DEBUG=False, where the command insists on --force.
    call_command("seed_demo", force=True, stdout=io.StringIO())
    return live_server
