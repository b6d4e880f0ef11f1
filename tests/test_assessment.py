"""The public self-assessment: steps, answers kept, red flags, the stored
intake, the result page, the emails, and the staff's view of it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from clinic.models import AuditEvent, Clinic, Patient, StaffMember
from tests.factories import PatientFactory
from triage import links
from triage.models import InstrumentText, Intake

pytestmark = pytest.mark.django_db

ABOUT = {
    "first_name": "Robin",
    "last_name": "Marsh",
    "email": "Robin.Marsh@example.com",
    "date_of_birth": "1988-03-14",
}
NO_FLAGS = {
    code: "no"
    for code in [
        "saddle_numbness",
        "bladder_dysfunction",
        "bowel_dysfunction",
        "progressive_leg_weakness",
        "gait_disturbance",
        "age_under_20_or_over_50_new_pain",
        "history_of_cancer",
        "unexplained_weight_loss",
        "night_pain",
        "no_improvement_month",
        "fever_or_chills",
        "immunosuppression",
        "iv_drug_use",
        "recent_infection",
        "penetrating_wound",
        "significant_trauma",
        "osteoporosis_or_steroids",
        "structural_deformity",
        "severe_central_pain_eases_lying",
    ]
}
PAIN = {"pain_now": "3", "pain_worst_week": "5", "pain_average_week": "3"}
WEAK_GLUTES = [
    {
        "pain_timing": "only_when_running",
        "pain_location": "one_side",
        "pain_into_leg": "no",
        "numbness_or_weakness": "no",
        "pain_duration": "two_to_six_weeks",
    },
    {"load_jump": "no", "shoe_km": "200", "running_surface": ["road"]},
    {
        "glute_test_result": "lower_back_hardest",
        "hip_flexor_test_result": "moves_forward_easily",
        "plank_hold_seconds": "60",
    },
    {"sleep": "good", "stress": "low"},
]
CONSENT = {"consent_store": "on", "consent_email": "on"}


def step_url(clinic: Clinic, n: int) -> str:
    return reverse("assess_step", args=[clinic.slug, n])


def complete(
    client: Client,
    clinic: Clinic,
    *,
    pain: dict[str, str] | None = None,
    flags: dict[str, str] | None = None,
    running: list[dict[str, Any]] | None = None,
    capture: Any,
) -> Any:
    pages = [ABOUT, {**NO_FLAGS, **(flags or {})}, pain or PAIN, *(running or WEAK_GLUTES)]
    for n, data in enumerate(pages, start=1):
        response = client.post(step_url(clinic, n), data)
        assert response.status_code == 302, (n, response.content.decode()[:3000])
    with capture(execute=True):
        return client.post(step_url(clinic, len(pages) + 1), CONSENT)


def test_a_runner_completes_the_self_assessment_and_sees_the_bridge_series(
    client: Client, clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    response = complete(client, clinic, capture=django_capture_on_commit_callbacks)
    intake = Intake.objects.get()
    assert response.url == reverse(
        "assess_result", args=[links.result_token(intake.pk)]
    ) or response.url.startswith("/assess/result/")
    assert intake.clinic == clinic and not intake.urgent
    assert intake.patient.email == "robin.marsh@example.com" and intake.patient.clinic == clinic
    assert "glute_dominant_back" in intake.factors
    assert (
        intake.suggested_program is not None
        and intake.suggested_program.slug == "runners-low-back-starter"
    )
    assert intake.versions == {"red_flags": "1.0", "nprs": "1.0", "runner_back": "1.0"}
    assert intake.answers["red_flags"]["saddle_numbness"] is False
    assert intake.scores["nprs"]["total"] == 3

    html = client.get(response.url).content.decode()
    assert "Glute bridge" in html and "Single-leg glute bridge" in html
    assert reverse("book", args=[clinic.slug]) in html
    assert "Please get medical help today" not in html

    [confirmation] = mail.outbox
    assert confirmation.to == ["robin.marsh@example.com"]
    assert "/assess/result/" in confirmation.body
    assert "glute" not in confirmation.body.lower()  # no answers or findings by email


def test_a_cauda_equina_answer_gives_urgent_advice_and_alerts_the_clinic_at_once(
    client: Client, clinic: Clinic, physio: StaffMember, django_capture_on_commit_callbacks: Any
) -> None:
    response = complete(
        client, clinic, flags={"saddle_numbness": "yes"}, capture=django_capture_on_commit_callbacks
    )
    intake = Intake.objects.get()
    assert intake.urgent and intake.red_flags == ["saddle_numbness"]
    html = client.get(response.url).content.decode()
    assert "Please get medical help today" in html
    assert html.index("Please get medical help today") < html.index("Book an online consult")
    assert "emergency department" in html

    alerts = [m for m in mail.outbox if m.subject.startswith("URGENT")]
    assert sorted(to for m in alerts for to in m.to) == sorted(
        [clinic.contact_email, physio.user.email]
    )
    for alert in alerts:
        assert intake.get_absolute_url() in alert.body
        assert "Robin" not in alert.body and "saddle" not in alert.body.lower()


@pytest.mark.parametrize(
    "code", ["bladder_dysfunction", "bowel_dysfunction", "progressive_leg_weakness"]
)
def test_every_cauda_equina_sign_is_urgent(
    client: Client, clinic: Clinic, code: str, django_capture_on_commit_callbacks: Any
) -> None:
    complete(client, clinic, flags={code: "yes"}, capture=django_capture_on_commit_callbacks)
    assert Intake.objects.get().urgent


def test_a_non_urgent_red_flag_is_flagged_for_the_clinician_without_an_alert(
    client: Client, clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    response = complete(
        client,
        clinic,
        flags={"history_of_cancer": "yes"},
        capture=django_capture_on_commit_callbacks,
    )
    intake = Intake.objects.get()
    assert not intake.urgent and intake.red_flags == ["history_of_cancer"]
    assert "speak to your GP" in client.get(response.url).content.decode()
    assert not [m for m in mail.outbox if m.subject.startswith("URGENT")]


def test_required_answers_cannot_be_left_blank(client: Client, clinic: Clinic) -> None:
    client.post(step_url(clinic, 1), ABOUT)
    response = client.post(step_url(clinic, 2), {"saddle_numbness": "no"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Intake.objects.exists()


def test_answers_are_kept_when_a_step_fails_and_on_reload(client: Client, clinic: Clinic) -> None:
    client.post(step_url(clinic, 1), ABOUT)
    bad = {**NO_FLAGS, "saddle_numbness": "maybe"}
    response = client.post(step_url(clinic, 2), bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="no" checked' in html or "checked" in html  # the other answers stay ticked
    page = client.get(step_url(clinic, 1)).content.decode()
    assert 'value="Robin"' in page


def test_a_conditional_question_is_required_only_when_shown(client: Client, clinic: Clinic) -> None:
    for n, data in enumerate([ABOUT, NO_FLAGS, PAIN], start=1):
        client.post(step_url(clinic, n), data)
    leg = {**WEAK_GLUTES[0], "pain_into_leg": "yes"}
    response = client.post(step_url(clinic, 4), leg)
    assert response.status_code == 400
    assert "Please answer this question." in response.content.decode()
    response = client.post(step_url(clinic, 4), {**leg, "pain_into_leg_how_far": "below_knee"})
    assert response.status_code == 302


def test_steps_cannot_be_skipped(client: Client, clinic: Clinic) -> None:
    response = client.get(step_url(clinic, 5))
    assert response.url == step_url(clinic, 1)


def test_without_consent_to_store_nothing_is_saved(client: Client, clinic: Clinic) -> None:
    for n, data in enumerate([ABOUT, NO_FLAGS, PAIN, *WEAK_GLUTES], start=1):
        client.post(step_url(clinic, n), data)
    response = client.post(step_url(clinic, 8), {"consent_email": "on"})
    assert response.status_code == 400
    assert "agree to storing them" in response.content.decode()
    assert (
        not Intake.objects.exists()
        and not Patient.objects.filter(email="robin.marsh@example.com").exists()
    )


def test_an_existing_patient_is_found_by_email_and_not_overwritten(
    client: Client, clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    existing = PatientFactory(
        clinic=clinic, email="robin.marsh@example.com", first_name="Rob", last_name="Marsh"
    )
    complete(client, clinic, capture=django_capture_on_commit_callbacks)
    assert Intake.objects.get().patient == existing
    existing.refresh_from_db()
    assert existing.first_name == "Rob"


def test_the_same_email_at_another_clinic_is_another_patient(
    client: Client, clinic: Clinic, other_clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    PatientFactory(clinic=other_clinic, email="robin.marsh@example.com")
    complete(client, clinic, capture=django_capture_on_commit_callbacks)
    assert Intake.objects.get().patient.clinic == clinic


def test_a_forged_result_link_is_a_404(client: Client) -> None:
    assert client.get(reverse("assess_result", args=["not-a-token"])).status_code == 404


def test_startback_is_offered_only_once_its_licensed_wording_is_installed(
    client: Client, clinic: Clinic
) -> None:
    from triage import engine

    assert (
        "How it affects you"
        not in client.get(reverse("assess", args=[clinic.slug])).content.decode()
    )
    instrument = engine.get_instrument("startback")
    InstrumentText.objects.bulk_create(
        InstrumentText(
            instrument="startback",
            version=instrument.version,
            item_code=item.code,
            text=f"Licensed {item.code}",
        )
        for item in instrument.items
    )
    assert (
        "How it affects you" in client.get(reverse("assess", args=[clinic.slug])).content.decode()
    )


# Staff ------------------------------------------------------------------------


@pytest.fixture
def intake(client: Client, clinic: Clinic, django_capture_on_commit_callbacks: Any) -> Intake:
    complete(
        client, clinic, flags={"saddle_numbness": "yes"}, capture=django_capture_on_commit_callbacks
    )
    return Intake.objects.get()


def test_the_physio_sees_the_answers_scores_and_flags_and_the_view_is_audited(
    physio_client: Client, physio: StaffMember, intake: Intake
) -> None:
    html = physio_client.get(reverse("intake_detail", args=[intake.pk])).content.decode()
    assert "Urgent" in html and "Possible cauda equina" in html
    assert "Robin Marsh" in html
    event = AuditEvent.objects.get(action="view", object_type="triage.intake")
    assert event.actor == physio.user and event.object_id == str(intake.pk)


def test_the_urgent_intake_tops_the_dashboard_queue(physio_client: Client, intake: Intake) -> None:
    html = physio_client.get(reverse("dashboard")).content.decode()
    assert "queue-row urgent" in html and intake.get_absolute_url() in html


def test_marking_reviewed_takes_it_off_the_queue(
    physio_client: Client, physio: StaffMember, intake: Intake
) -> None:
    response = physio_client.post(
        reverse("intake_review", args=[intake.pk]), HTTP_HX_REQUEST="true"
    )
    assert "Reviewed" in response.content.decode()
    intake.refresh_from_db()
    assert intake.status == "reviewed" and intake.reviewed_by == physio.user
    assert intake.get_absolute_url() not in physio_client.get(reverse("dashboard")).content.decode()


def test_receptionists_cannot_read_intakes(receptionist_client: Client, intake: Intake) -> None:
    assert receptionist_client.get(reverse("intake_detail", args=[intake.pk])).status_code == 403
    assert (
        intake.get_absolute_url()
        not in receptionist_client.get(reverse("dashboard")).content.decode()
    )


def test_another_clinic_gets_a_404_for_the_intake(
    other_physio_client: Client, intake: Intake
) -> None:
    for name in ("intake_detail", "intake_fhir"):
        assert other_physio_client.get(reverse(name, args=[intake.pk])).status_code == 404
    assert other_physio_client.post(reverse("intake_review", args=[intake.pk])).status_code == 404


def test_the_fhir_export_is_a_valid_bundle_of_questionnaire_responses(
    physio_client: Client, intake: Intake
) -> None:
    from fhir.resources.R4B.bundle import Bundle

    response = physio_client.get(reverse("intake_fhir", args=[intake.pk]))
    body = json.loads(response.content)
    Bundle.model_validate(body)
    kinds = {entry["resource"]["resourceType"] for entry in body["entry"]}
    assert kinds == {"QuestionnaireResponse"}
    assert AuditEvent.objects.filter(action="export").exists()


# Fuzzing: any input gives a clear answer, never a 500 or half a record -----------


ANY_VALUE = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["yes", "no", "-1", "11", "3", "", "on"]),
    st.lists(st.text(max_size=5), max_size=3),
)


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.dictionaries(
        st.sampled_from(
            [
                *NO_FLAGS,
                *PAIN,
                *WEAK_GLUTES[0],
                *WEAK_GLUTES[1],
                *WEAK_GLUTES[2],
                "first_name",
                "email",
                "date_of_birth",
                "consent_store",
            ]
        ),
        ANY_VALUE,
        max_size=12,
    ),
    step=st.integers(min_value=0, max_value=9),
)
def test_fuzzed_answers_never_cause_a_500_or_a_half_saved_intake(
    clinic: Clinic, data: dict[str, Any], step: int
) -> None:
    client = Client(raise_request_exception=True)
    for n, page in enumerate([ABOUT, NO_FLAGS, PAIN, *WEAK_GLUTES], start=1):
        if n >= step:
            break
        client.post(step_url(clinic, n), page)
    response = client.post(step_url(clinic, max(step, 1)), {k: v for k, v in data.items()})
    assert response.status_code in (200, 302, 400, 404)
    for intake in Intake.objects.all():
        assert intake.scores and intake.answers and intake.patient_id
    assert (
        Intake.objects.count() == 0 or Intake.objects.filter(scores__has_key="red_flags").exists()
    )


def test_result_page_link_in_the_email_opens_the_result(
    client: Client, clinic: Clinic, django_capture_on_commit_callbacks: Any
) -> None:
    complete(client, clinic, capture=django_capture_on_commit_callbacks)
    path = re.search(r"https?://[^/]+(/assess/result/\S+/)", mail.outbox[0].body).group(1)
    assert "What we noticed" in Client().get(path).content.decode()


def test_a_repeat_assessment_shows_the_change_against_the_minimal_important_change(
    client: Client, clinic: Clinic, physio_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    complete(client, clinic, capture=django_capture_on_commit_callbacks)
    worse = {"pain_now": "7", "pain_worst_week": "8", "pain_average_week": "6"}
    complete(Client(), clinic, pain=worse, capture=django_capture_on_commit_callbacks)
    latest = Intake.objects.order_by("-created_at", "-pk").first()
    html = physio_client.get(reverse("intake_detail", args=[latest.pk])).content.decode()
    assert "NPRS</strong> 3 → 7 (+4)" in html
    assert "meaningfully worse" in html


def test_staff_are_told_why_startback_is_not_asked(
    physio_client: Client, receptionist_client: Client
) -> None:
    assert (
        "install_instrument_text startback"
        in physio_client.get(reverse("dashboard")).content.decode()
    )
    assert "startback-missing" not in receptionist_client.get(reverse("dashboard")).content.decode()
