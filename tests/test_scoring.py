"""The questionnaire engine and the scoring of every instrument."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from triage import engine, scoring
from triage.engine import (
    INSTRUMENT_CODES,
    INSTRUMENTS_DIR,
    AnswerError,
    Instrument,
    InstrumentError,
    Item,
    get_instrument,
    parse_instrument,
    validate_answers,
    visible_items,
)
from triage.scoring import (
    DEFAULT_PROGRAM_SLUG,
    FACTORS,
    ScoreResult,
    change,
    odi_band,
    score,
    startback_risk,
)

LIBRARY = Path(settings.BASE_DIR) / "exercises" / "library"
LICENSED = ("startback", "odi", "rmdq")
CAUDA_EQUINA = (
    "saddle_numbness",
    "bladder_dysfunction",
    "bowel_dysfunction",
    "progressive_leg_weakness",
    "gait_disturbance",
)
OTHER_FLAGS = {
    "age_under_20_or_over_50_new_pain": "cancer",
    "history_of_cancer": "cancer",
    "unexplained_weight_loss": "cancer",
    "night_pain": "cancer",
    "no_improvement_month": "cancer",
    "fever_or_chills": "infection",
    "immunosuppression": "infection",
    "iv_drug_use": "infection",
    "recent_infection": "infection",
    "significant_trauma": "fracture",
    "osteoporosis_or_steroids": "fracture",
    "structural_deformity": "fracture",
}
STARTBACK_PHYSICAL = (
    "referred_leg_pain",
    "comorbid_shoulder_neck_pain",
    "walking_short_distances",
    "dressing_slowly",
)
STARTBACK_PSYCH = ("fear_avoidance", "anxiety", "catastrophising", "low_mood")


# Answer builders -------------------------------------------------------------


def runner(**changes: Any) -> dict[str, Any]:
    """A runner's answers that raise no factor at all, with changes applied."""
    answers: dict[str, Any] = {
        "pain_timing": "only_when_running",
        "pain_location": "one_side",
        "pain_into_leg": False,
        "numbness_or_weakness": False,
        "pain_duration": "two_to_six_weeks",
        "load_jump": False,
        "shoe_km": 200,
        "running_surface": ["road", "trail_or_grass"],
        "glute_test_result": "glutes_hardest",
        "hip_flexor_test_result": "moves_forward_easily",
        "plank_hold_seconds": 60,
        "sleep": "good",
        "stress": "low",
    }
    answers.update(changes)
    return answers


def startback(agree: tuple[str, ...] = (), bothersomeness: str = "not_at_all") -> dict[str, Any]:
    answers: dict[str, Any] = {code: code in agree for code in STARTBACK_PHYSICAL}
    answers |= {code: code in agree for code in STARTBACK_PSYCH}
    answers["bothersomeness"] = bothersomeness
    return answers


def odi(*sections: int | None) -> dict[str, Any]:
    return {f"section_{n}": value for n, value in enumerate(sections, start=1)}


def odi_with_sum(total: int, answered: int = 10) -> dict[str, Any]:
    """``answered`` sections (the rest left out) adding up to ``total``."""
    values = []
    for _ in range(answered):
        values.append(min(5, total))
        total -= values[-1]
    assert total == 0
    return odi(*values)


def red_flags(*yes: str) -> dict[str, bool]:
    return {code: code in yes for code in get_instrument("red_flags").item_codes}


def rmdq(yes: int) -> dict[str, bool]:
    return {f"item_{n}": n <= yes for n in range(1, 25)}


def nprs(now: int, worst: int, average: int) -> dict[str, int]:
    return {"pain_now": now, "pain_worst_week": worst, "pain_average_week": average}


def sample_answers(code: str) -> dict[str, Any]:
    """One complete, valid set of answers per instrument (used by the FHIR tests)."""
    return {
        "runner_back": runner(
            pain_into_leg=True,
            pain_into_leg_how_far="below_knee",
            load_jump=True,
            load_jump_detail=["distance", "hills"],
            shoe_km=612.5,
            anything_else="Worse on downhill runs.",
        ),
        "red_flags": red_flags("night_pain"),
        "nprs": nprs(4, 7, 5),
        "startback": startback(("referred_leg_pain", "anxiety"), "very_much"),
        "odi": odi(1, 2, None, 3, 0, 1, None, 2, 1, 0),
        "rmdq": rmdq(6),
    }[code]


# Hypothesis strategies -------------------------------------------------------


def valid_value(item: Item) -> st.SearchStrategy[Any]:
    optional = st.none() if not item.required else st.nothing()
    match item.type:
        case "boolean":
            values: st.SearchStrategy[Any] = st.booleans() | st.sampled_from(["yes", "no"])
        case "single_choice":
            codes = list(item.choice_codes)
            values = st.sampled_from(codes) | st.sampled_from([str(c) for c in codes])
        case "multiple_choice":
            values = st.lists(st.sampled_from(list(item.choice_codes)), min_size=1, unique=True)
        case "scale_0_10":
            values = st.integers(0, 10) | st.integers(0, 10).map(str)
        case "number":
            assert item.min is not None and item.max is not None
            values = st.integers(int(item.min), int(item.max)) | st.floats(
                item.min, item.max, allow_nan=False
            )
        case "date":
            values = st.dates()
        case _:
            values = st.text(max_size=50)
    return values | optional


