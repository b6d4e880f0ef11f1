"""Patient data stays inside its clinic: another clinic's ids are 404, every
view of a patient is audited, and list pages cost the same queries at any size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.models import AuditEvent, Patient, StaffMember
from tests.conftest import client_for
from tests.factories import PatientFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_staff_open_their_own_clinics_patient(physio_client: Client, patient: Patient) -> None:
    response = physio_client.get(reverse("patient_detail", args=[patient.pk]))
    assert response.status_code == 200
    assert patient.full_name in response.content.decode()


def test_another_clinics_patient_is_a_404(physio_client: Client, other_patient: Patient) -> None:
    assert physio_client.get(reverse("patient_detail", args=[other_patient.pk])).status_code == 404


def test_a_missing_id_and_another_clinics_id_look_the_same(
    physio_client: Client, other_patient: Patient
) -> None:
    missing = physio_client.get(reverse("patient_detail", args=[other_patient.pk + 1000]))
    foreign = physio_client.get(reverse("patient_detail", args=[other_patient.pk]))
    assert missing.status_code == foreign.status_code == 404


def test_the_patient_list_shows_only_the_clinics_own_patients(
    physio_client: Client, patient: Patient, other_patient: Patient
) -> None:
    html = physio_client.get(reverse("patient_list")).content.decode()
    assert patient.full_name in html
    assert other_patient.full_name not in html


def test_searching_never_reaches_another_clinic(
    physio_client: Client, patient: Patient, other_patient: Patient
) -> None:
    html = physio_client.get(
        reverse("patient_list"), {"q": other_patient.last_name}
    ).content.decode()
    assert other_patient.full_name not in html
    assert "No patients match" in html


def test_search_finds_patients_by_name_and_email(
    physio_client: Client, patient: Patient, clinic: object
) -> None:
    PatientFactory(clinic=clinic, first_name="Priya", last_name="Nair", email="priya@example.com")
    assert (
        "Priya Nair" in physio_client.get(reverse("patient_list"), {"q": "nair"}).content.decode()
    )
    html = physio_client.get(reverse("patient_list"), {"q": "priya@example"}).content.decode()
    assert "Priya Nair" in html
    assert patient.full_name not in html


def test_the_dashboard_counts_only_the_clinics_own_patients(
    physio_client: Client, patient: Patient, other_patient: Patient
) -> None:
    html = physio_client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="patient-count">1<' in html
    assert other_patient.full_name not in html


def test_the_other_clinics_physio_cannot_see_this_clinics_patient(
    other_physio_client: Client, patient: Patient
) -> None:
    assert other_physio_client.get(reverse("patient_detail", args=[patient.pk])).status_code == 404


def test_an_inactive_staff_member_is_shut_out(physio: StaffMember, patient: Patient) -> None:
    physio.is_active = False
    physio.save()
    client = client_for(physio.user)
    assert client.get(reverse("patient_detail", args=[patient.pk])).status_code == 403


def test_a_patient_sees_only_their_own_records(
    patient_client: Client, patient: Patient, other_patient: Patient
) -> None:
    html = patient_client.get(reverse("me")).content.decode()
    assert patient.clinic.name in html
    assert other_patient.clinic.name not in html
    assert patient_client.get(reverse("patient_detail", args=[patient.pk])).status_code == 403


def test_viewing_a_patient_is_audited_with_who_what_and_where(
    physio_client: Client, physio: StaffMember, patient: Patient
) -> None:
    physio_client.get(reverse("patient_detail", args=[patient.pk]), REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.get()
    assert event.clinic == patient.clinic
    assert event.actor == physio.user
    assert event.action == AuditEvent.Action.VIEW
    assert (event.object_type, event.object_id) == ("clinic.patient", str(patient.pk))
    assert event.ip_address == "10.1.2.3"


def test_a_refused_view_of_another_clinics_patient_leaves_no_audit_row_in_their_clinic(
    physio_client: Client, other_patient: Patient
) -> None:
    physio_client.get(reverse("patient_detail", args=[other_patient.pk]))
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("url_name", ["patient_list", "dashboard"])
def test_list_pages_run_a_constant_number_of_queries(
    physio_client: Client, clinic: object, url_name: str
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert physio_client.get(reverse(url_name)).status_code == 200
        return len(queries)

    PatientFactory.create_batch(3, clinic=clinic)
    few = count()
    PatientFactory.create_batch(60, clinic=clinic)
    assert count() == few


def test_receptionists_see_patient_contact_details(
    receptionist_client: Client, patient: Patient
) -> None:
    response = receptionist_client.get(reverse("patient_detail", args=[patient.pk]))
    assert response.status_code == 200
    assert patient.email in response.content.decode()


def test_staff_of_a_clinic_with_no_patients_see_an_empty_list(
    clinic: object, other_patient: Patient
) -> None:
    lonely = StaffFactory(clinic=clinic)
    html = client_for(lonely.user).get(reverse("patient_list")).content.decode()
    assert "No patients match" in html
