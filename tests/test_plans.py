"""Programs, assigning them, the patient's own copy, the emailed plan with its
calendar file, logging sessions and adherence."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from clinic.models import Patient, StaffMember
from exercises import links
from exercises.models import Assignment, Program, SessionLog
from exercises.services import assignment_create, assignment_update, session_log_record
from tests.factories import ExerciseFactory, PatientFactory, ProgramFactory, ProgramItemFactory

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 23)


@pytest.fixture
def program() -> Program:
    program = ProgramFactory(name="Runner's low back starter", duration_weeks=4)
    bridge = ExerciseFactory(name="Glute bridge", summary="Lift your hips off the floor.")
    plank = ExerciseFactory(name="Plank", default_reps=None, default_hold_seconds=20)
    single = ExerciseFactory(name="Single-leg glute bridge", per_side=True)
    ProgramItemFactory(program=program, exercise=bridge, order=1, week_to=2)
    ProgramItemFactory(program=program, exercise=plank, order=2, reps=None, hold_seconds=20)
    ProgramItemFactory(
        program=program, exercise=single, order=3, week_from=3, per_side=True, reps=8
    )
    return program


def assign(
    patient: Patient, program: Program, physio: StaffMember, capture: object, **kw: object
) -> Assignment:
    with capture(execute=True):
        return assignment_create(
            patient=patient,
            program=program,
            created_by=physio.user,
            start_date=kw.pop("start_date", MONDAY),
            days_of_week=kw.pop("days_of_week", [0, 2, 4]),
            reminder_time=time(7, 30),
            **kw,
        )


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def plan_link_in(body: str) -> str:
    match = re.search(r"https?://\S+/p/[^/\s]+/", body)
    assert match, body
    return path_of(match.group(0))


# Assignment and the patient's own copy --------------------------------------


def test_assigning_copies_the_program_into_the_patients_own_plan(
    patient: Patient,
    program: Program,
    physio: StaffMember,
    django_capture_on_commit_callbacks: object,
) -> None:
    plan = assign(patient, program, physio, django_capture_on_commit_callbacks)
    assert plan.clinic == patient.clinic
    assert plan.end_date == MONDAY + timedelta(weeks=4, days=-1)
    assert [i.exercise.name for i in plan.items.all()] == [
        "Glute bridge",
        "Plank",
        "Single-leg glute bridge",
    ]

    # Editing the template afterwards leaves the prescribed plan alone.
    program.items.update(sets=9)
    program.items.first().delete()
    assert [i.sets for i in plan.items.all()] == [3, 3, 3]


def test_changing_one_patients_plan_leaves_the_template_and_emails_the_patient(
    patient: Patient,
    program: Program,
    physio: StaffMember,
    django_capture_on_commit_callbacks: object,
) -> None:
    plan = assign(patient, program, physio, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assignment_update(assignment=plan, days_of_week=[1, 3])
    assert plan.version == 2
    assert program.items.count() == 3
    [message] = mail.outbox
    assert message.subject == "Your exercise plan has changed"


def test_a_plan_for_another_clinics_program_is_refused(
    patient: Patient,
    other_clinic: object,
    physio: StaffMember,
    django_capture_on_commit_callbacks: object,
) -> None:
    foreign = ProgramFactory(clinic=other_clinic)
    with pytest.raises(ValueError, match="another clinic"):
        assign(patient, foreign, physio, django_capture_on_commit_callbacks)
    assert not Assignment.objects.exists()


def test_the_assign_page_creates_the_plan_and_sends_it(
    physio_client: Client,
    patient: Patient,
    program: Program,
    django_capture_on_commit_callbacks: object,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = physio_client.post(
            reverse("assign", args=[patient.pk]),
            {
                "program": program.pk,
                "start_date": date.today().isoformat(),
                "days_of_week": ["0", "3"],
                "reminder_time": "18:15",
                "notes": "Keep the bridges slow.",
            },
        )
    plan = Assignment.objects.get()
    assert response.url == reverse("plan", args=[plan.pk])
    assert plan.days_of_week == [0, 3] and plan.reminder_time == time(18, 15)
    assert len(mail.outbox) == 1


def test_the_assign_page_explains_bad_input_and_saves_nothing(
    physio_client: Client, patient: Patient, program: Program
) -> None:
    today = date.today()
    response = physio_client.post(
        reverse("assign", args=[patient.pk]),
        {
            "program": program.pk,
            "start_date": today.isoformat(),
            "end_date": (today - timedelta(days=3)).isoformat(),
            "reminder_time": "7am",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Pick at least one day of the week." in html
    assert "The plan ends before it starts." in html
    assert not Assignment.objects.exists()


def test_another_clinics_patient_cannot_be_assigned_a_program(
    physio_client: Client, other_patient: Patient, program: Program
) -> None:
    assert physio_client.get(reverse("assign", args=[other_patient.pk])).status_code == 404


# The emailed plan -------------------------------------------------------------


def test_the_plan_email_has_this_weeks_exercises_pictures_a_link_and_a_calendar(
    patient: Patient,
    program: Program,
    physio: StaffMember,
    django_capture_on_commit_callbacks: object,
) -> None:
    with time_machine.travel(date(2026, 11, 24)):
        plan = assign(patient, program, physio, django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert message.to == [patient.email]
    assert "Glute bridge: 3 × 10 reps" in message.body
    assert "Plank: 3 × 20 s hold" in message.body
    assert "Single-leg" not in message.body  # that one starts in week 3
    html = message.alternatives[0][0]
    assert "/static/exercises/png/placeholder.png" in html
    token = plan_link_in(message.body).split("/")[2]
    assert links.plan_id_from_token(token) == plan.pk
    # Tuesday is not a session day, so there is no "mark it done" link today.
    assert "/done/" not in message.body

    [(filename, ics, mimetype)] = message.attachments
    assert filename == "exercise-plan.ics" and mimetype.startswith("text/calendar")
    calendar = Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"plan-{plan.pk}@backstride"
    rule = event["rrule"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["MO", "WE", "FR"]
    start = event.decoded("dtstart")
    assert (start.date(), start.time(), str(start.tzinfo)) == (MONDAY, time(7, 30), "Europe/London")
    assert rule["UNTIL"][0].date() == plan.end_date
    assert calendar.walk("VTIMEZONE"), "the zone travels with the file"


def test_on_a_session_day_the_plan_email_has_a_one_tap_done_link(
    patient: Patient,
    program: Program,
    physio: StaffMember,
    django_capture_on_commit_callbacks: object,
) -> None:
    with time_machine.travel(MONDAY + timedelta(hours=12)):
        plan = assign(patient, program, physio, django_capture_on_commit_callbacks)
    found = re.search(r"https?://\S+(/done/[^/\s]+/)", mail.outbox[0].body)
    assert found, mail.outbox[0].body
    assert links.done_from_token(found.group(1).split("/")[2]) == (plan.pk, MONDAY)


def test_the_plan_email_carries_no_diagnosis_or_answers(
    patient: Patient,
    program: Program,
    physio: StaffMember,
    django_capture_on_commit_callbacks: object,
) -> None:
    assign(patient, program, physio, django_capture_on_commit_callbacks, notes="")
    text = mail.outbox[0].body.lower()
    for word in ("diagnos", "risk", "red flag", "startback"):
        assert word not in text


def test_no_plan_email_without_consent(
    clinic: object,
    program: Program,
    physio: StaffMember,
    django_capture_on_commit_callbacks: object,
) -> None:
    patient = PatientFactory(clinic=clinic, consent_email=False)
    assign(patient, program, physio, django_capture_on_commit_callbacks)
    assert mail.outbox == []


# The plan page and logging ----------------------------------------------------


@pytest.fixture
def plan(
    patient: Patient,
    program: Program,
    physio: StaffMember,
    django_capture_on_commit_callbacks: object,
) -> Assignment:
    return assign(
        patient,
        program,
        physio,
        django_capture_on_commit_callbacks,
        start_date=date.today() - timedelta(days=8),
        days_of_week=list(range(7)),
    )


def test_the_patient_sees_todays_exercises_with_pictures_and_steps(
    patient_client: Client, plan: Assignment
) -> None:
    html = patient_client.get(reverse("plan", args=[plan.pk])).content.decode()
    assert "Today&#x27;s session" in html or "Today's session" in html
    assert "Glute bridge" in html and "Plank" in html
    assert "Get into position." in html
    assert "/static/exercises/placeholder.svg" in html


def test_the_signed_link_opens_the_plan_without_signing_in(
    client: Client, plan: Assignment
) -> None:
    response = client.get(links.plan_path(plan.pk))
    assert response.status_code == 200
    assert "Glute bridge" in response.content.decode()
    assert client.get(reverse("plan_link", args=["forged-token"])).status_code == 404


def test_logging_from_the_plan_page_records_today_once(
    patient_client: Client, plan: Assignment
) -> None:
    url = reverse("plan_log", args=[plan.pk])
    patient_client.post(
        url, {"completion": "some", "pain": "4", "effort": "hard", "note": "Tight hamstrings"}
    )
    patient_client.post(url, {"completion": "all", "pain": "3", "effort": "ok"})
    log = SessionLog.objects.get()
    assert (log.date, log.completion, log.pain, log.effort) == (plan.local_today(), "all", 3, "ok")


def test_logging_through_the_signed_link(client: Client, plan: Assignment) -> None:
    token = links.plan_token(plan.pk)
    response = client.post(
        reverse("plan_link_log", args=[token]), {"completion": "all", "pain": "2"}
    )
    assert response.url == reverse("plan_link", args=[token])
    assert SessionLog.objects.get().pain == 2


def test_a_bad_pain_score_is_explained_and_nothing_is_saved(
    patient_client: Client, plan: Assignment
) -> None:
    response = patient_client.post(
        reverse("plan_log", args=[plan.pk]), {"completion": "all", "pain": "11"}, follow=True
    )
    assert "Please check the session form" in response.content.decode()
    assert not SessionLog.objects.exists()


def test_the_emails_done_link_shows_a_button_and_logs_only_on_post(
    client: Client, plan: Assignment
) -> None:
    today = plan.local_today()
    path = links.done_path(plan.pk, today)
    page = client.get(path)
    assert "Yes, I did it" in page.content.decode()
    assert not SessionLog.objects.exists()
    client.post(path)
    client.post(path)  # a second click does not double the session
    log = SessionLog.objects.get()
    assert (log.date, log.completion) == (today, "all")


def test_a_tampered_done_link_is_a_404(client: Client, plan: Assignment) -> None:
    path = links.done_path(plan.pk, plan.local_today())
    assert client.post(path[:-2] + "x/").status_code == 404
    assert not SessionLog.objects.exists()


def test_another_patient_cannot_open_or_log_this_plan(clinic: object, plan: Assignment) -> None:
    from tests.conftest import client_for
    from tests.factories import UserFactory

    other = PatientFactory(clinic=clinic, user=UserFactory())
    client = client_for(other.user)
    assert client.get(reverse("plan", args=[plan.pk])).status_code == 404
    assert (
        client.post(reverse("plan_log", args=[plan.pk]), {"completion": "all"}).status_code == 404
    )


def test_another_clinics_physio_gets_a_404_for_the_plan(
    other_physio_client: Client, plan: Assignment
) -> None:
    assert other_physio_client.get(reverse("plan", args=[plan.pk])).status_code == 404
    assert other_physio_client.get(reverse("plan_edit", args=[plan.pk])).status_code == 404


def test_the_plan_page_runs_a_constant_number_of_queries(
    patient_client: Client, plan: Assignment
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert patient_client.get(reverse("plan", args=[plan.pk])).status_code == 200
        return len(queries)

    few = count()
    for n in range(15):
        ProgramItemFactory._meta.model  # noqa: B018
        plan.items.create(exercise=ExerciseFactory(), sets=2, reps=5, order=10 + n)
        session_log_record(assignment=plan, day=plan.start_date + timedelta(n % 8))
    assert count() == few


# Adherence ------------------------------------------------------------------


def test_adherence_counts_done_sessions_over_scheduled_ones(
    patient: Patient,
    program: Program,
    physio: StaffMember,
    django_capture_on_commit_callbacks: object,
) -> None:
    plan = assign(
        patient, program, physio, django_capture_on_commit_callbacks
    )  # Mon, Wed, Fri from MONDAY
    session_log_record(assignment=plan, day=MONDAY)
    session_log_record(assignment=plan, day=MONDAY + timedelta(2), completion="some")
    session_log_record(assignment=plan, day=MONDAY + timedelta(4), completion="none")
    result = plan.adherence(today=MONDAY + timedelta(7))  # the next Monday: 4 sessions scheduled
    assert result == {"scheduled": 4, "done": 1.5, "rate": 0.375}
    assert plan.adherence(today=MONDAY - timedelta(1))["rate"] is None


def test_a_session_outside_the_plan_is_refused(
    patient: Patient,
    program: Program,
    physio: StaffMember,
    django_capture_on_commit_callbacks: object,
) -> None:
    plan = assign(patient, program, physio, django_capture_on_commit_callbacks)
    with pytest.raises(ValueError, match="outside the plan"):
        session_log_record(assignment=plan, day=plan.end_date + timedelta(1))