@st.composite
def valid_answers(draw: st.DrawFn, code: str) -> dict[str, Any]:
    instrument = get_instrument(code)
    answers = {}
    for item in instrument.items:
        # Conditional items get a value either way: the engine drops it when hidden.
        value = draw(valid_value(item))
        if value is not None:
            answers[item.code] = value
    return answers


any_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**5000, "9" * 5000]),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["yes", "no", "7", "12", "-1", "1e400", "nan", "3.5", " ", "2025-01-31"]),
    st.dates(),
    st.datetimes(),
    st.lists(st.one_of(st.text(max_size=10), st.integers(), st.none()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.binary(max_size=5),
)


@st.composite
def random_answers(draw: st.DrawFn, code: str) -> dict[Any, Any]:
    instrument = get_instrument(code)
    keys = st.sampled_from(instrument.item_codes) | st.text(max_size=12) | st.integers()
    choices = [c for item in instrument.items for c in item.choice_codes]
    values = any_value | st.sampled_from(choices) if choices else any_value
    answers = draw(st.dictionaries(keys, values, max_size=len(instrument.items) + 2))
    if draw(st.booleans()):
        # Start from a valid set and spoil part of it, to get past the first check.
        base = draw(valid_answers(code))
        answers = {**base, **answers}
    return answers


# The instruments as data -----------------------------------------------------


def test_every_instrument_has_a_toml_file_and_loads() -> None:
    files = {path.stem for path in INSTRUMENTS_DIR.glob("*.toml")}
    assert files == set(INSTRUMENT_CODES)
    for code in INSTRUMENT_CODES:
        instrument = get_instrument(code)
        assert instrument.code == code
        assert instrument.version
        assert instrument.items


def test_instruments_are_cached_and_frozen() -> None:
    instrument = get_instrument("nprs")
    assert get_instrument("nprs") is instrument
    with pytest.raises(AttributeError):
        instrument.version = "2.0"  # type: ignore[misc]


def test_an_unknown_instrument_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown instrument"):
        get_instrument("phq9")


@pytest.mark.parametrize("code", LICENSED)
def test_no_licensed_instrument_toml_contains_a_text_key(code: str) -> None:
    def keys(node: Any) -> set[str]:
        if isinstance(node, dict):
            return set(node) | {k for value in node.values() for k in keys(value)}
        if isinstance(node, list):
            return {k for value in node for k in keys(value)}
        return set()

    data = tomllib.loads((INSTRUMENTS_DIR / f"{code}.toml").read_text())
    assert data["licensed"] is True
    assert "text" not in keys(data["item"])
    assert "help" not in keys(data["item"])
    assert all(item.text is None for item in get_instrument(code).items)


@pytest.mark.parametrize("code", ["runner_back", "red_flags", "nprs"])
def test_our_own_instruments_carry_wording_for_every_item(code: str) -> None:
    instrument = get_instrument(code)
    assert not instrument.licensed
    assert all(item.text for item in instrument.items)


def test_only_startback_stratifies() -> None:
    assert [c for c in INSTRUMENT_CODES if get_instrument(c).stratifies] == ["startback"]


def test_items_are_named_by_construct() -> None:
    assert get_instrument("startback").item_codes == (
        *STARTBACK_PHYSICAL,
        *STARTBACK_PSYCH,
        "bothersomeness",
    )
    assert get_instrument("odi").item_codes == tuple(f"section_{n}" for n in range(1, 11))
    assert get_instrument("rmdq").item_codes == tuple(f"item_{n}" for n in range(1, 25))
    assert get_instrument("nprs").item_codes == ("pain_now", "pain_worst_week", "pain_average_week")
    bother = get_instrument("startback").item("bothersomeness")
    assert bother.choice_codes == ("not_at_all", "slightly", "moderately", "very_much", "extremely")
    assert get_instrument("odi").item("section_4").choice_codes == (0, 1, 2, 3, 4, 5)


def test_red_flags_ask_every_flag_in_its_group() -> None:
    instrument = get_instrument("red_flags")
    groups = {item.code: item.group for item in instrument.items}
    for code in CAUDA_EQUINA:
        assert groups[code] == "cauda_equina"
    for code, group in OTHER_FLAGS.items():
        assert groups[code] == group
    assert all(item.type == "boolean" and item.required for item in instrument.items)
    saddle = instrument.item("saddle_numbness").text or ""
    assert "between your legs" in saddle and "bottom" in saddle


def test_runner_back_explains_both_self_tests() -> None:
    instrument = get_instrument("runner_back")
    glute = instrument.item("glute_test_result")
    hips = instrument.item("hip_flexor_test_result")
    assert glute.help and "knee" in glute.help and "buttock" in glute.help
    assert hips.help and "kneel" in hips.help.lower()
    assert instrument.item("shoe_km").type == "number"
    assert instrument.item("plank_hold_seconds").type == "number"
    assert instrument.steps == (1, 2, 3, 4)


@pytest.mark.parametrize(
    ("change_", "message"),
    [
        ({"licensed": True}, "ships no text"),
        ({"item": [{"code": "a", "type": "colour", "required": True, "text": "?"}]}, "type"),
        ({"item": [{"code": "A b", "type": "boolean", "required": True, "text": "?"}]}, "code"),
        ({"item": [{"code": "a", "type": "number", "required": True, "text": "?"}]}, "min"),
        (
            {"item": [{"code": "a", "type": "single_choice", "required": True, "text": "?"}]},
            "choices",
        ),
        ({"item": [{"code": "a", "type": "boolean", "required": "yes", "text": "?"}]}, "required"),
        ({"item": [{"code": "a", "type": "boolean", "required": True}]}, "text is required"),
        (
            {
                "item": [
                    {"code": "a", "type": "boolean", "required": True, "text": "?", "colour": 1}
                ]
            },
            "unknown",
        ),
        (
            {
                "item": [
                    {"code": "a", "type": "boolean", "required": True, "text": "?", "group": "x"}
                ]
            },
            "group",
        ),
        ({"title": ""}, "title"),
        ({"extra": 1}, "unknown keys"),
        (
            {
                "item": [
                    {"code": "a", "type": "boolean", "required": True, "text": "?"},
                    {"code": "a", "type": "boolean", "required": True, "text": "?"},
                ]
            },
            "duplicate",
        ),
        (
            {
                "item": [
                    {
                        "code": "b",
                        "type": "text",
                        "required": False,
                        "text": "?",
                        "condition": {"item": "a", "equals": True},
                    },
                    {"code": "a", "type": "boolean", "required": True, "text": "?"},
                ]
            },
            "earlier item",
        ),
    ],
)
def test_malformed_definitions_are_refused(change_: dict[str, Any], message: str) -> None:
    data = {
        "code": "demo",
        "version": "1.0",
        "title": "Demo",
        "description": "A demo.",
        "licensed": False,
        "stratifies": False,
        "item": [{"code": "a", "type": "boolean", "required": True, "text": "Yes?"}],
    } | change_
    with pytest.raises(InstrumentError, match=message):
        parse_instrument(data)


# Validation ------------------------------------------------------------------


def test_answers_are_coerced_from_form_strings() -> None:
    clean = validate_answers(
        get_instrument("runner_back"),
        runner(pain_into_leg="no", shoe_km="350", plank_hold_seconds="42.5", sleep=" ok "),
    )
    assert clean["pain_into_leg"] is False
    assert clean["shoe_km"] == 350
    assert clean["plank_hold_seconds"] == 42.5
    assert clean["sleep"] == "ok"
    assert clean["running_surface"] == ("road", "trail_or_grass")
    assert validate_answers("odi", {"section_1": "3"}) == {"section_1": 3}


def test_multiple_choice_answers_keep_the_instrument_order_without_duplicates() -> None:
    clean = validate_answers("runner_back", runner(running_surface=["treadmill", "road", "road"]))
    assert clean["running_surface"] == ("road", "treadmill")


def test_unanswered_optional_items_are_left_out() -> None:
    clean = validate_answers("runner_back", runner(shoe_km="", plank_hold_seconds=None))
    assert "shoe_km" not in clean and "plank_hold_seconds" not in clean


@pytest.mark.parametrize(
    ("code", "answers", "item", "message"),
    [
        ("runner_back", runner(pain_into_leg="maybe"), "pain_into_leg", "yes or no"),
        ("runner_back", runner(shoe_km=5001), "shoe_km", "between 0 and 5000"),
        ("runner_back", runner(shoe_km=-1), "shoe_km", "between"),
        ("runner_back", runner(shoe_km="a lot"), "shoe_km", "number"),
        ("runner_back", runner(shoe_km=float("nan")), "shoe_km", "finite"),
        ("runner_back", runner(shoe_km=True), "shoe_km", "number"),
        ("runner_back", runner(sleep="great"), "sleep", "unknown choice"),
        ("runner_back", runner(running_surface="road"), "running_surface", "list"),
        ("runner_back", runner(running_surface=["beach"]), "running_surface", "unknown choice"),
        ("runner_back", runner(anything_else=42), "anything_else", "text"),
        ("runner_back", runner(anything_else="x" * 2001), "anything_else", "2000"),
        ("runner_back", runner(favourite_shoe="x"), "favourite_shoe", "not an item"),
        ("runner_back", {k: v for k, v in runner().items() if k != "sleep"}, "sleep", "required"),
        ("runner_back", runner(sleep="  "), "sleep", "required"),
        ("runner_back", runner(running_surface=[]), "running_surface", "required"),
        ("nprs", nprs(11, 5, 5), "pain_now", "between 0 and 10"),
        ("nprs", nprs(5, 5, 5) | {"pain_worst_week": 7.5}, "pain_worst_week", "whole number"),
        ("odi", odi(6), "section_1", "unknown choice"),
        ("odi", odi(1, 2, True), "section_3", "unknown choice"),
        ("startback", startback() | {"bothersomeness": "a_lot"}, "bothersomeness", "choice"),
        ("rmdq", {k: v for k, v in rmdq(3).items() if k != "item_17"}, "item_17", "required"),
    ],
)
def test_validation_errors_name_the_item(
    code: str, answers: dict[str, Any], item: str, message: str
) -> None:
    with pytest.raises(AnswerError, match=message) as caught:
        score(code, answers)
    assert caught.value.item == item
    assert str(caught.value).startswith(f"{item}:")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "value", [10**5000, "9" * 5000, -(10**5000)], ids=["huge", "huge-text", "huge-negative"]
)
def test_absurdly_large_numbers_are_wrong_answers_not_crashes(value: object) -> None:
    for code, item, answers in (
        ("nprs", "pain_now", {"pain_now": value}),
        ("odi", "section_1", {"section_1": value}),
        ("runner_back", "shoe_km", runner(shoe_km=value)),
    ):
        with pytest.raises(AnswerError, match=item):
            validate_answers(code, answers)
    assert len(visible_items("nprs", {"pain_now": value})) == 3


