"""Scoring for every instrument, and whether a change between two scores matters.

``score(code, answers)`` validates the answers first (a ``ValueError`` naming
the item when they are wrong) and returns a frozen :class:`ScoreResult` that
can be stored as JSON with ``to_dict()`` and read back with ``from_dict()``.

The rules follow the published scoring (see shared/reference/clinical.md):

- STarT Back: items 1-8 score 1 for "agree" (true); bothersomeness scores 1
  for "very much" or "extremely". Total 0-9; psychosocial subscale 0-5 (fear
  avoidance, anxiety, catastrophising, low mood, bothersomeness). Risk: total
  <= 3 low; total >= 4 with subscale <= 3 medium; subscale >= 4 high.
- ODI: sum / (5 x sections answered) x 100, rounded half up to one decimal.
  The band uses the published integer bands (0-20, 21-40, 41-60, 61-80,
  81-100) on the percentage rounded half up to a whole number, so 20.4 is
  minimal and 20.5 moderate. (With whole-number section scores the ODI never
  actually lands strictly between 20 and 21, or the other edges and the next
  integer; the rule settles it for good should that change.)
- RMDQ: the number of statements answered yes (0-24).
- NPRS: total is the pain now; the week's worst and average are subscales.
- Red flags: every flag answered yes, grouped; any cauda equina flag makes
  the result urgent.
- Runner's back check: contributing factors, each with calm advice and, where
  it fits, exercises and a programme from the shared library.

None of it is a diagnosis: a score or a factor says what may be worth
checking or trying, and a clinician decides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from triage.engine import RED_FLAG_GROUPS, Answer, get_instrument, validate_answers

Risk = str  # "low" | "medium" | "high"


@dataclass(frozen=True)
class Factor:
    """Something in the runner's answers that may be adding to the pain."""

    code: str
    title: str
    advice: str
    exercise_slugs: tuple[str, ...] = ()
    program_slug: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "advice": self.advice,
            "exercise_slugs": list(self.exercise_slugs),
            "program_slug": self.program_slug,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Factor:
        return cls(
            code=data["code"],
            title=data["title"],
            advice=data["advice"],
            exercise_slugs=tuple(data.get("exercise_slugs", ())),
            program_slug=data.get("program_slug"),
        )


