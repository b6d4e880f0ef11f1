"""Export answers and their scores as an HL7 FHIR R4 QuestionnaireResponse.

Each answered item becomes an ``item`` whose ``linkId`` is the item code (the
construct, so it is stable across versions that only reorder). Our own
instruments carry their question text; licensed ones never do, not even when
a clinic has installed the wording, because the export leaves the clinic.
Computed scores follow as extra items with ``linkId`` ``score.<name>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from triage.engine import Answer, Instrument, Item, get_instrument, validate_answers
from triage.scoring import ScoreResult

FHIR_BASE = "https://backstride.example/fhir"
STATUSES = frozenset({"in-progress", "completed", "amended", "entered-in-error", "stopped"})


def questionnaire_url(instrument: Instrument) -> str:
    """The canonical reference, version included: ``<base>/Questionnaire/<code>|<version>``."""
    return f"{FHIR_BASE}/Questionnaire/{instrument.code}|{instrument.version}"


def code_system_url(instrument: Instrument, item: Item) -> str:
    return f"{FHIR_BASE}/CodeSystem/{instrument.code}.{item.code}"


def _answers(instrument: Instrument, item: Item, value: Answer) -> list[dict[str, Any]]:
    if item.type == "boolean":
        return [{"valueBoolean": value}]
    if item.type in ("single_choice", "multiple_choice"):
        codes = value if isinstance(value, tuple) else (value,)
        return [
            {
                "valueCoding": {
                    "system": code_system_url(instrument, item),
                    "code": str(code),
                    "display": item.choice(code).label,
                }
            }
            for code in codes
        ]
    if item.type == "date":
        assert isinstance(value, dt.date)
        return [{"valueDate": value.isoformat()}]
    if item.type == "text":
        return [{"valueString": value}]
    # scale_0_10 and number: whole numbers as integers, the rest as decimals.
    if isinstance(value, int):
        return [{"valueInteger": value}]
    return [{"valueDecimal": value}]


def _value(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, bool):
        return [{"valueBoolean": value}]
    if isinstance(value, int):
        return [{"valueInteger": value}]
    if isinstance(value, float):
        return [{"valueDecimal": value}]
    if isinstance(value, tuple | list):
        return [{"valueString": str(entry)} for entry in value]
    return [{"valueString": str(value)}]


def _score_items(score: ScoreResult) -> list[dict[str, Any]]:
    fields: list[tuple[str, Any]] = [("total", score.total)]
    fields += [(name, value) for name, value in score.subscales.items()]
    fields += [
        ("risk", score.risk),
        ("band", score.band),
        ("red_flags", score.red_flags),
        ("factors", tuple(factor.code for factor in score.factors)),
        ("suggested_program", score.suggested_program_slug),
    ]
    if score.instrument == "red_flags":
        fields.append(("urgent", score.urgent))
    items = []
    for name, value in fields:
        # FHIR allows no empty answers: leave out what the instrument lacks.
        if value is None or (isinstance(value, tuple | list) and not value):
            continue
        items.append({"linkId": f"score.{name}", "answer": _value(value)})
    return items


def questionnaire_response(
    *,
    instrument: Instrument | str,
    answers: Mapping[str, object],
    score: ScoreResult | None,
    patient_reference: str,
    authored: dt.datetime,
    status: str = "completed",
) -> dict[str, Any]:
    """A FHIR R4 QuestionnaireResponse (as a JSON-ready dict) for these answers.

    The answers are validated again (``ValueError`` naming the item if they are
    wrong). ``authored`` must be timezone-aware; ``patient_reference`` is a
    FHIR reference such as ``"Patient/123"``. Pass ``score=None`` to leave the
    computed scores out.
    """
    if isinstance(instrument, str):
        instrument = get_instrument(instrument)
    if status not in STATUSES:
        raise ValueError(f"unknown QuestionnaireResponse status {status!r}")
    if not isinstance(authored, dt.datetime) or authored.utcoffset() is None:
        raise ValueError("authored must be a timezone-aware datetime")
    if not patient_reference:
        raise ValueError("patient_reference is required")
    if score is not None and score.instrument != instrument.code:
        raise ValueError(f"a {score.instrument} score cannot go with {instrument.code} answers")

    clean = validate_answers(instrument, answers)
    items: list[dict[str, Any]] = []
    for item in instrument.items:
        if item.code not in clean:
            continue
        entry: dict[str, Any] = {"linkId": item.code}
        if not instrument.licensed and item.text:
            entry["text"] = item.text
        entry["answer"] = _answers(instrument, item, clean[item.code])
        items.append(entry)
    if score is not None:
        items += _score_items(score)

    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": questionnaire_url(instrument),
        "status": status,
        "subject": {"reference": patient_reference},
        "authored": authored.isoformat(),
        # The patient answered for themselves.
        "source": {"reference": patient_reference},
    }
    if items:
        resource["item"] = items
    return resource