def test_answers_must_be_a_mapping() -> None:
    with pytest.raises(ValueError, match="mapping"):
        validate_answers("nprs", [("pain_now", 3)])  # type: ignore[arg-type]


def date_instrument() -> Instrument:
    return parse_instrument(
        {
            "code": "demo",
            "version": "1.0",
            "title": "Demo",
            "description": "A demo.",
            "licensed": False,
            "stratifies": False,
            "item": [
                {"code": "started", "type": "date", "required": True, "text": "When?"},
                {
                    "code": "where",
                    "type": "multiple_choice",
                    "required": False,
                    "text": "Where?",
                    "choices": [{"code": "hip", "label": "Hip"}, {"code": "knee", "label": "Knee"}],
                },
                {
                    "code": "knee_detail",
                    "type": "text",
                    "required": True,
                    "text": "Tell us about the knee.",
                    "condition": {"item": "where", "equals": "knee"},
                },
            ],
        }
    )


def test_dates_are_accepted_as_iso_strings_or_dates() -> None:
    instrument = date_instrument()
    assert validate_answers(instrument, {"started": "2025-03-01"}) == {
        "started": dt.date(2025, 3, 1)
    }
    assert validate_answers(instrument, {"started": dt.date(2025, 3, 1)})["started"].day == 1
    for bad in ("01/03/2025", dt.datetime(2025, 3, 1, 9, 0), 20250301):
        with pytest.raises(AnswerError, match="started"):
            validate_answers(instrument, {"started": bad})


