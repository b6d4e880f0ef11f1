"""Exporting answers and scores as FHIR R4 QuestionnaireResponse resources."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.test_scoring import date_instrument, nprs, runner, sample_answers, valid_answers
from triage import engine
from triage.engine import INSTRUMENT_CODES, AnswerError, InstalledText, get_instrument
from triage.fhir import FHIR_BASE, questionnaire_response
from triage.scoring import score

AUTHORED = dt.datetime(2025, 5, 6, 9, 30, tzinfo=dt.UTC)
PATIENT = "Patient/42"


def export(code: str, answers: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    answers = sample_answers(code) if answers is None else answers
    return questionnaire_response(
        instrument=get_instrument(code),
        answers=answers,
        score=kwargs.pop("score", score(code, answers)),
        patient_reference=PATIENT,
        authored=kwargs.pop("authored", AUTHORED),
        **kwargs,
    )


def validate(resource: dict[str, Any]) -> QuestionnaireResponse:
    return QuestionnaireResponse.model_validate(resource)


def items_by_link(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in resource["item"]}


def all_keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {key for value in node.values() for key in all_keys(value)}
    if isinstance(node, list):
        return {key for value in node for key in all_keys(value)}
    return set()


@pytest.mark.parametrize("code", INSTRUMENT_CODES)
def test_every_instrument_exports_a_valid_questionnaire_response(code: str) -> None:
    resource = export(code)
    parsed = validate(resource)
    instrument = get_instrument(code)
    assert parsed.get_resource_type() == "QuestionnaireResponse"
    assert len(parsed.item or []) == len(resource["item"])
    assert resource["questionnaire"] == (
        f"https://backstride.example/fhir/Questionnaire/{code}|{instrument.version}"
    )
    assert resource["status"] == "completed"
    assert resource["subject"] == {"reference": PATIENT}
    assert resource["authored"] == "2025-05-06T09:30:00+00:00"
    answered = [item["linkId"] for item in resource["item"]]
    answered_items = [link for link in answered if not link.startswith("score.")]
    assert answered_items == list(engine.validate_answers(instrument, sample_answers(code)))
    assert "score.total" in answered or code == "runner_back"
    json.dumps(resource)


def test_the_validator_would_catch_a_malformed_export() -> None:
    # Guards the tests above: fhir.resources rejects unknown or mistyped values.
    resource = export("nprs")
    resource["item"][0]["answer"] = [{"valueInteger": "four"}]
    with pytest.raises(ValueError):
        validate(resource)
    del resource["item"][0]["answer"]
    resource["item"][0]["linkId"] = None
    with pytest.raises(ValueError):
        validate(resource)


@pytest.mark.parametrize("code", ["startback", "odi", "rmdq"])
def test_licensed_instruments_carry_no_item_text(code: str) -> None:
    assert "text" not in all_keys(export(code))


@pytest.mark.parametrize("code", ["startback", "odi", "rmdq"])
def test_licensed_instruments_carry_no_text_even_with_wording_installed(
    code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = {item: f"Installed wording {item}" for item in get_instrument(code).item_codes}
    monkeypatch.setattr(
        engine, "installed_text_provider", lambda c, v: InstalledText(texts, "© Owner")
    )
    assert engine.is_available_to_patients(code)
    resource = export(code)
    assert "text" not in all_keys(resource)
    assert "Installed wording" not in json.dumps(resource)


@pytest.mark.parametrize("code", ["runner_back", "red_flags", "nprs"])
def test_our_own_instruments_carry_their_question_text(code: str) -> None:
    instrument = get_instrument(code)
    for link, item in items_by_link(export(code)).items():
        if link.startswith("score."):
            assert "text" not in item
        else:
            assert item["text"] == instrument.item(link).text


def test_answers_use_the_fitting_value_types() -> None:
    items = items_by_link(export("runner_back"))
    assert items["pain_into_leg"]["answer"] == [{"valueBoolean": True}]
    assert items["pain_timing"]["answer"] == [
        {
            "valueCoding": {
                "system": f"{FHIR_BASE}/CodeSystem/runner_back.pain_timing",
                "code": "only_when_running",
                "display": "Only when I run, or just afterwards",
            }
        }
    ]
    assert [a["valueCoding"]["code"] for a in items["load_jump_detail"]["answer"]] == [
        "distance",
        "hills",
    ]
    assert items["shoe_km"]["answer"] == [{"valueDecimal": 612.5}]
    assert items["plank_hold_seconds"]["answer"] == [{"valueInteger": 60}]
    assert items["anything_else"]["answer"] == [{"valueString": "Worse on downhill runs."}]
    nprs_items = items_by_link(export("nprs"))
    assert nprs_items["pain_now"]["answer"] == [{"valueInteger": 4}]
    odi_items = items_by_link(export("odi"))
    assert odi_items["section_4"]["answer"][0]["valueCoding"]["code"] == "3"


def test_dates_export_as_value_date() -> None:
    instrument = date_instrument()
    resource = questionnaire_response(
        instrument=instrument,
        answers={"started": "2025-04-01"},
        score=None,
        patient_reference=PATIENT,
        authored=AUTHORED,
    )
    validate(resource)
    assert resource["item"] == [
        {"linkId": "started", "text": "When?", "answer": [{"valueDate": "2025-04-01"}]}
    ]


def test_unanswered_and_hidden_items_are_left_out() -> None:
    answers = runner(shoe_km=None, pain_into_leg_how_far="below_knee")  # hidden: no leg pain
    links = set(items_by_link(export("runner_back", answers)))
    assert "shoe_km" not in links
    assert "pain_into_leg_how_far" not in links
    odi_links = set(items_by_link(export("odi")))
    assert "section_3" not in odi_links and "section_7" not in odi_links


def test_scores_are_extra_items() -> None:
    startback = items_by_link(export("startback"))
    assert startback["score.total"]["answer"] == [{"valueInteger": 3}]
    assert startback["score.psychosocial"]["answer"] == [{"valueInteger": 2}]
    assert startback["score.risk"]["answer"] == [{"valueString": "low"}]

    odi = items_by_link(export("odi"))
    assert odi["score.total"]["answer"] == [{"valueDecimal": 25.0}]
    assert odi["score.band"]["answer"] == [{"valueString": "moderate"}]

    flags = items_by_link(export("red_flags"))
    assert flags["score.red_flags"]["answer"] == [{"valueString": "night_pain"}]
    assert flags["score.cancer"]["answer"] == [{"valueString": "night_pain"}]
    assert flags["score.urgent"]["answer"] == [{"valueBoolean": False}]
    assert "score.cauda_equina" not in flags  # no empty answers

    runner_items = items_by_link(export("runner_back"))
    assert [a["valueString"] for a in runner_items["score.factors"]["answer"]] == [
        "nerve_symptoms",
        "load_jump",
        "worn_shoes",
    ]
    assert "score.suggested_program" not in runner_items  # a consult comes first
    assert "score.total" not in runner_items


def test_the_scores_can_be_left_out() -> None:
    resource = export("nprs", score=None)
    validate(resource)
    assert not any(item["linkId"].startswith("score.") for item in resource["item"])


def test_a_work_in_progress_can_be_exported_in_progress() -> None:
    resource = export("nprs", status="in-progress")
    assert validate(resource).status == "in-progress"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "done"}, "status"),
        ({"authored": dt.datetime(2025, 5, 6, 9, 30)}, "timezone-aware"),
        ({"authored": dt.date(2025, 5, 6)}, "timezone-aware"),
        ({"score": score("rmdq", sample_answers("rmdq"))}, "rmdq score"),
    ],
)
def test_bad_export_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        export("nprs", **kwargs)


def test_invalid_answers_are_refused_naming_the_item() -> None:
    with pytest.raises(AnswerError, match="pain_now"):
        export("nprs", nprs(12, 3, 3), score=None)


def test_an_instrument_code_is_accepted_in_place_of_the_instrument() -> None:
    resource = questionnaire_response(
        instrument="nprs",
        answers=nprs(1, 2, 3),
        score=None,
        patient_reference=PATIENT,
        authored=AUTHORED,
    )
    validate(resource)


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), code=st.sampled_from(INSTRUMENT_CODES))
def test_any_valid_answers_export_a_valid_resource(data: st.DataObject, code: str) -> None:
    answers = data.draw(valid_answers(code))
    try:
        result = score(code, answers)
    except ValueError:
        return  # an ODI with every section left out
    resource = export(code, answers, score=result)
    validate(resource)
    if get_instrument(code).licensed:
        assert "text" not in all_keys(resource)
