"""The clinician dashboard, the patient list and page, clinical notes and the
audit log: what each shows, to whom, in which order, and at what cost in
queries whatever the size of the clinic."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic import charts, loadgen
from clinic import dashboard as dashboard_reads
from clinic.models import (
    AuditEvent,
    Clinic,
    ClinicalNote,
    Consult,
    ConsultType,
    Patient,
    StaffMember,
)
from exercises.models import Assignment, Program, Reminder, SessionLog
from tests.booking_helpers import consult_types
from tests.conftest import client_for
from tests.factories import PatientFactory, ProgramFactory, StaffFactory
from triage import scoring
from triage.models import RISK_RANK, Intake

pytestmark = pytest.mark.django_db

# A Wednesday in June: London is on summer time, an hour ahead of UTC.
NOW = datetime(2026, 6, 17, 10, 0, tzinfo=UTC)
TODAY = date(2026, 6, 17)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def make_intake(
    patient: Patient,
    *,
    hours_ago: float = 1,
    urgent: bool = False,
    risk: str = "",
    pain: int = 3,
    red_flags: tuple[str, ...] = (),
    factors: tuple[str, ...] = (),
    status: str = Intake.Status.NEW,
    program: Program | None = None,
) -> Intake:
    answers = {"pain_now": pain, "pain_worst_week": pain, "pain_average_week": pain}
    intake = Intake.objects.create(
        clinic=patient.clinic,
        patient=patient,
        answers={"nprs": answers},
        versions={"nprs": "1.0"},
        scores={"nprs": scoring.score("nprs", answers).to_dict()},
        urgent=urgent,
        risk=risk,
        red_flags=list(red_flags),
        factors=list(factors),
        suggested_program=program,
        consent_at=timezone.now(),
        status=status,
    )
    Intake.objects.filter(pk=intake.pk).update(
        created_at=timezone.now() - timedelta(hours=hours_ago)
    )
    intake.refresh_from_db()
    return intake


def make_plan(
    patient: Patient,
    physio: StaffMember,
    *,
    start: date,
    weeks: int = 6,
    days: tuple[int, ...] = (0, 2, 4),
    status: str = Assignment.Status.ACTIVE,
    name: str = "Runner's low back starter",
) -> Assignment:
    return Assignment.objects.create(
        clinic=patient.clinic,
        patient=patient,
        name=name,
        start_date=start,
        end_date=start + timedelta(weeks=weeks, days=-1),
        days_of_week=list(days),
        status=status,
        created_by=physio.user,
    )


def log(plan: Assignment, day: date, *, completion: str = "all", pain: int | None = 3) -> None:
    SessionLog.objects.create(assignment=plan, date=day, completion=completion, pain=pain)


def make_consult(
    patient: Patient,
    clinician: StaffMember,
    kind: ConsultType,
    starts: datetime,
    *,
    status: str = Consult.Status.BOOKED,
) -> Consult:
    ends = starts + timedelta(minutes=kind.duration_minutes)
    return Consult.objects.create(
        clinic=patient.clinic,
        clinician=clinician,
        patient=patient,
        consult_type=kind,
        starts_at=starts,
        ends_at=ends,
        blocked_until=ends + timedelta(minutes=kind.buffer_minutes),
        status=status,
        video_url=f"https://meet.example.com/{patient.pk}-{starts:%H%M}",
    )


def html_of(client: Client, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# The triage queue -------------------------------------------------------------


def test_the_queue_puts_urgent_first_then_high_medium_low_risk_oldest_first(
    physio_client: Client, clinic: Clinic
) -> None:
    def named(last: str) -> Patient:
        return PatientFactory(clinic=clinic, first_name="Pat", last_name=last)

    make_intake(named("Lowold"), risk="low", hours_ago=50)
    make_intake(named("Highnew"), risk="high", hours_ago=1)
    make_intake(named("Urgent"), urgent=True, risk="low", red_flags=("saddle_numbness",))
    make_intake(named("Highold"), risk="high", hours_ago=30)
    make_intake(named("Medium"), risk="medium", hours_ago=40)
    make_intake(named("Reviewed"), risk="high", status=Intake.Status.REVIEWED)

    html = html_of(physio_client, reverse("dashboard"))
    queue = html[html.index('id="triage-queue"') : html.index('id="today"')]
    order = re.findall(r"Pat (\w+)</a>", queue)
    assert order == ["Urgent", "Highold", "Highnew", "Medium", "Lowold"]
    assert "queue-row urgent" in queue
    assert 'data-testid="queue-total">5 to review' in html


def test_a_queue_row_shows_age_wait_red_flags_factors_and_its_actions(
    physio_client: Client, clinic: Clinic
) -> None:
    program = ProgramFactory(name="Runner's low back starter")
    patient = PatientFactory(
        clinic=clinic, first_name="Sam", last_name="Okoye", date_of_birth=date(1991, 7, 2)
    )
    intake = make_intake(
        patient,
        urgent=True,
        hours_ago=5,
        red_flags=("saddle_numbness", "night_pain"),
        factors=("glute_dominant_back", "worn_shoes"),
        program=program,
    )
    html = html_of(physio_client, reverse("dashboard"))
    assert "34 y · waiting 5 h" in html
    assert "Saddle numbness, Night pain" in html
    assert "Back over glutes · Worn shoes" in html
    assert reverse("intake_detail", args=[intake.pk]) in html
    assert f"{reverse('assign', args=[patient.pk])}?program={program.pk}" in html
    assert reverse("staff_book", args=[patient.pk]) in html


def test_marking_reviewed_from_the_queue_swaps_the_row_in_place(
    physio_client: Client, physio: StaffMember, patient: Patient
) -> None:
    intake = make_intake(patient, risk="high")
    response = physio_client.post(
        reverse("intake_review", args=[intake.pk]), {"from": "queue"}, HTTP_HX_REQUEST="true"
    )
    fragment = response.content.decode()
    assert response.status_code == 200
    assert fragment.lstrip().startswith('<li class="list-group-item queue-row is-reviewed"')
    assert f'id="queue-intake-{intake.pk}"' in fragment and "Reviewed" in fragment
    intake.refresh_from_db()
    assert intake.status == Intake.Status.REVIEWED and intake.reviewed_by == physio.user


def test_without_javascript_marking_reviewed_comes_back_to_the_dashboard(
    physio_client: Client, patient: Patient
) -> None:
    intake = make_intake(patient)
    response = physio_client.post(reverse("intake_review", args=[intake.pk]), {"from": "queue"})
    assert response.status_code == 302 and response.url == reverse("dashboard")
    html = html_of(physio_client, reverse("dashboard"))
    assert "Marked Jamie Rivers" in html and reverse("intake_detail", args=[intake.pk]) not in html


# Today ---------------------------------------------------------------------------


def test_today_lists_the_clinicians_own_consults_of_the_local_day_with_join_links(
    physio_client: Client, physio: StaffMember, clinic: Clinic, patient: Patient
) -> None:
    assessment, follow_up = consult_types(clinic)
    colleague = StaffFactory(clinic=clinic)
    other = PatientFactory(clinic=clinic, first_name="Priya", last_name="Nair")
    # 23:30 UTC yesterday is 00:30 today in London; 23:30 UTC today is tomorrow.
    early = make_consult(patient, physio, follow_up, datetime(2026, 6, 16, 23, 30, tzinfo=UTC))
    later = make_consult(patient, physio, follow_up, datetime(2026, 6, 17, 14, 0, tzinfo=UTC))
    make_consult(other, physio, assessment, datetime(2026, 6, 17, 23, 30, tzinfo=UTC))
    make_consult(other, colleague, assessment, datetime(2026, 6, 17, 13, 0, tzinfo=UTC))
    make_consult(
        other,
        physio,
        assessment,
        datetime(2026, 6, 17, 15, 0, tzinfo=UTC),
        status=Consult.Status.CANCELLED,
    )

    html = html_of(physio_client, reverse("dashboard"))
    today = html[html.index('id="today"') : html.index('id="needs-attention"')]
    assert "Your consults today" in today and "Priya Nair" not in today
    assert today.index("00:30") < today.index("15:00")
    # The call link shows while it is of use: not for the one that is over.
    assert later.video_url in today and early.video_url not in today
    assert "consult-today status-booked is-over" in today


def test_reception_sees_the_whole_clinics_consults_today_and_who_sees_each_patient(
    receptionist_client: Client, physio: StaffMember, clinic: Clinic, patient: Patient
) -> None:
    _, follow_up = consult_types(clinic)
    make_consult(patient, physio, follow_up, datetime(2026, 6, 17, 13, 0, tzinfo=UTC))
    html = html_of(receptionist_client, reverse("dashboard"))
    assert "Consults today" in html and "Jamie Rivers" in html
    assert "14:00" in html and physio.display_name in html


# Needs attention -------------------------------------------------------------


def test_a_plan_under_half_done_over_the_last_fortnight_needs_attention(
    physio_client: Client, physio: StaffMember, clinic: Clinic
) -> None:
    slipping = PatientFactory(clinic=clinic, first_name="Sam", last_name="Slipping")
    steady = PatientFactory(clinic=clinic, first_name="Sue", last_name="Steady")
    new = PatientFactory(clinic=clinic, first_name="Nat", last_name="New")
    start = TODAY - timedelta(days=28)
    slip = make_plan(slipping, physio, start=start)
    keep = make_plan(steady, physio, start=start)
    # Mon, Wed, Fri over the 14 days to yesterday: 6 sessions.
    days = [TODAY - timedelta(days=n) for n in range(1, 15)]
    sessions = [d for d in days if d.weekday() in (0, 2, 4)]
    assert len(sessions) == 6
    log(slip, sessions[0])
    log(slip, sessions[1], completion="some")
    log(slip, days[0] if days[0].weekday() not in (0, 2, 4) else days[1])  # a rest day: no credit
    for day in sessions[:4]:
        log(keep, day)
    # Two sessions scheduled so far is too few to judge.
    make_plan(new, physio, start=TODAY - timedelta(days=3))

    html = html_of(physio_client, reverse("dashboard"))
    block = html[html.index('data-testid="attention-adherence"') :]
    block = block[: block.index("</div>")]
    assert "Sam Slipping" in block and "1.5 of 6 sessions in 14 days (25%)" in block
    assert "Sue Steady" not in block and "Nat New" not in block


def test_pain_up_by_the_minimal_important_change_needs_attention(
    physio_client: Client, physio: StaffMember, clinic: Clinic
) -> None:
    rising = PatientFactory(clinic=clinic, first_name="Rae", last_name="Rising")
    slight = PatientFactory(clinic=clinic, first_name="Sly", last_name="Slight")
    start = TODAY - timedelta(days=21)
    for patient, before, after in ((rising, 2, 5), (slight, 3, 4)):
        plan = make_plan(patient, physio, start=start, days=tuple(range(7)))
        for n in range(6):
            log(plan, TODAY - timedelta(days=6 - n), pain=before if n < 3 else after)
    html = html_of(physio_client, reverse("dashboard"))
    block = html[html.index('data-testid="attention-pain"') :]
    block = block[: block.index("</div>")]
    assert "Rae Rising" in block and "pain 2.0 → 5.0" in block
    assert "Sly Slight" not in block


def test_plans_ending_this_week_are_listed_soonest_first(
    physio_client: Client, physio: StaffMember, clinic: Clinic
) -> None:
    soon = PatientFactory(clinic=clinic, first_name="Ada", last_name="Soon")
    today = PatientFactory(clinic=clinic, first_name="Bo", last_name="Today")
    later = PatientFactory(clinic=clinic, first_name="Cy", last_name="Later")
    make_plan(soon, physio, start=TODAY - timedelta(days=25), weeks=4)  # ends in 2 days
    make_plan(today, physio, start=TODAY - timedelta(days=27), weeks=4)  # ends today
    make_plan(later, physio, start=TODAY - timedelta(days=10), weeks=4)
    html = html_of(physio_client, reverse("dashboard"))
    block = html[html.index('data-testid="attention-ending"') :]
    block = block[: block.index("</div>")]
    assert block.index("Bo Today") < block.index("Ada Soon")
    assert "ends today" in block and "ends Fri 19 Jun" in block
    assert "Cy Later" not in block


def test_a_clinician_sees_their_own_plans_and_can_switch_to_the_whole_clinic(
    physio_client: Client, clinic: Clinic
) -> None:
    colleague = StaffFactory(clinic=clinic)
    theirs = PatientFactory(clinic=clinic, first_name="Col", last_name="League")
    make_plan(theirs, colleague, start=TODAY - timedelta(days=25), weeks=4)
    assert "Col League" not in html_of(physio_client, reverse("dashboard"))
    assert "Col League" in html_of(physio_client, reverse("dashboard"), scope="all")


def test_the_startback_note_goes_once_all_of_its_wording_is_installed(
    physio_client: Client,
) -> None:
    from triage import engine
    from triage.models import InstrumentText

    instrument = engine.get_instrument("startback")
    rows = [
        InstrumentText(
            instrument="startback", version=instrument.version, item_code=code, text="Wording"
        )
        for code in instrument.item_codes
    ]
    InstrumentText.objects.bulk_create(rows[:-1])
    assert "startback-missing" in html_of(physio_client, reverse("dashboard"))
    InstrumentText.objects.bulk_create(rows[-1:])
    assert engine.is_available_to_patients(instrument)
    assert "startback-missing" not in html_of(physio_client, reverse("dashboard"))


# Who sees what -----------------------------------------------------------------


def test_reception_gets_no_queue_no_attention_and_no_clinical_detail(
    receptionist_client: Client, physio: StaffMember, patient: Patient
) -> None:
    make_intake(patient, urgent=True, red_flags=("saddle_numbness",))
    plan = make_plan(patient, physio, start=TODAY - timedelta(days=20))
    log(plan, TODAY - timedelta(days=2), pain=7)
    ClinicalNote.objects.create(
        clinic=patient.clinic, patient=patient, author=physio.user, body="Private note"
    )

    dashboard = html_of(receptionist_client, reverse("dashboard"))
    assert 'id="triage-queue"' not in dashboard and 'id="needs-attention"' not in dashboard

    page = html_of(receptionist_client, reverse("patient_detail", args=[patient.pk]))
    assert patient.email in page and patient.phone in page
    for clinical in ("Private note", "pain-chart", "Self-assessments", "Exercise plans", "Urgent"):
        assert clinical not in page
    assert (
        receptionist_client.post(
            reverse("patient_note_create", args=[patient.pk]), {"body": "x"}
        ).status_code
        == 403
    )

    listing = html_of(receptionist_client, reverse("patient_list"), risk="urgent")
    assert "Latest risk" not in listing and patient.full_name in listing


def test_every_dashboard_url_is_a_404_for_another_clinics_ids(
    other_physio_client: Client, physio: StaffMember, patient: Patient, clinic: Clinic
) -> None:
    intake = make_intake(patient)
    plan = make_plan(patient, physio, start=TODAY - timedelta(days=3))
    note = ClinicalNote.objects.create(
        clinic=clinic, patient=patient, author=physio.user, body="Private"
    )
    gets = [
        reverse("patient_detail", args=[patient.pk]),
        reverse("intake_detail", args=[intake.pk]),
        reverse("intake_fhir", args=[intake.pk]),
        reverse("assign", args=[patient.pk]),
        reverse("plan", args=[plan.pk]),
    ]
    for url in gets:
        assert other_physio_client.get(url).status_code == 404, url
    posts = [
        reverse("patient_note_create", args=[patient.pk]),
        reverse("intake_review", args=[intake.pk]),
    ]
    for url in posts:
        assert other_physio_client.post(url, {"body": "x", "from": "queue"}).status_code == 404
    assert ClinicalNote.objects.get() == note
    intake.refresh_from_db()
    assert intake.status == Intake.Status.NEW

    for url in (reverse("dashboard"), reverse("patient_list")):
        html = html_of(other_physio_client, url, scope="all")
        assert patient.full_name not in html


def test_another_clinics_admin_gets_a_404_for_this_clinics_patient_in_the_audit_log(
    other_clinic: Clinic, patient: Patient
) -> None:
    admin = StaffFactory(clinic=other_clinic, role=StaffMember.Role.ADMIN)
    response = client_for(admin.user).get(reverse("audit_log"), {"patient": patient.pk})
    assert response.status_code == 404


def test_signed_out_visitors_and_patients_are_kept_out(
    client: Client, patient_client: Client, patient: Patient
) -> None:
    urls = [
        reverse("dashboard"),
        reverse("dashboard_ping"),
        reverse("patient_list"),
        reverse("patient_detail", args=[patient.pk]),
        reverse("patient_edit", args=[patient.pk]),
        reverse("audit_log"),
    ]
    for url in urls:
        assert client.get(url).status_code == 302, url
        assert patient_client.get(url).status_code == 403, url


def test_undelivered_reminders_show_the_newest_patients_and_how_many_in_all(
    physio: StaffMember, physio_client: Client, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(8):
        patient = PatientFactory(clinic=clinic, first_name=f"Bounced{n}", email=f"b{n}@example.com")
        plan = make_plan(patient, physio, start=TODAY - timedelta(days=20))
        for days_ago in (1, 2):  # two failures each: one row per patient
            due = NOW - timedelta(days=days_ago, minutes=n)
            Reminder.objects.create(
                kind=Reminder.Kind.EXERCISE,
                clinic=clinic,
                patient=patient,
                assignment=plan,
                day=due.date(),
                due_at=due,
                send_after=due,
                state=Reminder.State.FAILED,
                last_error=f"b{n}@example.com: 550 5.1.1 No such mailbox",
            )
    html = html_of(physio_client, reverse("dashboard"))
    card = html.split('data-testid="undelivered"')[1].split("</section>")[0]
    shown = re.findall(r">(Bounced\d)[^<]*</a>", card)
    assert shown == [f"Bounced{n}" for n in range(6)]  # newest first
    assert "The latest 6 of 8." in html and ">8</span>" in html
    # Reading fewer failures than there are, the count says so.
    monkeypatch.setattr(dashboard_reads, "UNDELIVERED_SCAN", 10)
    html = html_of(physio_client, reverse("dashboard"))
    assert "The latest 6 of 8 or more." in html and ">8+</span>" in html


# Putting a patient's details right ------------------------------------------------

DETAILS = {
    "first_name": "Jamie",
    "last_name": "Rivers",
    "email": "jamie.rivers@example.org",
    "phone": "07700 900123",
    "date_of_birth": "1990-06-15",
    "time_zone": "Europe/Dublin",
}


@pytest.mark.parametrize("who", ["physio_client", "receptionist_client"])
def test_staff_put_a_patients_address_right_and_it_is_audited(
    who: str, request: pytest.FixtureRequest, patient: Patient
) -> None:
    client: Client = request.getfixturevalue(who)
    url = reverse("patient_edit", args=[patient.pk])
    page = client.get(url).content.decode()
    assert 'value="jamie@example.com"' in page and "Save details" in page
    response = client.post(url, {**DETAILS, "email": " Jamie.Rivers@Example.org "})
    assert response.status_code == 302 and response["Location"] == patient.get_absolute_url()
    patient.refresh_from_db()
    assert (patient.email, patient.phone, patient.time_zone) == (
        "jamie.rivers@example.org",
        "07700 900123",
        "Europe/Dublin",
    )
    assert patient.date_of_birth == date(1990, 6, 15)
    # Their sign-in links go to the new address too.
    assert patient.user.email == "jamie.rivers@example.org"
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE)
    assert (event.object_id, event.summary) == (
        str(patient.pk),
        "Changed email, phone, date_of_birth, time_zone",
    )
    # Saving again unchanged records nothing new.
    client.post(url, DETAILS)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).count() == 1


def test_an_address_another_patient_or_login_has_is_refused_and_nothing_changes(
    physio_client: Client, patient: Patient, clinic: Clinic, other_clinic: Clinic
) -> None:
    PatientFactory(clinic=clinic, email="sam@example.com")
    PatientFactory(clinic=other_clinic, email="alex@example.com")
    url = reverse("patient_edit", args=[patient.pk])
    response = physio_client.post(url, {**DETAILS, "email": "sam@example.com", "phone": "1"})
    assert response.status_code == 200
    assert "Another patient of this clinic has this address." in response.content.decode()
    response = physio_client.post(url, {**DETAILS, "email": "physio@riverside.example.com"})
    assert "already someone else&#x27;s sign-in" in response.content.decode()
    response = physio_client.post(url, {**DETAILS, "time_zone": "Mars/Olympus"})
    assert "Select a valid choice" in response.content.decode()
    patient.refresh_from_db()
    assert (patient.email, patient.phone) == ("jamie@example.com", "")
    # Another clinic's patient with that address is no clash.
    physio_client.post(url, {**DETAILS, "email": "alex@example.com"})
    patient.refresh_from_db()
    assert patient.email == "alex@example.com"


def test_another_clinics_staff_cannot_see_or_change_a_patients_details(
    other_physio_client: Client, patient: Patient
) -> None:
    url = reverse("patient_edit", args=[patient.pk])
    assert other_physio_client.get(url).status_code == 404
    assert other_physio_client.post(url, DETAILS).status_code == 404
    patient.refresh_from_db()
    assert patient.email == "jamie@example.com"


# The patient list --------------------------------------------------------------


def test_patients_are_filtered_by_clinician_latest_risk_and_active_plan(
    physio_client: Client, physio: StaffMember, clinic: Clinic
) -> None:
    colleague = StaffFactory(clinic=clinic, user__first_name="Cara", user__last_name="Colleague")
    _, follow_up = consult_types(clinic)

    def named(first: str) -> Patient:
        return PatientFactory(clinic=clinic, first_name=first, last_name="Test")

    planned = named("Planned")  # active plan by the physio
    make_plan(planned, physio, start=TODAY - timedelta(days=7))
    seen = named("Seen")  # no plan; latest consult with the physio
    make_consult(seen, colleague, follow_up, NOW - timedelta(days=30), status="completed")
    make_consult(seen, physio, follow_up, NOW - timedelta(days=3), status="completed")
    moved = named("Moved")  # latest consult with the colleague
    make_consult(moved, physio, follow_up, NOW - timedelta(days=30), status="completed")
    make_consult(moved, colleague, follow_up, NOW - timedelta(days=2), status="completed")
    cancelled = named("Cancelled")  # a cancelled consult does not count
    make_consult(cancelled, physio, follow_up, NOW - timedelta(days=30), status="completed")
    make_consult(cancelled, colleague, follow_up, NOW - timedelta(days=1), status="cancelled")
    make_intake(planned, risk="high", hours_ago=100)
    make_intake(planned, risk="low", hours_ago=1)  # the latest decides
    make_intake(seen, risk="high")
    make_intake(moved, urgent=True)

    def names(**params: Any) -> list[str]:
        html = html_of(physio_client, reverse("patient_list"), **params)
        return re.findall(r">(\w+) Test</a>", html)

    assert names(clinician=physio.pk) == ["Cancelled", "Planned", "Seen"]
    assert names(clinician=colleague.pk) == ["Moved"]
    assert names(risk="high") == ["Seen"]
    assert names(risk="low") == ["Planned"]
    assert names(risk="urgent") == ["Moved"]
    assert names(plan="yes") == ["Planned"]
    assert names(plan="no") == ["Cancelled", "Moved", "Seen"]
    assert names(clinician=physio.pk, plan="no", q="se") == ["Seen"]
    html = html_of(physio_client, reverse("patient_list"))
    assert f"<td>{physio.display_name}</td>" in html and "Cara Colleague" in html


def test_the_patient_list_pages_through_keeping_its_filters(
    physio_client: Client, clinic: Clinic
) -> None:
    Patient.objects.bulk_create(
        Patient(clinic=clinic, first_name="P", last_name=f"Page{n:03d}", email=f"p{n}@x.example")
        for n in range(120)
    )
    html = html_of(physio_client, reverse("patient_list"), q="page", plan="no")
    assert "Page 1 of 3" in html and "120 patients match" in html
    assert "?q=page&amp;plan=no&amp;page=2" in html
    assert "Page049" in html and "Page050" not in html
    html = html_of(physio_client, reverse("patient_list"), q="page", plan="no", page=3)
    assert "Page119" in html and "Page099" not in html


# The patient page ------------------------------------------------------------


def test_the_patient_page_shows_intakes_with_their_change_plans_charts_and_consults(
    physio_client: Client, physio: StaffMember, patient: Patient, clinic: Clinic
) -> None:
    first = make_intake(patient, pain=3, hours_ago=24 * 30, status=Intake.Status.REVIEWED)
    latest = make_intake(patient, pain=7, risk="medium", hours_ago=2)
    plan = make_plan(patient, physio, start=TODAY - timedelta(days=21))
    for n, day in enumerate(plan.session_days(plan.start_date, TODAY - timedelta(days=1))):
        log(plan, day, pain=6 - n % 3, completion="all" if n % 2 else "some")
    _, follow_up = consult_types(clinic)
    upcoming = make_consult(patient, physio, follow_up, NOW + timedelta(days=2))

    html = html_of(physio_client, reverse("patient_detail", args=[patient.pk]))
    assert reverse("intake_detail", args=[first.pk]) in html
    assert reverse("intake_detail", args=[latest.pk]) in html
    assert "<strong>NPRS</strong> 3 → 7 (+4)" in html and "meaningfully worse" in html
    assert "Pain 7/10" in html
    assert re.search(r"\d+(\.\d)? of 10 sessions done", html)  # today is a session day
    assert '<svg class="chart-svg"' in html and 'role="img"' in html
    assert "Pain over time" in html and "Exercise sessions done" in html
    assert '<th scope="col">Week of</th>' in html  # the table alternative
    assert upcoming.video_url in html and "Follow-up with" in html


def test_a_patient_with_no_data_gets_calm_empty_states(
    physio_client: Client, patient: Patient
) -> None:
    html = html_of(physio_client, reverse("patient_detail", args=[patient.pk]))
    for empty in ("No pain scores yet.", "No plan yet.", "No self-assessments yet.", "No notes"):
        assert empty in html


# Clinical notes --------------------------------------------------------------


def test_a_note_added_with_htmx_appears_in_place_with_its_author_and_time(
    physio_client: Client, physio: StaffMember, patient: Patient
) -> None:
    response = physio_client.post(
        reverse("patient_note_create", args=[patient.pk]),
        {"body": "Hip flexors tight; add the kneeling stretch."},
        HTTP_HX_REQUEST="true",
    )
    fragment = response.content.decode()
    assert response.status_code == 200
    assert fragment.lstrip().startswith('<section class="card shadow-sm"')
    assert "Hip flexors tight" in fragment and "17 Jun 2026, 11:00" in fragment
    assert physio.user.get_full_name() in fragment
    note = ClinicalNote.objects.get()
    assert note.author == physio.user and note.patient == patient and note.clinic == patient.clinic
    assert mail.outbox == []


def test_without_javascript_a_note_is_added_and_the_page_comes_back(
    physio_client: Client, patient: Patient
) -> None:
    url = reverse("patient_note_create", args=[patient.pk])
    response = physio_client.post(url, {"body": "Reviewed by phone."})
    assert response.status_code == 302
    assert response.url == reverse("patient_detail", args=[patient.pk]) + "#clinical-notes"
    assert "Reviewed by phone." in html_of(physio_client, response.url.split("#")[0])


def test_an_empty_note_is_refused(physio_client: Client, patient: Patient) -> None:
    url = reverse("patient_note_create", args=[patient.pk])
    response = physio_client.post(url, {"body": "   "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "is-invalid" in response.content.decode()
    assert not ClinicalNote.objects.exists()


def test_notes_never_reach_the_patient(
    physio_client: Client, patient_client: Client, patient: Patient
) -> None:
    physio_client.post(reverse("patient_note_create", args=[patient.pk]), {"body": "Secret"})
    assert "Secret" not in html_of(patient_client, reverse("me"))
    assert patient_client.get(reverse("patient_detail", args=[patient.pk])).status_code == 403


# Audit ----------------------------------------------------------------------------


def test_patient_pages_intakes_and_notes_are_audited(
    physio_client: Client, physio: StaffMember, patient: Patient
) -> None:
    intake = make_intake(patient)
    physio_client.get(reverse("patient_detail", args=[patient.pk]), REMOTE_ADDR="10.0.0.7")
    physio_client.get(reverse("intake_detail", args=[intake.pk]), REMOTE_ADDR="10.0.0.7")
    physio_client.post(
        reverse("patient_note_create", args=[patient.pk]), {"body": "x"}, REMOTE_ADDR="10.0.0.7"
    )
    events = list(AuditEvent.objects.order_by("pk"))
    assert [(e.action, e.object_type) for e in events] == [
        ("view", "clinic.patient"),
        ("view", "triage.intake"),
        ("create", "clinic.clinicalnote"),
    ]
    assert all(e.actor == physio.user and e.ip_address == "10.0.0.7" for e in events)
    assert all(e.clinic == patient.clinic and e.at == NOW for e in events)


def test_only_clinic_admins_read_the_audit_log(
    physio_client: Client, receptionist_client: Client, clinic_admin: StaffMember
) -> None:
    assert physio_client.get(reverse("audit_log")).status_code == 403
    assert receptionist_client.get(reverse("audit_log")).status_code == 403
    assert client_for(clinic_admin.user).get(reverse("audit_log")).status_code == 200


def test_the_audit_log_filters_by_patient_and_by_user_and_stays_in_the_clinic(
    physio_client: Client,
    physio: StaffMember,
    clinic_admin: StaffMember,
    patient: Patient,
    clinic: Clinic,
    other_physio_client: Client,
    other_patient: Patient,
) -> None:
    someone = PatientFactory(clinic=clinic, first_name="Sid", last_name="Else")
    intake = make_intake(patient)
    physio_client.get(reverse("patient_detail", args=[patient.pk]))
    physio_client.get(reverse("intake_detail", args=[intake.pk]))
    physio_client.get(reverse("patient_detail", args=[someone.pk]))
    other_physio_client.get(reverse("patient_detail", args=[other_patient.pk]))
    admin = client_for(clinic_admin.user)
    admin.get(reverse("patient_detail", args=[patient.pk]))

    everything = html_of(admin, reverse("audit_log"))
    assert everything.count("<tr>") - 1 == 4  # header row + this clinic's four events
    assert other_patient.full_name not in everything

    theirs = html_of(admin, reverse("audit_log"), patient=patient.pk)
    assert theirs.count("<tr>") - 1 == 3
    assert "Self-assessment of Jamie Rivers" in theirs and "Sid Else" not in theirs

    by_physio = html_of(admin, reverse("audit_log"), user=physio.user_id)
    assert by_physio.count("<tr>") - 1 == 3


def test_the_audit_log_is_paginated(clinic_admin: StaffMember, patient: Patient) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            clinic=patient.clinic,
            actor=clinic_admin.user,
            action="view",
            object_type="clinic.patient",
            object_id=str(patient.pk),
            at=NOW - timedelta(minutes=n),
        )
        for n in range(120)
    )
    html = html_of(client_for(clinic_admin.user), reverse("audit_log"), page=2)
    assert "Page 2 of 3" in html and html.count("Jamie Rivers</a>") == 50
    assert '?page=1">Newer' in html and '?page=3">Older' in html


# Charts ---------------------------------------------------------------------------


def test_the_pain_chart_summarises_the_trend_and_keeps_the_axes_labelled() -> None:
    chart = charts.pain_chart(
        logs=[(TODAY - timedelta(days=14), 6), (TODAY - timedelta(days=7), 4)],
        intakes=[(TODAY - timedelta(days=20), 7.0)],
        today=TODAY,
    )
    assert chart.summary.startswith("Pain fell from 7 on 28 May 2026 to 4 on 10 Jun 2026")
    assert [label for _, label in chart.y_ticks] == ["0", "2", "4", "6", "8", "10"]
    assert chart.x_ticks and len(chart.dots) == 2 and len(chart.diamonds) == 1
    assert chart.rows[0] == ("10 Jun 2026", "4", "Session log")


def test_the_adherence_chart_counts_weeks_and_marks_the_low_ones() -> None:
    chart = charts.adherence_chart(
        weeks={date(2026, 6, 1): (3.0, 3), date(2026, 6, 8): (1.0, 3)}, today=TODAY
    )
    assert [bar["low"] for bar in chart.bars] == [False, True]
    assert chart.summary == "4 of 6 scheduled sessions done over 2 weeks (67%); 1 week under 50%."


# Load: seed_load and constant query counts ----------------------------------------


def test_seed_load_builds_a_clinic_quickly_and_says_how_long_it_took() -> None:
    out = io.StringIO()
    call_command("seed_load", patients=40, clinic_slug="loadtest", stdout=out)
    clinic = Clinic.objects.get(slug="loadtest")
    assert clinic.patients.count() == 40
    assert Intake.objects.filter(clinic=clinic).exists()
    assert SessionLog.objects.filter(assignment__clinic=clinic).exists()
    assert Consult.objects.filter(clinic=clinic, status="booked").exists()
    assert re.search(r"built in \d+\.\d s", out.getvalue())
    intake = Intake.objects.filter(clinic=clinic).first()
    assert intake.risk_rank == RISK_RANK.get(intake.risk, 0) and "nprs" in intake.scores


# Sign-in (session, user, staff member) and then: the clinic with its patient
# count and whether STarT Back's wording is installed, today's consults, the
# queue, active plans with their recent logs, reminders not delivered.
DASHBOARD_QUERIES = 8
# Sign-in, the clinic; the clinicians for the filter, the count, the page.
PATIENT_LIST_QUERIES = 7
# Sign-in, the clinic; the patient, the audit row; consults, self-assessments,
# plans, their logs, notes.
PATIENT_PAGE_QUERIES = 11


def test_the_dashboard_patient_list_and_patient_page_cost_the_same_queries_at_any_size() -> None:
    def counts(client: Client, patient_id: int) -> dict[str, int]:
        out = {}
        for name, url in (
            ("dashboard", reverse("dashboard")),
            ("dashboard, whole clinic", reverse("dashboard") + "?scope=all"),
            ("patient list", reverse("patient_list")),
            ("filtered list", reverse("patient_list") + "?risk=high&plan=no&q=a"),
            ("patient page", reverse("patient_detail", args=[patient_id])),
        ):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            out[name] = len(queries)
        return out

    small = loadgen.build(patients=100, clinic_slug="busy", clinicians=3, now=NOW).clinic
    member = StaffMember.objects.filter(clinic=small, role="clinician").order_by("pk").first()
    client = client_for(member.user)
    # A patient with everything: self-assessments, plans with logs, consults, notes.
    patient = (
        Patient.objects.filter(
            clinic=small, assignments__logs__isnull=False, consults__isnull=False
        )
        .filter(intakes__isnull=False, clinical_notes__isnull=False)
        .first()
    )
    at_100 = counts(client, patient.pk)

    loadgen.build(patients=1900, clinic_slug="busy", clinicians=3, seed=2, now=NOW)
    assert small.patients.count() == 2000
    at_2000 = counts(client, patient.pk)

    assert at_100 == at_2000
    assert at_2000["dashboard"] == DASHBOARD_QUERIES
    assert at_2000["patient list"] == PATIENT_LIST_QUERIES
    assert at_2000["patient page"] == PATIENT_PAGE_QUERIES