def test_a_condition_on_a_multiple_choice_item_looks_for_the_ticked_choice() -> None:
    instrument = date_instrument()
    assert [i.code for i in visible_items(instrument, {"where": ["hip"]})] == ["started", "where"]
    assert "knee_detail" in [i.code for i in visible_items(instrument, {"where": ["hip", "knee"]})]
    with pytest.raises(AnswerError, match="knee_detail"):
        validate_answers(instrument, {"started": "2025-03-01", "where": ["knee"]})


# Conditional items -----------------------------------------------------------


def test_a_conditional_item_shows_only_when_its_condition_holds() -> None:
    instrument = get_instrument("runner_back")
    hidden = [item.code for item in visible_items(instrument, {"pain_into_leg": False})]
    shown = [item.code for item in visible_items(instrument, {"pain_into_leg": "yes"})]
    assert "pain_into_leg_how_far" not in hidden
    assert "pain_into_leg_how_far" in shown
    assert "pain_into_leg_how_far" not in [i.code for i in visible_items(instrument)]
    # An answer that isn't valid yet counts as unanswered, so the form can still be drawn.
    assert "pain_into_leg_how_far" not in [
        i.code for i in visible_items(instrument, {"pain_into_leg": "perhaps"})
    ]


def test_visible_items_can_be_limited_to_one_step() -> None:
    step_two = visible_items("runner_back", {"load_jump": True}, step=2)
    assert [item.code for item in step_two] == [
        "load_jump",
        "load_jump_detail",
        "shoe_km",
        "running_surface",
    ]
    assert {item.step for item in visible_items("red_flags", step=3)} == {3}


def test_a_visible_required_conditional_item_must_be_answered() -> None:
    with pytest.raises(AnswerError, match="pain_into_leg_how_far") as caught:
        validate_answers("runner_back", runner(pain_into_leg=True))
    assert caught.value.item == "pain_into_leg_how_far"


def test_a_hidden_conditional_item_is_dropped_even_with_a_stale_or_invalid_value() -> None:
    clean = validate_answers(
        "runner_back",
        runner(pain_into_leg=False, pain_into_leg_how_far="nowhere", load_jump_detail=["speed"]),
    )
    assert "pain_into_leg_how_far" not in clean
    assert "load_jump_detail" not in clean


def test_an_optional_conditional_item_may_stay_blank() -> None:
    clean = validate_answers("runner_back", runner(load_jump=True))
    assert clean["load_jump"] is True and "load_jump_detail" not in clean


