"""`seed_demo`: the demo clinic a newcomer signs in to."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from clinic.models import Clinic, Patient, StaffMember, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug_on(settings: object) -> None:
    settings.DEBUG = True  # the test runner turns DEBUG off; `make run` has it on


def test_seed_demo_creates_the_demo_clinic_with_working_logins() -> None:
    call_command("seed_demo")
    clinic = Clinic.objects.get(slug="demo")
    physio = User.objects.get(email="physio@example.com")
    assert physio.check_password("backstride-physio")
    assert physio.staff.clinic == clinic and physio.staff.role == StaffMember.Role.CLINICIAN
    patient = User.objects.get(email="patient@example.com")
    assert patient.check_password("backstride-patient")
    assert Patient.objects.get(user=patient).clinic == clinic
    assert Patient.objects.for_clinic(clinic).count() >= 4


def test_seed_demo_is_idempotent_and_resets_the_demo_passwords() -> None:
    call_command("seed_demo")
    counts = (
        Clinic.objects.count(),
        User.objects.count(),
        Patient.objects.count(),
        StaffMember.objects.count(),
    )
    physio = User.objects.get(email="physio@example.com")
    physio.set_password("changed-by-someone")
    physio.save()
    call_command("seed_demo")
    assert (
        Clinic.objects.count(),
        User.objects.count(),
        Patient.objects.count(),
        StaffMember.objects.count(),
    ) == counts
    physio.refresh_from_db()
    assert physio.check_password("backstride-physio")


def test_seed_demo_refuses_to_run_in_production_unless_forced(settings: object) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=0"):
        call_command("seed_demo")
    assert not Clinic.objects.exists()
    call_command("seed_demo", "--force")
    assert Clinic.objects.filter(slug="demo").exists()


def test_seed_demo_gives_a_demo_patient_a_plan_with_logged_sessions() -> None:
    from exercises.models import Assignment, Exercise, Program

    call_command("seed_demo")
    call_command("seed_demo")
    assert Exercise.objects.shared().count() >= 30
    assert Program.objects.filter(clinic=None).count() >= 5
    [plan] = Assignment.objects.filter(patient__email="priya.nair@example.com")
    assert plan.items.exists()
    adherence = plan.adherence()
    assert adherence["scheduled"] >= 8
    assert 0.5 < adherence["rate"] < 1


def test_seed_demo_shows_a_bounced_reminder_on_the_physios_dashboard() -> None:
    from django.test import Client
    from django.urls import reverse

    from exercises.models import Reminder

    call_command("seed_demo")
    call_command("seed_demo")
    [bounced] = Reminder.objects.failed()
    assert bounced.patient.email == "priya.nair@example.com"
    client = Client()
    client.force_login(User.objects.get(email="physio@example.com"))
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="undelivered"' in page
    assert "Priya Nair" in page and "550 5.1.1 Mailbox unavailable" in page
