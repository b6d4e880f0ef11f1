"""Booking online consults: the booking service and its race, the PostgreSQL
constraint, calendar invites, signed links to cancel and move, the one-a-day
rule, staff booking and the schedule, and tenant isolation."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from clinic import booking, consult_links
from clinic.consult_services import (
    ConsultLocked,
    OneConsultPerDay,
    SlotTaken,
    consult_book,
    consult_cancel,
    consult_record_outcome,
    consult_reschedule,
)
from clinic.models import AuditEvent, Clinic, Consult, ConsultType, Patient, StaffMember
from tests.booking_helpers import MONDAY_MORNING, at, consult_types, details, weekday_hours
from tests.conftest import client_for
from tests.factories import ClinicFactory, PatientFactory, StaffFactory, UserFactory

TUESDAY_NINE = at(2026, 1, 6, 9)
TUESDAY_TEN = at(2026, 1, 6, 10)
WEDNESDAY_NINE = at(2026, 1, 7, 9)


@pytest.fixture
def week(clinic: Clinic, physio: StaffMember) -> Clinic:
    consult_types(clinic)
    weekday_hours(physio)
    return clinic


@pytest.fixture
def assessment(week: Clinic) -> ConsultType:
    return week.consult_types.get(name="Initial assessment")


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(MONDAY_MORNING, tick=False) as traveller:
        yield traveller


def book(patient: Patient, clinician: StaffMember, consult_type: ConsultType, when: Any) -> Consult:
    return consult_book(
        clinic=patient.clinic,
        consult_type=consult_type,
        clinician=clinician,
        starts_at=when,
        patient=patient,
    )


def invite(message: Any) -> Calendar:
    [(_name, content, mimetype)] = [a for a in message.attachments if a[0].endswith(".ics")]
    assert mimetype.startswith("text/calendar")
    return Calendar.from_ical(content)


def event(message: Any) -> Any:
    [vevent] = invite(message).walk("VEVENT")
    return vevent


# The booking service -----------------------------------------------------------


@pytest.mark.django_db
def test_booking_a_free_slot_creates_the_consult_with_its_buffer_and_a_private_room(
    frozen: Any, week: Clinic, physio: StaffMember, patient: Patient, assessment: ConsultType
) -> None:
    consult = book(patient, physio, assessment, TUESDAY_NINE)
    assert consult.status == Consult.Status.BOOKED
    assert consult.ends_at == TUESDAY_NINE + timedelta(minutes=45)
    assert consult.blocked_until == TUESDAY_NINE + timedelta(minutes=60)
    assert consult.video_url.startswith("https://meet.jit.si/backstride-")
    assert len(consult.video_url.rsplit("-", 1)[-1]) >= 20 or len(consult.video_url) > 45
    other = book(PatientFactory(clinic=week), physio, assessment, TUESDAY_TEN)
    assert other.video_url != consult.video_url


@pytest.mark.django_db
def test_the_video_room_comes_from_the_configured_base_or_the_clinics_own_link(
    frozen: Any,
    settings: Any,
    week: Clinic,
    physio: StaffMember,
    patient: Patient,
    assessment: ConsultType,
) -> None:
    settings.VIDEO_BASE_URL = "https://video.example.org"
    assert book(patient, physio, assessment, TUESDAY_NINE).video_url.startswith(
        "https://video.example.org/backstride-"
    )
    week.video_url = "https://zoom.example.com/j/123456"
    week.save()
    consult = book(PatientFactory(clinic=week), physio, assessment, TUESDAY_TEN)
    assert consult.video_url == "https://zoom.example.com/j/123456"


@pytest.mark.django_db
def test_an_overlapping_booking_is_refused_with_slot_taken(
    frozen: Any, week: Clinic, physio: StaffMember, patient: Patient, assessment: ConsultType
) -> None:
    book(patient, physio, assessment, TUESDAY_NINE)
    with pytest.raises(SlotTaken, match="just taken"):
        book(PatientFactory(clinic=week), physio, assessment, TUESDAY_NINE + timedelta(minutes=30))


@pytest.mark.django_db
def test_times_outside_the_hours_or_inside_the_notice_are_refused(
    frozen: Any, week: Clinic, physio: StaffMember, patient: Patient, assessment: ConsultType
) -> None:
    with pytest.raises(SlotTaken):
        book(patient, physio, assessment, at(2026, 1, 6, 7))  # before the hours
    with pytest.raises(SlotTaken):
        book(patient, physio, assessment, at(2026, 1, 5, 15))  # today: inside 12 h notice
    with pytest.raises(SlotTaken):
        book(patient, physio, assessment, at(2026, 1, 6, 9, 10))  # off the grid
    assert not Consult.objects.exists()


@pytest.mark.django_db
def test_a_patient_may_hold_one_active_consult_a_day_unless_the_clinic_relaxes_it(
    frozen: Any, week: Clinic, physio: StaffMember, patient: Patient, assessment: ConsultType
) -> None:
    first = book(patient, physio, assessment, TUESDAY_NINE)
    with pytest.raises(OneConsultPerDay):
        book(patient, physio, assessment, at(2026, 1, 6, 14))
    book(patient, physio, assessment, WEDNESDAY_NINE)  # another day is fine

    consult_cancel(consult=first, by="patient")
    book(patient, physio, assessment, at(2026, 1, 6, 14))  # the day is free again

    week.one_consult_per_day = False
    week.save()
    book(patient, physio, assessment, at(2026, 1, 6, 16))
    assert Consult.objects.active().filter(patient=patient).count() == 3


@pytest.mark.django_db
def test_booking_with_details_finds_the_patient_by_email_and_never_overwrites_them(
    frozen: Any, week: Clinic, physio: StaffMember, patient: Patient, assessment: ConsultType
) -> None:
    consult = consult_book(
        clinic=week,
        consult_type=assessment,
        clinician=physio,
        starts_at=TUESDAY_NINE,
        details=details(email="JAMIE@example.com", first_name="Someone", last_name="Else"),
    )
    assert consult.patient == patient
    patient.refresh_from_db()
    assert patient.first_name == "Jamie"

    new = consult_book(
        clinic=week,
        consult_type=assessment,
        clinician=physio,
        starts_at=WEDNESDAY_NINE,
        details=details(time_zone="America/New_York", phone="+1 555 0100"),
    )
    assert new.patient.email == "sam.okoye@example.com" and new.patient.clinic == week
    assert new.patient.time_zone == "America/New_York" and new.patient.phone == "+1 555 0100"


@pytest.mark.django_db
def test_a_lost_race_leaves_no_new_patient_behind(
    frozen: Any, week: Clinic, physio: StaffMember, patient: Patient, assessment: ConsultType
) -> None:
    book(patient, physio, assessment, TUESDAY_NINE)
    with pytest.raises(SlotTaken):
        consult_book(
            clinic=week,
            consult_type=assessment,
            clinician=physio,
            starts_at=TUESDAY_NINE,
            details=details(),
        )
    assert not Patient.objects.filter(email="sam.okoye@example.com").exists()


@pytest.mark.django_db
def test_another_clinics_type_clinician_or_patient_cannot_be_booked(
    frozen: Any,
    week: Clinic,
    physio: StaffMember,
    other_physio: StaffMember,
    patient: Patient,
    other_patient: Patient,
    assessment: ConsultType,
) -> None:
    with pytest.raises(ValueError):
        book(patient, other_physio, assessment, TUESDAY_NINE)
    with pytest.raises(ValueError):
        consult_book(
            clinic=week,
            consult_type=assessment,
            clinician=physio,
            starts_at=TUESDAY_NINE,
            patient=other_patient,
        )
    assert not Consult.objects.exists()


@pytest.mark.django_db
def test_online_booking_can_be_switched_off_but_staff_can_still_book(
    frozen: Any, week: Clinic, physio: StaffMember, patient: Patient, assessment: ConsultType
) -> None:
    week.booking_enabled = False
    week.save()
    with pytest.raises(Exception, match="not open"):
        book(patient, physio, assessment, TUESDAY_NINE)
    consult_book(
        clinic=week,
        consult_type=assessment,
        clinician=physio,
        starts_at=TUESDAY_NINE,
        patient=patient,
        by_staff=True,
    )


@pytest.mark.django_db
def test_outcomes_are_recorded_only_once_the_consult_has_started(
    frozen: Any, week: Clinic, physio: StaffMember, patient: Patient, assessment: ConsultType
) -> None:
    consult = book(patient, physio, assessment, TUESDAY_NINE)
    with pytest.raises(ConsultLocked):
        consult_record_outcome(consult=consult, status=Consult.Status.COMPLETED)
    frozen.move_to(TUESDAY_NINE + timedelta(minutes=50))
    consult = consult_record_outcome(consult=consult, status=Consult.Status.NO_SHOW)
    consult = consult_record_outcome(consult=consult, status=Consult.Status.COMPLETED)
    assert consult.status == Consult.Status.COMPLETED


# No double booking, under real concurrency ------------------------------------


def test_twenty_people_racing_for_one_slot_get_one_booking_and_nineteen_clear_refusals(
    transactional_db: None, frozen: Any, week: Clinic, physio: StaffMember
) -> None:
    assessment = week.consult_types.get(name="Initial assessment")
    racers = 20
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []

    def race(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            consult_book(
                clinic=week,
                consult_type=assessment,
                clinician=physio,
                starts_at=TUESDAY_NINE,
                details=details(email=f"runner{n}@example.com"),
            )
            outcomes.append("booked")
        except SlotTaken:
            outcomes.append("taken")
        except Exception as error:  # "database is locked" would land here
            outcomes.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert Counter(outcomes) == {"booked": 1, "taken": racers - 1}, outcomes
    assert Consult.objects.count() == 1
    # The losers' new patient records went with their transactions.
    assert Patient.objects.filter(email__startswith="runner").count() == 1


def test_the_postgresql_constraint_refuses_overlapping_inserts_from_separate_transactions(
    transactional_db: None, week: Clinic, physio: StaffMember, patient: Patient
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            f"the exclusion constraint exists on PostgreSQL only (this run: {connection.vendor}); "
            "run with DATABASE_URL=postgres://..."
        )
    assessment = week.consult_types.get(name="Initial assessment")

    def consult(start_minutes: int, status: str = Consult.Status.BOOKED) -> Consult:
        starts = TUESDAY_NINE + timedelta(minutes=start_minutes)
        return Consult(
            clinic=week,
            clinician=physio,
            patient=patient,
            consult_type=assessment,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=45),
            blocked_until=starts + timedelta(minutes=60),
            status=status,
        )

    inserted = threading.Event()
    commit = threading.Event()
    failures: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                consult(0).save()
                inserted.set()
                commit.wait(timeout=10)
        finally:
            connection.close()

    def second() -> None:
        inserted.wait(timeout=10)
        try:
            with transaction.atomic():
                consult(30).save()  # waits for the first transaction, then fails
        except IntegrityError as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    inserted.wait(timeout=10)
    commit.set()
    for thread in threads:
        thread.join(timeout=30)

    assert len(failures) == 1 and "consult_no_overlap" in str(failures[0])
    assert Consult.objects.count() == 1
    # Back to back is fine, and a cancelled consult blocks nothing.
    consult(60).save()
    consult(0, Consult.Status.CANCELLED).save()
    assert Consult.objects.count() == 3


# Calendar invites and emails ---------------------------------------------------


@pytest.mark.django_db
def test_booking_emails_the_patient_an_invite_and_tells_the_clinician(
    frozen: Any,
    week: Clinic,
    physio: StaffMember,
    patient: Patient,
    assessment: ConsultType,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        consult = consult_book(
            clinic=week,
            consult_type=assessment,
            clinician=physio,
            starts_at=TUESDAY_NINE,
            patient=patient,
            reason="Sharp pain after my long runs",
        )
    to_patient, to_physio = mail.outbox
    assert to_patient.to == [patient.email] and to_physio.to == [physio.user.email]
    assert "Tuesday 6 January 2026, 09:00" in to_patient.subject
    assert consult.video_url in to_patient.body
    assert consult_links.consult_path(consult.pk) in to_patient.body

    cal = invite(to_patient)
    assert str(cal["METHOD"]) == "REQUEST"
    vevent = event(to_patient)
    assert str(vevent["UID"]) == str(consult.uid)
    assert int(vevent["SEQUENCE"]) == 0
    assert vevent.decoded("DTSTART") == TUESDAY_NINE
    assert vevent.decoded("DTEND") == TUESDAY_NINE + timedelta(minutes=45)
    assert str(vevent["LOCATION"]) == consult.video_url
    assert str(vevent["ORGANIZER"]) == f"mailto:{week.contact_email}"
    attendees = [str(a) for a in vevent.get("ATTENDEE")]
    assert f"mailto:{patient.email}" in attendees and f"mailto:{physio.user.email}" in attendees
    assert str(event(to_physio)["UID"]) == str(consult.uid)

    # The minimum: nothing the patient told us, and no patient name to staff.
    for message in mail.outbox:
        assert "Sharp pain" not in message.body
        assert all("Sharp pain" not in html for html, _ in message.alternatives)
        assert b"Sharp pain" not in invite(message).to_ical()
    assert patient.full_name not in to_physio.body + to_physio.subject
    assert patient.email not in to_physio.body
    assert patient.full_name not in invite(to_physio).to_ical().decode()


@pytest.mark.django_db
def test_a_reschedule_sends_the_same_uid_with_a_higher_sequence_and_cancel_sends_method_cancel(
    frozen: Any,
    week: Clinic,
    physio: StaffMember,
    patient: Patient,
    assessment: ConsultType,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        consult = book(patient, physio, assessment, TUESDAY_NINE)
    booked = event(mail.outbox[0])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        consult = consult_reschedule(consult=consult, starts_at=TUESDAY_TEN)
    moved_patient, moved_physio = mail.outbox
    assert "new time" in moved_patient.body.lower() and "moved" in moved_physio.subject.lower()
    assert str(invite(moved_patient)["METHOD"]) == "REQUEST"
    moved = event(moved_patient)
    assert moved["UID"] == booked["UID"]
    assert int(moved["SEQUENCE"]) > int(booked["SEQUENCE"])
    assert moved.decoded("DTSTART") == TUESDAY_TEN
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        consult_cancel(consult=consult, by="clinic")
    cancelled_patient, cancelled_physio = mail.outbox
    assert "has had to cancel" in cancelled_patient.body
    for message in (cancelled_patient, cancelled_physio):
        assert str(invite(message)["METHOD"]) == "CANCEL"
        gone = event(message)
        assert gone["UID"] == booked["UID"]
        assert int(gone["SEQUENCE"]) > int(moved["SEQUENCE"])
        assert str(gone["STATUS"]) == "CANCELLED"


@pytest.mark.django_db
def test_cancelling_twice_sends_one_cancellation(
    frozen: Any,
    week: Clinic,
    physio: StaffMember,
    patient: Patient,
    assessment: ConsultType,
    django_capture_on_commit_callbacks: Any,
) -> None:
    consult = book(patient, physio, assessment, TUESDAY_NINE)
    with django_capture_on_commit_callbacks(execute=True):
        consult_cancel(consult=consult, by="patient")
        consult_cancel(consult=consult, by="patient")
    assert len(mail.outbox) == 2  # the patient and the clinician, once each
    consult.refresh_from_db()
    assert consult.sequence == 1 and consult.cancelled_by == "patient"


@pytest.mark.django_db
def test_an_email_queued_before_a_change_is_not_sent_after_it(
    frozen: Any, week: Clinic, physio: StaffMember, patient: Patient, assessment: ConsultType
) -> None:
    from clinic import consult_tasks

    consult = book(patient, physio, assessment, TUESDAY_NINE)
    consult_reschedule(consult=consult, starts_at=TUESDAY_TEN)
    consult_reschedule(consult=consult, starts_at=WEDNESDAY_NINE)
    consult_tasks.send_consult_rescheduled(consult.pk, 1)  # stale: sequence is now 2
    assert not mail.outbox
    consult_tasks.send_consult_rescheduled(consult.pk, 2)
    assert len(mail.outbox) == 2


# Signed links: GET asks, POST acts ----------------------------------------------


@pytest.fixture
def booked(frozen: Any, week: Clinic, physio: StaffMember, patient: Patient) -> Consult:
    return book(patient, physio, week.consult_types.get(name="Initial assessment"), TUESDAY_NINE)


@pytest.mark.django_db
def test_the_consult_page_shows_the_time_on_the_patients_clock_and_a_calendar_file(
    client: Client, booked: Consult, patient: Patient
) -> None:
    patient.time_zone = "America/New_York"
    patient.save()
    html = client.get(consult_links.consult_path(booked.pk)).content.decode()
    assert "Tuesday 6 January 2026, 04:00" in html and "America/New York time (EST)" in html
    assert booked.video_url in html
    ics = client.get(reverse("consult_link_ics", args=[consult_links.consult_token(booked.pk)]))
    assert ics["Content-Type"].startswith("text/calendar")
    assert str(Calendar.from_ical(ics.content).walk("VEVENT")[0]["UID"]) == str(booked.uid)


@pytest.mark.django_db
def test_opening_the_cancel_link_changes_nothing_and_posting_it_cancels(
    client: Client, booked: Consult, django_capture_on_commit_callbacks: Any
) -> None:
    url = consult_links.cancel_path(booked.pk)
    response = client.get(url)
    assert response.status_code == 200 and "Yes, cancel it" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == Consult.Status.BOOKED and not mail.outbox

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == Consult.Status.CANCELLED and booked.cancelled_by == "patient"
    assert len(mail.outbox) == 2
    page = client.get(response.url).content.decode()
    assert "This consult is cancelled" in page and "Book another time" in page


@pytest.mark.django_db
def test_opening_the_reschedule_link_changes_nothing_and_posting_a_slot_moves_it(
    client: Client, booked: Consult, django_capture_on_commit_callbacks: Any
) -> None:
    url = consult_links.reschedule_path(booked.pk)
    response = client.get(url)
    assert response.status_code == 200
    keys = response.context["picker"].keys
    assert booking.slot_key(booked.clinician_id, TUESDAY_TEN) in keys
    booked.refresh_from_db()
    assert booked.starts_at == TUESDAY_NINE and booked.sequence == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"slot": booking.slot_key(booked.clinician_id, TUESDAY_TEN)})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == TUESDAY_TEN and booked.sequence == 1
    assert booked.blocked_until == TUESDAY_TEN + timedelta(minutes=60)
    assert len(mail.outbox) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["consult_link", "consult_link_cancel", "consult_link_reschedule"])
def test_a_forged_or_tampered_token_is_a_404(client: Client, booked: Consult, page: str) -> None:
    token = consult_links.consult_token(booked.pk)
    for bad in (f"{booked.pk}", token[:-2] + "xx", "bm90LWEtdG9rZW4"):
        assert client.get(reverse(page, args=[bad])).status_code == 404
        assert client.post(reverse(page, args=[bad])).status_code in {404, 405}
    booked.refresh_from_db()
    assert booked.status == Consult.Status.BOOKED


@pytest.mark.django_db
def test_a_token_for_one_kind_of_link_does_not_open_another(
    client: Client, booked: Consult
) -> None:
    from triage import links as intake_links

    token = intake_links.result_token(booked.pk)
    assert client.get(reverse("consult_link", args=[token])).status_code == 404


@pytest.mark.django_db
def test_a_started_consult_can_no_longer_be_cancelled_or_moved_by_link(
    client: Client, booked: Consult, frozen: Any
) -> None:
    frozen.move_to(TUESDAY_NINE + timedelta(minutes=5))
    client.post(consult_links.cancel_path(booked.pk))
    response = client.get(consult_links.reschedule_path(booked.pk))
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == Consult.Status.BOOKED


# The public booking page ------------------------------------------------------------


def form_data(slot: str, **extra: str) -> dict[str, str]:
    return {
        "slot": slot,
        "first_name": "Sam",
        "last_name": "Okoye",
        "email": "sam.okoye@example.com",
        **extra,
    }


@pytest.mark.django_db
def test_a_visitor_books_from_the_clinics_page_and_lands_on_the_confirmation(
    frozen: Any,
    client: Client,
    week: Clinic,
    physio: StaffMember,
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = reverse("book", args=[week.slug])
    page = client.get(url)
    assert page.status_code == 200
    key = page.context["picker"].days[0].slots[0].key
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form_data(key))
    assert response.status_code == 302, response.content.decode()[:2000]
    consult = Consult.objects.get()
    assert consult.starts_at == TUESDAY_NINE and consult.patient.email == "sam.okoye@example.com"
    confirmation = client.get(response.url).content.decode()
    assert (
        "Your consult is booked" in confirmation and "Tuesday 6 January 2026, 09:00" in confirmation
    )
    assert [m.to for m in mail.outbox] == [["sam.okoye@example.com"], [physio.user.email]]


@pytest.mark.django_db
def test_a_slot_taken_while_choosing_gets_a_clear_message_and_fresh_slots(
    frozen: Any, client: Client, week: Clinic, physio: StaffMember, patient: Patient
) -> None:
    url = reverse("book", args=[week.slug])
    key = client.get(url).context["picker"].days[0].slots[0].key
    book(patient, physio, week.consult_types.get(name="Initial assessment"), TUESDAY_NINE)

    response = client.post(url, form_data(key))
    assert response.status_code == 409
    assert "that time was just taken" in response.content.decode()
    assert key not in response.context["picker"].keys
    assert Consult.objects.count() == 1
    assert not Patient.objects.filter(email="sam.okoye@example.com").exists()


@pytest.mark.django_db
def test_a_patient_is_not_offered_a_second_consult_on_a_day_they_already_have_one(
    frozen: Any,
    client: Client,
    patient_client: Client,
    week: Clinic,
    physio: StaffMember,
    patient: Patient,
) -> None:
    book(patient, physio, week.consult_types.get(name="Initial assessment"), TUESDAY_NINE)
    url = reverse("book", args=[week.slug])
    days = [d.day for d in patient_client.get(url).context["picker"].days]
    assert date(2026, 1, 6) not in days and date(2026, 1, 7) in days

    # Typing their address as a visitor reaches the rule in the booking service.
    key = booking.slot_key(physio.pk, at(2026, 1, 6, 14))
    response = client.post(url, form_data(key, email=patient.email))
    assert response.status_code == 409
    assert "already a consult booked for you that day" in response.content.decode()
    assert Consult.objects.count() == 1


@pytest.mark.django_db
def test_the_booking_page_prefills_the_patient_from_their_self_assessment_link(
    frozen: Any, client: Client, week: Clinic, patient: Patient
) -> None:
    from triage import links as intake_links
    from triage.models import Intake

    intake = Intake.objects.create(
        clinic=week, patient=patient, answers={}, versions={}, scores={}, consent_at=MONDAY_MORNING
    )
    response = client.get(
        reverse("book", args=[week.slug]), {"intake": intake_links.result_token(intake.pk)}
    )
    form = response.context["form"]
    assert form.initial == {"first_name": "Jamie", "last_name": "Rivers", "email": patient.email}
    # A forged token prefills nothing.
    response = client.get(reverse("book", args=[week.slug]), {"intake": "forged"})
    assert response.context["form"].initial == {}


@pytest.mark.django_db
def test_the_plan_page_links_to_booking_and_its_link_prefills_the_patient(
    frozen: Any, client: Client, week: Clinic, patient: Patient, physio: StaffMember
) -> None:
    from datetime import time

    from exercises import links as plan_links
    from exercises.services import assignment_create
    from tests.factories import ProgramFactory, ProgramItemFactory

    program = ProgramFactory()
    ProgramItemFactory(program=program)
    plan = assignment_create(
        patient=patient,
        program=program,
        start_date=date(2026, 1, 5),
        days_of_week=[0, 2, 4],
        reminder_time=time(7),
        created_by=physio.user,
        notify=False,
    )
    token = plan_links.plan_token(plan.pk)
    page = client.get(reverse("plan_link", args=[token])).content.decode()
    assert f"{reverse('book', args=[week.slug])}?plan=" in page
    response = client.get(reverse("book", args=[week.slug]), {"plan": token})
    assert response.context["form"].initial["email"] == patient.email


@pytest.mark.django_db
def test_newcomers_are_offered_the_initial_assessment_and_returning_patients_the_follow_up(
    frozen: Any,
    client: Client,
    patient_client: Client,
    week: Clinic,
    physio: StaffMember,
    patient: Patient,
) -> None:
    url = reverse("book", args=[week.slug])
    assert client.get(url).context["picker"].consult_type.name == "Initial assessment"
    assert patient_client.get(url).context["picker"].consult_type.name == "Initial assessment"
    book(patient, physio, week.consult_types.get(name="Initial assessment"), TUESDAY_NINE)
    assert patient_client.get(url).context["picker"].consult_type.name == "Follow-up"
    follow_up = week.consult_types.get(name="Follow-up")
    assert client.get(url, {"type": follow_up.pk}).context["picker"].consult_type == follow_up


@pytest.mark.django_db
def test_a_phone_consult_needs_a_phone_number(
    frozen: Any, client: Client, week: Clinic, physio: StaffMember
) -> None:
    phone = ConsultType.objects.create(
        clinic=week, name="Phone check-in", duration_minutes=15, mode=ConsultType.Mode.PHONE
    )
    url = reverse("book", args=[week.slug])
    key = client.get(url, {"type": phone.pk}).context["picker"].days[0].slots[0].key
    response = client.post(url, form_data(key, type=str(phone.pk)))
    assert response.status_code == 400 and not Consult.objects.exists()
    response = client.post(url, form_data(key, type=str(phone.pk), phone="020 7946 0999"))
    assert response.status_code == 302
    assert Consult.objects.get().video_url == ""


@pytest.mark.django_db
def test_a_clinic_without_online_booking_says_so(client: Client, clinic: Clinic) -> None:
    html = client.get(reverse("book", args=[clinic.slug])).content.decode()
    assert "not open yet" in html and clinic.contact_email in html


# Tenancy ------------------------------------------------------------------------


@pytest.mark.django_db
def test_another_clinics_clinician_or_consult_type_on_the_booking_page_is_a_404(
    frozen: Any, client: Client, week: Clinic, other_physio: StaffMember, other_clinic: Clinic
) -> None:
    consult_types(other_clinic)
    weekday_hours(other_physio)
    url = reverse("book", args=[week.slug])
    other_type = other_clinic.consult_types.first()
    assert client.get(url, {"clinician": other_physio.pk}).status_code == 404
    assert client.get(url, {"type": other_type.pk}).status_code == 404


@pytest.fixture
def foreign_consult(
    other_clinic: Clinic, other_physio: StaffMember, other_patient: Patient
) -> Consult:
    consult_types(other_clinic)
    weekday_hours(other_physio)
    return book(
        other_patient,
        other_physio,
        other_clinic.consult_types.get(name="Follow-up"),
        TUESDAY_NINE,
    )


@pytest.mark.django_db
def test_another_clinics_consult_is_a_404_for_every_staff_action(
    frozen: Any, physio_client: Client, foreign_consult: Consult
) -> None:
    for name in ("staff_consult_cancel", "staff_consult_reschedule"):
        assert physio_client.get(reverse(name, args=[foreign_consult.pk])).status_code == 404
        assert physio_client.post(reverse(name, args=[foreign_consult.pk])).status_code == 404
    outcome = reverse("staff_consult_outcome", args=[foreign_consult.pk])
    assert physio_client.post(outcome, {"status": "completed"}).status_code == 404
    foreign_consult.refresh_from_db()
    assert foreign_consult.status == Consult.Status.BOOKED


@pytest.mark.django_db
def test_another_clinics_clinician_on_the_schedule_or_patient_to_book_for_is_a_404(
    frozen: Any,
    physio_client: Client,
    week: Clinic,
    other_physio: StaffMember,
    other_patient: Patient,
) -> None:
    schedule = reverse("schedule")
    assert physio_client.get(schedule, {"clinician": other_physio.pk}).status_code == 404
    assert physio_client.get(reverse("staff_book", args=[other_patient.pk])).status_code == 404


@pytest.mark.django_db
def test_the_schedule_never_shows_another_clinics_consults(
    frozen: Any, physio_client: Client, week: Clinic, foreign_consult: Consult
) -> None:
    html = physio_client.get(reverse("schedule"), {"day": "2026-01-06"}).content.decode()
    assert foreign_consult.patient.full_name not in html
    assert "No consults." in html


# Staff booking, the schedule and staff actions ------------------------------------------


@pytest.mark.django_db
def test_receptionists_can_book_on_a_patients_behalf(
    frozen: Any,
    receptionist_client: Client,
    receptionist: StaffMember,
    week: Clinic,
    physio: StaffMember,
    patient: Patient,
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = reverse("staff_book", args=[patient.pk])
    page = receptionist_client.get(url)
    assert page.status_code == 200
    # No notice for staff: this morning's 09:00 is offered.
    key = booking.slot_key(physio.pk, at(2026, 1, 5, 9))
    assert key in page.context["picker"].keys
    with django_capture_on_commit_callbacks(execute=True):
        response = receptionist_client.post(url, {"slot": key, "reason": "Follow-up on knee"})
    assert response.status_code == 302 and "/dashboard/schedule/" in response.url
    consult = Consult.objects.get()
    assert consult.patient == patient and consult.created_by == receptionist.user
    assert AuditEvent.objects.filter(object_type="clinic.consult", action="create").exists()
    assert [m.to for m in mail.outbox] == [[patient.email], [physio.user.email]]


@pytest.mark.django_db
def test_patients_and_visitors_cannot_open_the_schedule_or_book_for_others(
    patient_client: Client, client: Client, patient: Patient
) -> None:
    assert patient_client.get(reverse("schedule")).status_code == 403
    assert patient_client.get(reverse("staff_book", args=[patient.pk])).status_code == 403
    assert client.get(reverse("schedule")).status_code == 302


@pytest.mark.django_db
def test_the_schedule_shows_each_day_of_the_week_with_hours_and_consults(
    frozen: Any, physio_client: Client, week: Clinic, physio: StaffMember, patient: Patient
) -> None:
    book(patient, physio, week.consult_types.get(name="Initial assessment"), TUESDAY_NINE)
    response = physio_client.get(reverse("schedule"), {"day": "2026-01-07", "view": "week"})
    assert response.status_code == 200
    days = response.context["days"]
    assert [d.day for d in days] == [date(2026, 1, 5) + timedelta(n) for n in range(7)]
    tuesday = days[1]
    assert tuesday.consults[0]["time"] == "09:00–09:45"
    assert tuesday.hours == [(physio.display_name, "09:00–17:00")]
    assert days[5].hours == [(physio.display_name, "No hours")]
    html = response.content.decode()
    assert patient.full_name in html
    assert reverse("staff_consult_reschedule", args=[tuesday.consults[0]["consult"].pk]) in html


@pytest.mark.django_db
def test_the_schedule_costs_the_same_queries_for_one_consult_or_many(
    frozen: Any, physio_client: Client, week: Clinic, physio: StaffMember, patient: Patient
) -> None:
    follow_up = week.consult_types.get(name="Follow-up")
    book(patient, physio, follow_up, TUESDAY_NINE)

    def count(**params: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert physio_client.get(reverse("schedule"), params).status_code == 200
        return len(queries)

    day, week_view = count(day="2026-01-06"), count(day="2026-01-06", view="week")
    second = StaffFactory(clinic=week)
    weekday_hours(second)
    for n in range(6):
        extra = PatientFactory(clinic=week)
        book(extra, physio if n % 2 else second, follow_up, at(2026, 1, 6, 10 + n))
    assert count(day="2026-01-06") == day
    assert count(day="2026-01-06", view="week") == week_view


@pytest.mark.django_db
def test_staff_cancel_after_a_confirmation_page_and_both_sides_are_told(
    frozen: Any,
    physio_client: Client,
    booked: Consult,
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = reverse("staff_consult_cancel", args=[booked.pk])
    assert "Yes, cancel it" in physio_client.get(url).content.decode()
    booked.refresh_from_db()
    assert booked.is_booked
    with django_capture_on_commit_callbacks(execute=True):
        response = physio_client.post(url)
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == Consult.Status.CANCELLED and booked.cancelled_by == "clinic"
    assert {m.to[0] for m in mail.outbox} == {booked.patient.email, booked.clinician.user.email}


@pytest.mark.django_db
def test_staff_move_a_consult_to_another_clinician(
    frozen: Any, physio_client: Client, booked: Consult, week: Clinic
) -> None:
    colleague = StaffFactory(clinic=week, user__first_name="Robin")
    weekday_hours(colleague)
    url = reverse("staff_consult_reschedule", args=[booked.pk])
    page = physio_client.get(url, {"clinician": colleague.pk})
    key = booking.slot_key(colleague.pk, TUESDAY_NINE)
    assert key in page.context["picker"].keys
    response = physio_client.post(url, {"slot": key, "clinician": str(colleague.pk)})
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.clinician == colleague and booked.starts_at == TUESDAY_NINE


@pytest.mark.django_db
def test_staff_mark_a_started_consult_completed_or_no_show(
    frozen: Any, physio_client: Client, physio: StaffMember, booked: Consult
) -> None:
    url = reverse("staff_consult_outcome", args=[booked.pk])
    physio_client.post(url, {"status": "completed"})
    booked.refresh_from_db()
    assert booked.is_booked  # not started yet
    frozen.move_to(TUESDAY_NINE + timedelta(hours=1))
    physio_client = client_for(physio.user)  # a day on: yesterday's sign-in has expired
    physio_client.post(url, {"status": "no_show"})
    booked.refresh_from_db()
    assert booked.status == Consult.Status.NO_SHOW
    html = physio_client.get(reverse("schedule"), {"day": "2026-01-06"}).content.decode()
    assert "No-show" in html


# Admin and demo -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["consulttype", "workinghours", "timeoff", "consult"])
def test_the_consult_models_have_a_working_admin_list_with_search(
    booked: Consult, model: str
) -> None:
    client = client_for(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse(f"admin:clinic_{model}_changelist"), {"q": "jamie"})
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_clinic_admin_sees_only_their_own_clinics_hours_and_consults(
    booked: Consult, clinic_admin: StaffMember, foreign_consult: Consult
) -> None:
    from django.contrib.auth.models import Permission

    clinic_admin.user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_consult", "view_workinghours"])
    )
    client = client_for(clinic_admin.user)
    html = client.get(reverse("admin:clinic_consult_changelist")).content.decode()
    assert booked.patient.full_name in html
    assert foreign_consult.patient.full_name not in html
    hours = client.get(reverse("admin:clinic_workinghours_changelist")).content.decode()
    assert foreign_consult.clinician.display_name not in hours


@pytest.mark.django_db
def test_seed_demo_gives_the_demo_clinic_consult_types_hours_and_booked_consults(
    settings: Any,
) -> None:
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    demo = ClinicFactory(slug="demo")
    assert {(t.name, t.duration_minutes) for t in demo.consult_types.all()} == {
        ("Initial assessment", 45),
        ("Follow-up", 30),
    }
    physio = StaffMember.objects.get(user__email="physio@example.com")
    assert {h.weekday for h in physio.working_hours.all()} == {0, 1, 2, 3, 4}
    assert Consult.objects.active().filter(clinic=demo).count() == 2