# STarT Back ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agree", "bother", "total", "psychosocial", "risk"),
    [
        ((), "not_at_all", 0, 0, "low"),
        # Total 3 vs 4.
        (STARTBACK_PHYSICAL[:3], "not_at_all", 3, 0, "low"),
        (STARTBACK_PHYSICAL, "not_at_all", 4, 0, "medium"),
        (STARTBACK_PHYSICAL[:3], "very_much", 4, 1, "medium"),
        # A subscale of 3 alone never lifts a total of 3 out of low.
        (STARTBACK_PSYCH[:3], "not_at_all", 3, 3, "low"),
        (STARTBACK_PSYCH[:2], "extremely", 3, 3, "low"),
        # The medium edge: total >= 4 with the subscale exactly 3.
        (STARTBACK_PHYSICAL[:1] + STARTBACK_PSYCH[:3], "not_at_all", 4, 3, "medium"),
        (STARTBACK_PHYSICAL + STARTBACK_PSYCH[:3], "slightly", 7, 3, "medium"),
        (STARTBACK_PHYSICAL + STARTBACK_PSYCH[:2], "extremely", 7, 3, "medium"),
        # Subscale 3 vs 4.
        (STARTBACK_PSYCH, "not_at_all", 4, 4, "high"),
        (STARTBACK_PSYCH[:3], "very_much", 4, 4, "high"),
        (STARTBACK_PHYSICAL + STARTBACK_PSYCH, "extremely", 9, 5, "high"),
    ],
)
def test_startback_totals_subscale_and_risk(
    agree: tuple[str, ...], bother: str, total: int, psychosocial: int, risk: str
) -> None:
    result = score("startback", startback(agree, bother))
    assert result.total == total
    assert result.subscales == {"psychosocial": psychosocial}
    assert result.risk == risk
    assert result.band is None and not result.urgent and not result.red_flags


@pytest.mark.parametrize(
    ("level", "scores"),
    [
        ("not_at_all", False),
        ("slightly", False),
        ("moderately", False),
        ("very_much", True),
        ("extremely", True),
    ],
)
def test_only_very_much_and_extremely_bothersome_score(level: str, scores: bool) -> None:
    result = score("startback", startback(STARTBACK_PHYSICAL[:3], level))
    assert result.total == 3 + scores
    assert result.subscales["psychosocial"] == int(scores)
    assert result.risk == ("medium" if scores else "low")


def test_startback_risk_rule_over_every_possible_pair() -> None:
    for total in range(10):
        for psychosocial in range(min(total, 5) + 1):
            expected = "low" if total <= 3 else "high" if psychosocial >= 4 else "medium"
            assert startback_risk(total, psychosocial) == expected


def test_startback_accepts_agree_as_form_strings() -> None:
    answers = {code: "yes" for code in (*STARTBACK_PHYSICAL, *STARTBACK_PSYCH)}
    result = score("startback", answers | {"bothersomeness": "moderately"})
    assert (result.total, result.subscales["psychosocial"], result.risk) == (8, 4, "high")


# ODI -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "answered", "percentage", "band"),
    [
        (0, 10, 0.0, "minimal"),
        (10, 10, 20.0, "minimal"),
        (11, 10, 22.0, "moderate"),
        (20, 10, 40.0, "moderate"),
        (21, 10, 42.0, "severe"),
        (30, 10, 60.0, "severe"),
        (31, 10, 62.0, "crippled"),
        (40, 10, 80.0, "crippled"),
        (41, 10, 82.0, "bed_bound"),
        (50, 10, 100.0, "bed_bound"),
        # One section left out: the percentage is of the nine answered.
        (9, 9, 20.0, "minimal"),
        (10, 9, 22.2, "moderate"),
        (18, 9, 40.0, "moderate"),
        (19, 9, 42.2, "severe"),
        (27, 9, 60.0, "severe"),
        (28, 9, 62.2, "crippled"),
        (36, 9, 80.0, "crippled"),
        (37, 9, 82.2, "bed_bound"),
        # Several left out.
        (8, 7, 22.9, "moderate"),
        (7, 7, 20.0, "minimal"),
        (1, 3, 6.7, "minimal"),
        (5, 1, 100.0, "bed_bound"),
    ],
)
def test_odi_percentage_and_band(total: int, answered: int, percentage: float, band: str) -> None:
    result = score("odi", odi_with_sum(total, answered))
    assert result.total == percentage
    assert result.band == band
    assert result.subscales == {"raw": total, "answered": answered}
    assert result.risk is None


def test_odi_left_out_sections_may_be_anywhere() -> None:
    result = score("odi", odi(None, 2, "", 2, None, 2, 2, None, 2, None))
    assert result.total == 40.0 and result.band == "moderate"
    assert result.subscales["answered"] == 5


@pytest.mark.parametrize("answers", [{}, odi(*[None] * 10), odi("", " ", None)])
def test_odi_needs_at_least_one_section(answers: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="answer at least one section"):
        score("odi", answers)


@pytest.mark.parametrize(
    ("percentage", "band"),
    [
        (0, "minimal"),
        (20, "minimal"),
        (20.4, "minimal"),
        (20.49, "minimal"),
        # Fractional percentages take the band of the nearest whole number, halves up.
        (20.5, "moderate"),
        (21, "moderate"),
        (40, "moderate"),
        (40.5, "severe"),
        (41, "severe"),
        (60.49, "severe"),
        (60.5, "crippled"),
        (61, "crippled"),
        (80, "crippled"),
        (80.5, "bed_bound"),
        (81, "bed_bound"),
        (100, "bed_bound"),
        (Fraction(81, 4), "minimal"),
        (Fraction(41, 2), "moderate"),
    ],
)
def test_odi_band_edges(percentage: Any, band: str) -> None:
    assert odi_band(percentage) == band


