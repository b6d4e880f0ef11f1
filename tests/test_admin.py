"""Django admin: everything registered, and scoped to the clinic for anyone
who is not a superuser."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from clinic.models import Clinic, Patient, StaffMember
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for_clinic(clinic_admin: StaffMember) -> Client:
    perms = Permission.objects.filter(
        content_type__app_label="clinic",
        codename__in=[
            "view_patient",
            "change_patient",
            "add_patient",
            "view_clinic",
            "change_clinic",
            "view_staffmember",
            "view_auditevent",
            "view_user",
            "view_loginlink",
        ],
    )
    clinic_admin.user.user_permissions.set(perms)
    return client_for(clinic_admin.user)


def test_a_clinic_admin_sees_only_their_clinics_patients(
    admin_client_for_clinic: Client, patient: Patient, other_patient: Patient
) -> None:
    html = admin_client_for_clinic.get(reverse("admin:clinic_patient_changelist")).content.decode()
    assert patient.last_name in html
    assert other_patient.last_name not in html


def test_a_clinic_admin_cannot_open_another_clinics_patient(
    admin_client_for_clinic: Client, other_patient: Patient
) -> None:
    response = admin_client_for_clinic.get(
        reverse("admin:clinic_patient_change", args=[other_patient.pk])
    )
    # Django admin answers an object outside the queryset with a redirect and
    # "doesn't exist", never the object.
    assert response.status_code == 302
    assert other_patient.last_name not in admin_client_for_clinic.get(response.url).content.decode()


def test_a_clinic_admin_sees_only_their_own_clinic(
    admin_client_for_clinic: Client, clinic: Clinic, other_clinic: Clinic
) -> None:
    html = admin_client_for_clinic.get(reverse("admin:clinic_clinic_changelist")).content.decode()
    assert clinic.name in html
    assert other_clinic.name not in html


def test_patients_added_by_a_clinic_admin_land_in_their_clinic(
    admin_client_for_clinic: Client, clinic: Clinic, other_clinic: Clinic
) -> None:
    form = admin_client_for_clinic.get(reverse("admin:clinic_patient_add")).content.decode()
    assert other_clinic.name not in form
    response = admin_client_for_clinic.post(
        reverse("admin:clinic_patient_add"),
        {
            "clinic": other_clinic.pk,  # tampered: must not be honoured
            "first_name": "Ada",
            "last_name": "Quinn",
            "email": "ada@example.com",
            "time_zone": "Europe/London",
        },
    )
    assert response.status_code in (200, 302)
    assert not Patient.objects.filter(clinic=other_clinic, last_name="Quinn").exists()


def test_the_audit_trail_is_read_only_even_for_superusers(clinic: Clinic) -> None:
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client = client_for(superuser)
    assert client.get(reverse("admin:clinic_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:clinic_auditevent_add")).status_code == 403


def test_a_superuser_sees_every_clinic(clinic: Clinic, other_clinic: Clinic) -> None:
    client = client_for(UserFactory(is_staff=True, is_superuser=True))
    html = client.get(reverse("admin:clinic_clinic_changelist")).content.decode()
    assert clinic.name in html and other_clinic.name in html


@pytest.mark.parametrize(
    "model", ["clinic", "staffmember", "patient", "auditevent", "loginlink", "user", "clinicalnote"]
)
def test_every_model_has_a_working_admin_list_with_search(
    clinic: Clinic, patient: Patient, model: str
) -> None:
    client = client_for(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse(f"admin:clinic_{model}_changelist"), {"q": "jamie"})
    assert response.status_code == 200