@dataclass(frozen=True)
class ScoreResult:
    instrument: str
    version: str
    total: int | float | None = None
    subscales: Mapping[str, Any] = field(default_factory=dict)
    risk: Risk | None = None
    band: str | None = None
    red_flags: tuple[str, ...] = ()
    urgent: bool = False
    factors: tuple[Factor, ...] = ()
    suggested_program_slug: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists, not tuples)."""
        return {
            "instrument": self.instrument,
            "version": self.version,
            "total": self.total,
            "subscales": {
                key: list(value) if isinstance(value, tuple | list) else value
                for key, value in self.subscales.items()
            },
            "risk": self.risk,
            "band": self.band,
            "red_flags": list(self.red_flags),
            "urgent": self.urgent,
            "factors": [factor.to_dict() for factor in self.factors],
            "suggested_program_slug": self.suggested_program_slug,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreResult:
        return cls(
            instrument=data["instrument"],
            version=data["version"],
            total=data.get("total"),
            subscales={
                key: tuple(value) if isinstance(value, list) else value
                for key, value in data.get("subscales", {}).items()
            },
            risk=data.get("risk"),
            band=data.get("band"),
            red_flags=tuple(data.get("red_flags", ())),
            urgent=bool(data.get("urgent", False)),
            factors=tuple(Factor.from_dict(f) for f in data.get("factors", ())),
            suggested_program_slug=data.get("suggested_program_slug"),
        )


# STarT Back ------------------------------------------------------------------

STARTBACK_AGREE_ITEMS = (
    "referred_leg_pain",
    "comorbid_shoulder_neck_pain",
    "walking_short_distances",
    "dressing_slowly",
    "fear_avoidance",
    "anxiety",
    "catastrophising",
    "low_mood",
)
STARTBACK_PSYCHOSOCIAL = ("fear_avoidance", "anxiety", "catastrophising", "low_mood")
STARTBACK_BOTHERSOME = frozenset({"very_much", "extremely"})


def startback_risk(total: int, psychosocial: int) -> Risk:
    if total <= 3:
        return "low"
    if psychosocial <= 3:
        return "medium"
    return "high"


def _score_startback(answers: Mapping[str, Answer]) -> dict[str, Any]:
    bothersome = int(answers["bothersomeness"] in STARTBACK_BOTHERSOME)
    total = sum(int(answers[code] is True) for code in STARTBACK_AGREE_ITEMS) + bothersome
    psychosocial = sum(int(answers[code] is True) for code in STARTBACK_PSYCHOSOCIAL) + bothersome
    return {
        "total": total,
        "subscales": {"psychosocial": psychosocial},
        "risk": startback_risk(total, psychosocial),
    }


# ODI -------------------------------------------------------------------------

# (lowest whole percentage, band); each band runs up to the next one's start.
ODI_BANDS: tuple[tuple[int, str], ...] = (
    (0, "minimal"),
    (21, "moderate"),
    (41, "severe"),
    (61, "crippled"),
    (81, "bed_bound"),
)


def _half_up(value: Fraction | Decimal | float | int, places: int = 0) -> Decimal:
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        exact = Decimal(str(value))
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def odi_band(percentage: Fraction | Decimal | float | int) -> str:
    """The ODI band for a percentage: the published integer bands, applied to
    the percentage rounded half up to a whole number (20.4 minimal, 20.5
    moderate)."""
    if isinstance(percentage, float) and not math.isfinite(percentage):
        raise ValueError("an ODI percentage is a finite number")
    whole = int(_half_up(percentage))
    if not 0 <= whole <= 100:
        raise ValueError("an ODI percentage lies between 0 and 100")
    band = ODI_BANDS[0][1]
    for start, name in ODI_BANDS:
        if whole >= start:
            band = name
    return band


def _score_odi(answers: Mapping[str, Answer]) -> dict[str, Any]:
    sections = [value for code, value in answers.items() if code.startswith("section_")]
    if not sections:
        raise ValueError("odi: answer at least one section")
    raw = sum(value for value in sections if isinstance(value, int))
    exact = Fraction(raw * 100, 5 * len(sections))
    return {
        "total": float(_half_up(exact, 1)),
        "subscales": {"raw": raw, "answered": len(sections)},
        "band": odi_band(exact),
    }


# RMDQ and NPRS ---------------------------------------------------------------


def _score_rmdq(answers: Mapping[str, Answer]) -> dict[str, Any]:
    return {"total": sum(1 for value in answers.values() if value is True)}


def _score_nprs(answers: Mapping[str, Answer]) -> dict[str, Any]:
    return {
        "total": answers["pain_now"],
        "subscales": {"worst": answers["pain_worst_week"], "average": answers["pain_average_week"]},
    }


# Red flags -------------------------------------------------------------------


def _score_red_flags(answers: Mapping[str, Answer]) -> dict[str, Any]:
    instrument = get_instrument("red_flags")
    flagged = tuple(item.code for item in instrument.items if answers.get(item.code) is True)
    groups: dict[str, tuple[str, ...]] = {
        group: tuple(code for code in flagged if instrument.item(code).group == group)
        for group in RED_FLAG_GROUPS
    }
    return {
        "total": len(flagged),
        "subscales": groups,
        "red_flags": flagged,
        "urgent": bool(groups["cauda_equina"]),
    }


# Runner's back check ---------------------------------------------------------

WORN_SHOES_KM = 500
WEAK_CORE_PLANK_SECONDS = 30
SOFTER_SURFACES = frozenset({"track", "treadmill", "trail_or_grass"})

# Factors that call for a physio before any self-help programme.
CONSULT_FIRST = frozenset({"nerve_symptoms", "not_only_running"})

# Which programme to suggest when several factors point to one. A recent jump
# in load comes first: the graded return already carries bridges and trunk
# work alongside the running, and easing the load is what matters most. Then
# what the self-tests found: glutes, trunk endurance, hip flexors.
PROGRAM_PRIORITY: tuple[str, ...] = (
    "load_jump",
    "glute_dominant_back",
    "weak_core",
    "tight_hip_flexors",
)
# When no factor names a programme and nothing calls for a consult first.
DEFAULT_PROGRAM_SLUG = "runners-low-back-starter"

FACTORS: dict[str, Factor] = {
    factor.code: factor
    for factor in (
        Factor(
            code="nerve_symptoms",
            title="Leg symptoms are worth having checked",
            advice=(
                "Pain that travels into your leg or foot, or numbness, pins and needles or "
                "weakness, is worth a physio's look before you carry on. Please stop running "
                "for now and book a consult; hold off on new exercises until then."
            ),
        ),
        Factor(
            code="not_only_running",
            title="Pain outside running is worth a proper look",
            advice=(
                "Your back also hurts when you are not running, so running may not be the "
                "whole story. Book a consult so a physio can go through it with you; in the "
                "meantime keep gently active within what feels comfortable."
            ),
        ),
        Factor(
            code="glute_dominant_back",
            title="Your lower back may be doing your glutes' job",
            advice=(
                "In the knee lift test your lower back seemed to work harder than your "
                "buttock. Bridges teach the glutes to take their share: start with the "
                "two-leg bridge and move on to marching and then single-leg bridges as each "
                "one gets easy."
            ),
            exercise_slugs=("glute-bridge", "marching-glute-bridge", "single-leg-glute-bridge"),
            program_slug="runners-low-back-starter",
        ),
        Factor(
            code="tight_hip_flexors",
            title="Tight hip flexors may be tugging on your lower back",
            advice=(
                "Your hips did not travel far in the kneeling lunge, which points to "
                "tightness at the front of the hip. Stretch the hip flexors and thighs "
                "daily, ideally when you are warm after a walk or run; tight muscles can "
                "take a few days to let go."
            ),
            exercise_slugs=("kneeling-hip-flexor-stretch", "standing-quad-stretch"),
            program_slug="hip-flexor-and-quad-release",
        ),
        Factor(
            code="weak_core",
            title="Your trunk endurance is worth building",
            advice=(
                "A plank of under 30 seconds suggests your trunk muscles may tire early in "
                "a run and leave your lower back to pick up the slack. Short, regular "
                "sessions of planks, side planks, bird dogs and dead bugs build staying "
                "power."
            ),
            exercise_slugs=("plank", "side-plank", "bird-dog", "dead-bug"),
            program_slug="core-strength-for-runners",
        ),
        Factor(
            code="load_jump",
            title="A recent jump in training may have been a lot at once",
            advice=(
                "Back pain often follows a quick rise in distance, speed or number of runs. "
                "Drop back to a level that feels comfortable, then build up again in small "
                "steps with a rest day between runs, moving on only when your back is no "
                "worse the next morning."
            ),
            program_slug="graded-return-to-running",
        ),
        Factor(
            code="worn_shoes",
            title="Your shoes may be due for replacing",
            advice=(
                "Running shoes lose their cushioning and support with use, and most "
                "runners replace them every 500 to 800 km. Yours have done 500 km or more, "
                "so a new pair is worth considering."
            ),
        ),
        Factor(
            code="hard_surface",
            title="Softer ground may be kinder to your back",
            advice=(
                "You run on roads or pavements only. Moving some runs onto grass, trails or "
                "a track softens the jolt that travels up to your back, and varying your "
                "routes spreads the load."
            ),
        ),
        Factor(
            code="poor_sleep_or_stress",
            title="Sleep and stress can turn pain up",
            advice=(
                "Poor sleep and stress can make pain feel stronger and slow your recovery. "
                "A regular bedtime, time to wind down and lighter training in busy weeks "
                "are all worth a try."
            ),
        ),
    )
}


# Short names for staff lists (the dashboard's queue); patients see the titles.
FACTOR_SHORT_NAMES: dict[str, str] = {
    "nerve_symptoms": "Leg symptoms",
    "not_only_running": "Pain outside running",
    "glute_dominant_back": "Back over glutes",
    "tight_hip_flexors": "Tight hip flexors",
    "weak_core": "Trunk endurance",
    "load_jump": "Load jump",
    "worn_shoes": "Worn shoes",
    "hard_surface": "Hard surfaces",
    "poor_sleep_or_stress": "Sleep or stress",
}


def _factor_codes(answers: Mapping[str, Answer]) -> list[str]:
    codes: list[str] = []
    if answers.get("pain_into_leg") is True or answers.get("numbness_or_weakness") is True:
        codes.append("nerve_symptoms")
    if answers.get("pain_timing") == "other_times_too":
        codes.append("not_only_running")
    if answers.get("glute_test_result") == "lower_back_hardest":
        codes.append("glute_dominant_back")
    if answers.get("hip_flexor_test_result") == "cannot_move_forward_much":
        codes.append("tight_hip_flexors")
    plank = answers.get("plank_hold_seconds")
    if isinstance(plank, int | float) and plank < WEAK_CORE_PLANK_SECONDS:
        codes.append("weak_core")
    if answers.get("load_jump") is True:
        codes.append("load_jump")
    shoe_km = answers.get("shoe_km")
    if isinstance(shoe_km, int | float) and shoe_km >= WORN_SHOES_KM:
        codes.append("worn_shoes")
    surfaces = answers.get("running_surface") or ()
    if isinstance(surfaces, tuple) and "road" in surfaces and not SOFTER_SURFACES & set(surfaces):
        codes.append("hard_surface")
    if answers.get("sleep") == "poor" or answers.get("stress") == "high":
        codes.append("poor_sleep_or_stress")
    return codes


def suggested_program_slug(factors: tuple[Factor, ...] | list[Factor]) -> str | None:
    """The one programme to suggest for these factors.

    None when a factor calls for a physio first (leg symptoms, or pain outside
    running): self-help waits for the consult. Otherwise the programme of the
    first factor in ``PROGRAM_PRIORITY``, or the runner's low back starter
    when no factor names one.
    """
    codes = {factor.code for factor in factors}
    if codes & CONSULT_FIRST:
        return None
    for code in PROGRAM_PRIORITY:
        if code in codes:
            return FACTORS[code].program_slug
    return DEFAULT_PROGRAM_SLUG


def _score_runner_back(answers: Mapping[str, Answer]) -> dict[str, Any]:
    factors = tuple(FACTORS[code] for code in _factor_codes(answers))
    return {"factors": factors, "suggested_program_slug": suggested_program_slug(factors)}


# Dispatch --------------------------------------------------------------------

SCORERS: dict[str, Callable[[Mapping[str, Answer]], dict[str, Any]]] = {
    "runner_back": _score_runner_back,
    "red_flags": _score_red_flags,
    "nprs": _score_nprs,
    "startback": _score_startback,
    "odi": _score_odi,
    "rmdq": _score_rmdq,
}


def score(instrument_code: str, answers: Mapping[str, object]) -> ScoreResult:
    """Validate the answers and score them; raises ``ValueError`` if they are wrong."""
    instrument = get_instrument(instrument_code)
    clean = validate_answers(instrument, answers)
    return ScoreResult(
        instrument=instrument.code, version=instrument.version, **SCORERS[instrument.code](clean)
    )


# Change over time ------------------------------------------------------------

# Minimal important change: the smallest change worth acting on. Lower scores
# are better on all three.
MINIMAL_IMPORTANT_CHANGE: dict[str, int] = {"nprs": 2, "odi": 10, "rmdq": 3}


@dataclass(frozen=True)
class Change:
    instrument: str
    previous: int | float
    current: int | float
    delta: int | float
    mic: int
    meaningful: bool
    direction: str  # "improved" | "worse" | "unchanged"

    @property
    def improved(self) -> bool:
        return self.meaningful and self.direction == "improved"

    @property
    def worse(self) -> bool:
        return self.meaningful and self.direction == "worse"


def change(instrument_code: str, previous: ScoreResult, current: ScoreResult) -> Change:
    """How the total moved from ``previous`` to ``current``, judged against the
    minimal important change (NPRS 2 points, ODI 10, RMDQ 3)."""
    if instrument_code not in MINIMAL_IMPORTANT_CHANGE:
        raise ValueError(f"no minimal important change is defined for {instrument_code!r}")
    for result in (previous, current):
        if result.instrument != instrument_code:
            raise ValueError(f"a {result.instrument} score cannot be compared as {instrument_code}")
        if not isinstance(result.total, int | float) or isinstance(result.total, bool):
            raise ValueError(f"{instrument_code}: a score without a total cannot be compared")
    assert previous.total is not None and current.total is not None
    # Decimal keeps 32.2 - 22.2 at exactly 10, where floats would wobble.
    exact = Decimal(str(current.total)) - Decimal(str(previous.total))
    delta: int | float = int(exact) if exact == exact.to_integral_value() else float(exact)
    mic = MINIMAL_IMPORTANT_CHANGE[instrument_code]
    direction = "improved" if exact < 0 else "worse" if exact > 0 else "unchanged"
    return Change(
        instrument=instrument_code,
        previous=previous.total,
        current=current.total,
        delta=delta,
        mic=mic,
        meaningful=abs(exact) >= mic,
        direction=direction,
    )