@pytest.mark.parametrize("percentage", [-1, 101, float("nan"), float("inf")])
def test_odi_band_refuses_impossible_percentages(percentage: float) -> None:
    with pytest.raises(ValueError):
        odi_band(percentage)


def test_every_reachable_odi_score_bands_the_same_from_its_rounded_total() -> None:
    # With whole-number sections the ODI never lands strictly between a band's
    # top and the next whole number, so the stored one-decimal total always
    # gives the same band as the exact percentage.
    for answered in range(1, 11):
        for total in range(5 * answered + 1):
            result = score("odi", odi_with_sum(total, answered))
            exact = Fraction(100 * total, 5 * answered)
            assert result.band == odi_band(result.total or 0) == odi_band(exact)
            for edge in (20, 40, 60, 80):
                assert not edge < exact < edge + 1


# RMDQ and NPRS ---------------------------------------------------------------


@pytest.mark.parametrize("yes", [0, 1, 7, 23, 24])
def test_rmdq_counts_the_yes_answers(yes: int) -> None:
    result = score("rmdq", rmdq(yes))
    assert result.total == yes
    assert result.risk is None and result.band is None


def test_rmdq_counts_yes_wherever_it_is() -> None:
    answers = {f"item_{n}": "yes" if n % 3 == 0 else "no" for n in range(1, 25)}
    assert score("rmdq", answers).total == 8


def test_nprs_total_is_the_pain_now_with_the_week_as_subscales() -> None:
    result = score("nprs", nprs(3, 8, 5))
    assert result.total == 3
    assert result.subscales == {"worst": 8, "average": 5}
    assert (
        score("nprs", {"pain_now": "0", "pain_worst_week": 10, "pain_average_week": 0}).total == 0
    )


# Red flags -------------------------------------------------------------------


def test_no_red_flags() -> None:
    result = score("red_flags", red_flags())
    assert result.red_flags == ()
    assert result.urgent is False
    assert result.total == 0
    assert result.subscales == {
        "cauda_equina": (),
        "cancer": (),
        "infection": (),
        "fracture": (),
    }


@pytest.mark.parametrize("code", CAUDA_EQUINA)
def test_each_cauda_equina_sign_alone_makes_the_result_urgent(code: str) -> None:
    result = score("red_flags", red_flags(code))
    assert result.urgent is True
    assert result.red_flags == (code,)
    assert result.subscales["cauda_equina"] == (code,)


@pytest.mark.parametrize(("code", "group"), sorted(OTHER_FLAGS.items()))
def test_other_red_flags_are_flagged_but_not_urgent(code: str, group: str) -> None:
    result = score("red_flags", red_flags(code))
    assert result.urgent is False
    assert result.red_flags == (code,)
    assert result.subscales[group] == (code,)


def test_several_red_flags_are_listed_in_question_order() -> None:
    result = score("red_flags", red_flags("night_pain", "saddle_numbness", "fever_or_chills"))
    assert result.red_flags == ("saddle_numbness", "night_pain", "fever_or_chills")
    assert result.urgent is True
    assert result.total == 3


def test_an_unanswered_red_flag_question_is_refused() -> None:
    answers = red_flags()
    del answers["bladder_dysfunction"]
    with pytest.raises(AnswerError, match="bladder_dysfunction"):
        score("red_flags", answers)


# Runner's back check ---------------------------------------------------------


def factor_codes(result: ScoreResult) -> list[str]:
    return [factor.code for factor in result.factors]


def test_a_runner_with_nothing_to_flag_gets_the_starter_programme() -> None:
    result = score("runner_back", runner())
    assert result.factors == ()
    assert result.suggested_program_slug == DEFAULT_PROGRAM_SLUG == "runners-low-back-starter"


@pytest.mark.parametrize(
    ("changes", "factor", "exercises", "program"),
    [
        (
            {"glute_test_result": "lower_back_hardest"},
            "glute_dominant_back",
            ("glute-bridge", "marching-glute-bridge", "single-leg-glute-bridge"),
            "runners-low-back-starter",
        ),
        (
            {"hip_flexor_test_result": "cannot_move_forward_much"},
            "tight_hip_flexors",
            ("kneeling-hip-flexor-stretch", "standing-quad-stretch"),
            "hip-flexor-and-quad-release",
        ),
        (
            {"plank_hold_seconds": 29},
            "weak_core",
            ("plank", "side-plank", "bird-dog", "dead-bug"),
            "core-strength-for-runners",
        ),
        ({"plank_hold_seconds": 0}, "weak_core", None, "core-strength-for-runners"),
        ({"load_jump": True}, "load_jump", (), "graded-return-to-running"),
        ({"shoe_km": 500}, "worn_shoes", (), None),
        ({"shoe_km": 1200}, "worn_shoes", (), None),
        ({"running_surface": ["road"]}, "hard_surface", (), None),
        ({"sleep": "poor"}, "poor_sleep_or_stress", (), None),
        ({"stress": "high"}, "poor_sleep_or_stress", (), None),
        (
            {"pain_into_leg": True, "pain_into_leg_how_far": "into_foot"},
            "nerve_symptoms",
            (),
            None,
        ),
        ({"numbness_or_weakness": True}, "nerve_symptoms", (), None),
        ({"pain_timing": "other_times_too"}, "not_only_running", (), None),
    ],
)
def test_each_answer_maps_to_its_factor(
    changes: dict[str, Any], factor: str, exercises: tuple[str, ...] | None, program: str | None
) -> None:
    result = score("runner_back", runner(**changes))
    assert factor_codes(result) == [factor]
    found = result.factors[0]
    if exercises is not None:
        assert found.exercise_slugs == exercises
    assert found.program_slug == program
    assert found.title and found.advice


@pytest.mark.parametrize(
    "changes",
    [
        {"plank_hold_seconds": 30},
        {"plank_hold_seconds": None},
        {"shoe_km": 499},
        {"shoe_km": None},
        {"running_surface": ["road", "track"]},
        {"running_surface": ["treadmill"]},
        {"sleep": "ok", "stress": "medium"},
        {"glute_test_result": "could_not_do_it"},
        {"glute_test_result": "about_the_same"},
        {"hip_flexor_test_result": "could_not_do_it"},
        {"load_jump_detail": ["distance"]},  # hidden: no load jump reported
    ],
)
def test_answers_below_the_thresholds_raise_no_factor(changes: dict[str, Any]) -> None:
    assert score("runner_back", runner(**changes)).factors == ()


def test_the_advice_for_leg_symptoms_is_to_stop_running_and_book_a_consult() -> None:
    factor = FACTORS["nerve_symptoms"]
    assert "stop running" in factor.advice and "book a consult" in factor.advice
    assert factor.exercise_slugs == () and factor.program_slug is None
    assert "book a consult" in FACTORS["not_only_running"].advice.lower()


@pytest.mark.parametrize(
    ("changes", "program"),
    [
        (
            {
                "load_jump": True,
                "glute_test_result": "lower_back_hardest",
                "plank_hold_seconds": 10,
                "hip_flexor_test_result": "cannot_move_forward_much",
            },
            "graded-return-to-running",
        ),
        (
            {"glute_test_result": "lower_back_hardest", "plank_hold_seconds": 10},
            "runners-low-back-starter",
        ),
        (
            {"plank_hold_seconds": 10, "hip_flexor_test_result": "cannot_move_forward_much"},
            "core-strength-for-runners",
        ),
        ({"hip_flexor_test_result": "cannot_move_forward_much"}, "hip-flexor-and-quad-release"),
        ({"shoe_km": 900, "sleep": "poor"}, "runners-low-back-starter"),
        # Leg symptoms or pain outside running: a physio first, no programme yet.
        ({"numbness_or_weakness": True, "glute_test_result": "lower_back_hardest"}, None),
        ({"pain_timing": "other_times_too", "load_jump": True}, None),
    ],
)
def test_the_suggested_programme_follows_the_documented_priority(
    changes: dict[str, Any], program: str | None
) -> None:
    assert score("runner_back", runner(**changes)).suggested_program_slug == program


def test_several_factors_come_in_a_fixed_order_with_the_consult_ones_first() -> None:
    result = score(
        "runner_back",
        runner(
            pain_timing="other_times_too",
            numbness_or_weakness=True,
            stress="high",
            glute_test_result="lower_back_hardest",
            running_surface=["road"],
        ),
    )
    assert factor_codes(result) == [
        "nerve_symptoms",
        "not_only_running",
        "glute_dominant_back",
        "hard_surface",
        "poor_sleep_or_stress",
    ]


def test_every_slug_the_advice_names_is_in_the_exercise_library() -> None:
    exercises = {
        e["slug"] for e in tomllib.loads((LIBRARY / "exercises.toml").read_text())["exercise"]
    }
    programs = {
        p["slug"] for p in tomllib.loads((LIBRARY / "programs.toml").read_text())["program"]
    }
    for factor in FACTORS.values():
        assert set(factor.exercise_slugs) <= exercises, factor.code
        if factor.program_slug is not None:
            assert factor.program_slug in programs, factor.code
    assert DEFAULT_PROGRAM_SLUG in programs


def test_the_advice_never_diagnoses() -> None:
    for factor in FACTORS.values():
        words = f"{factor.title} {factor.advice}".lower()
        for phrase in ("you have ", "diagnos", "sciatica", "disc", "fracture", "you've got"):
            assert phrase not in words, (factor.code, phrase)


# Results as JSON -------------------------------------------------------------


@pytest.mark.parametrize("code", INSTRUMENT_CODES)
def test_a_result_survives_a_round_trip_through_json(code: str) -> None:
    result = score(code, sample_answers(code))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["instrument"] == code
    assert data["version"] == get_instrument(code).version
    assert ScoreResult.from_dict(data) == result


def test_result_dicts_hold_the_runner_factors() -> None:
    data = score("runner_back", runner(glute_test_result="lower_back_hardest")).to_dict()
    assert data["factors"] == [
        {
            "code": "glute_dominant_back",
            "title": FACTORS["glute_dominant_back"].title,
            "advice": FACTORS["glute_dominant_back"].advice,
            "exercise_slugs": ["glute-bridge", "marching-glute-bridge", "single-leg-glute-bridge"],
            "program_slug": "runners-low-back-starter",
        }
    ]
    assert data["suggested_program_slug"] == "runners-low-back-starter"


# Change over time ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "before", "after", "delta", "meaningful", "direction"),
    [
        ("nprs", nprs(6, 8, 6), nprs(4, 6, 4), -2, True, "improved"),
        ("nprs", nprs(6, 8, 6), nprs(5, 6, 4), -1, False, "improved"),
        ("nprs", nprs(4, 6, 4), nprs(6, 8, 6), 2, True, "worse"),
        ("nprs", nprs(5, 6, 4), nprs(5, 8, 6), 0, False, "unchanged"),
        ("odi", odi_with_sum(20, 10), odi_with_sum(15, 10), -10, True, "improved"),
        ("odi", odi_with_sum(19, 9), odi_with_sum(10, 9), -20, True, "improved"),
        ("odi", odi_with_sum(15, 10), odi_with_sum(11, 10), -8, False, "improved"),
        ("odi", odi_with_sum(10, 10), odi_with_sum(15, 10), 10, True, "worse"),
        ("rmdq", rmdq(10), rmdq(7), -3, True, "improved"),
        ("rmdq", rmdq(10), rmdq(8), -2, False, "improved"),
        ("rmdq", rmdq(8), rmdq(11), 3, True, "worse"),
    ],
)
def test_change_is_judged_against_the_minimal_important_change(
    code: str,
    before: dict[str, Any],
    after: dict[str, Any],
    delta: float,
    meaningful: bool,
    direction: str,
) -> None:
    result = change(code, score(code, before), score(code, after))
    assert result.delta == delta
    assert result.meaningful is meaningful
    assert result.direction == direction
    assert result.improved is (meaningful and direction == "improved")
    assert result.worse is (meaningful and direction == "worse")


def test_odi_change_uses_exact_decimals() -> None:
    # 42.2 - 32.2 is 10.000000000000004 in floats; exactly 10 in decimals.
    before = ScoreResult(instrument="odi", version="1.0", total=42.2)
    after = ScoreResult(instrument="odi", version="1.0", total=32.2)
    assert change("odi", before, after).delta == -10
    assert change("odi", before, after).meaningful
    slightly = ScoreResult(instrument="odi", version="1.0", total=32.3)
    result = change("odi", before, slightly)
    assert result.delta == pytest.approx(-9.9) and not result.meaningful


def test_change_is_refused_without_a_minimal_important_change_or_for_mixed_scores() -> None:
    low = score("startback", startback())
    with pytest.raises(ValueError, match="minimal important change"):
        change("startback", low, low)
    with pytest.raises(ValueError, match="rmdq"):
        change("nprs", score("rmdq", rmdq(3)), score("nprs", nprs(1, 2, 1)))
    with pytest.raises(ValueError, match="without a total"):
        change("nprs", ScoreResult("nprs", "1.0"), score("nprs", nprs(1, 2, 1)))


# Properties ------------------------------------------------------------------

PROPERTY_SETTINGS = hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(data=st.data(), code=st.sampled_from(INSTRUMENT_CODES))
def test_random_answers_either_score_or_raise_value_error(data: st.DataObject, code: str) -> None:
    answers = data.draw(random_answers(code))
    try:
        result = score(code, answers)
    except ValueError:
        return
    json.dumps(result.to_dict())


@PROPERTY_SETTINGS
@given(data=st.data(), code=st.sampled_from(INSTRUMENT_CODES))
def test_valid_answers_always_score_within_range(data: st.DataObject, code: str) -> None:
    answers = data.draw(valid_answers(code))
    if code == "odi":
        assume(any(value not in (None, "") for value in answers.values()))
    result = score(code, answers)
    clean = validate_answers(code, answers)
    if code == "startback":
        assert isinstance(result.total, int) and 0 <= result.total <= 9
        psychosocial = result.subscales["psychosocial"]
        assert 0 <= psychosocial <= min(5, result.total)
        assert result.risk == startback_risk(result.total, psychosocial)
    elif code == "odi":
        assert result.total is not None and 0 <= result.total <= 100
        assert result.band == odi_band(result.total)
    elif code == "rmdq":
        assert result.total == sum(value is True for value in clean.values())
    elif code == "nprs":
        assert result.total == clean["pain_now"]
    elif code == "red_flags":
        groups = {get_instrument("red_flags").item(c).group for c in result.red_flags}
        assert result.urgent is ("cauda_equina" in groups)
    else:
        assert {f.code for f in result.factors} <= set(FACTORS)
        assert result.suggested_program_slug in {
            None,
            *(f.program_slug for f in FACTORS.values()),
        }
    assert ScoreResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_the_engine_is_reachable_from_the_instruments_package() -> None:
    from triage import instruments

    assert instruments.get_instrument is engine.get_instrument
    assert scoring.SCORERS.keys() == set(INSTRUMENT_CODES)
