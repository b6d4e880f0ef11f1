"""The questionnaire engine: instruments as versioned data, answers checked and coerced.

Each instrument lives in ``triage/instruments/<code>.toml`` and is loaded into
frozen dataclasses. Items are named by the construct they measure, never by
their position, so reordering a questionnaire never changes what a stored
answer means; bump the instrument's ``version`` when an item's meaning or its
choices change.

Licensed instruments (STarT Back, ODI, RMDQ) ship without wording: their TOML
holds structure only, and a clinic installs the official wording itself. The
engine reads and writes that wording through two pluggable functions,
``installed_text_provider`` and ``install_text``, which the app points at its
storage (see ``configure_text_storage``). Until then no wording is installed
and licensed instruments are not offered to patients.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"
INSTRUMENT_CODES: tuple[str, ...] = (
    "runner_back",
    "red_flags",
    "nprs",
    "startback",
    "odi",
    "rmdq",
)

ITEM_TYPES = frozenset(
    {"boolean", "single_choice", "multiple_choice", "scale_0_10", "number", "date", "text"}
)
CHOICE_TYPES = frozenset({"single_choice", "multiple_choice"})
RED_FLAG_GROUPS: tuple[str, ...] = ("cauda_equina", "cancer", "infection", "fracture")
TEXT_MAX_LENGTH = 2000

_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_CHOICE_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_INTEGER_RE = re.compile(r"^[+-]?\d+$")
_DECIMAL_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
_TRUE = frozenset({"true", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "no", "n", "off", "0"})

_INSTRUMENT_KEYS = {"code", "version", "title", "description", "licensed", "stratifies", "item"}
_ITEM_REQUIRED = {"code", "type", "required"}
_ITEM_OPTIONAL = {
    "text",
    "help",
    "choices",
    "min",
    "max",
    "unit",
    "condition",
    "group",
    "step",
    "section",
}

Answer = bool | int | float | str | dt.date | tuple[str | int, ...]


class InstrumentError(ValueError):
    """An instrument definition (TOML) or an installed wording is malformed."""


class AnswerError(ValueError):
    """An answer is missing, unknown or of the wrong kind.

    ``item`` is the code of the item at fault (``None`` when the problem is the
    answers as a whole), so a form can attach the message to the right field.
    """

    def __init__(self, item: str | None, message: str) -> None:
        self.item = item
        super().__init__(f"{item}: {message}" if item else message)


# Definitions -----------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    code: str | int
    label: str


@dataclass(frozen=True)
class Condition:
    """Show the item only when another (earlier) item has this value.

    For a multiple-choice item the condition holds when ``equals`` is among
    the ticked choices.
    """

    item: str
    equals: bool | int | str


@dataclass(frozen=True)
class Item:
    code: str
    type: str
    text: str | None = None
    help: str | None = None
    required: bool = True
    choices: tuple[Choice, ...] = ()
    min: int | float | None = None
    max: int | float | None = None
    condition: Condition | None = None
    group: str | None = None
    step: int = 1
    section: str | None = None
    unit: str | None = None

    @property
    def choice_codes(self) -> tuple[str | int, ...]:
        return tuple(choice.code for choice in self.choices)

    def choice(self, code: str | int) -> Choice:
        for choice in self.choices:
            if choice.code == code:
                return choice
        raise KeyError(code)


@dataclass(frozen=True)
class Instrument:
    code: str
    version: str
    title: str
    description: str
    licensed: bool
    stratifies: bool
    items: tuple[Item, ...] = field(default=())

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items)

    @property
    def steps(self) -> tuple[int, ...]:
        return tuple(sorted({item.step for item in self.items}))

    def item(self, code: str) -> Item:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)


# Loading ---------------------------------------------------------------------


def _fail(where: str, message: str) -> InstrumentError:
    return InstrumentError(f"{where}: {message}")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parse_item(data: Mapping[str, Any], where: str, licensed: bool) -> Item:
    keys = set(data)
    if missing := _ITEM_REQUIRED - keys:
        raise _fail(where, f"missing {', '.join(sorted(missing))}")
    if unknown := keys - _ITEM_REQUIRED - _ITEM_OPTIONAL:
        raise _fail(where, f"unknown keys {', '.join(sorted(unknown))}")
    code, kind = data["code"], data["type"]
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise _fail(where, f"bad item code {code!r}")
    where = f"{where} ({code})"
    if kind not in ITEM_TYPES:
        raise _fail(where, f"unknown type {kind!r}")
    if not isinstance(data["required"], bool):
        raise _fail(where, "required must be true or false")
    # Licensed wording may not ship in any form, so licensed items carry
    # neither a question nor a help text of ours that could paraphrase it.
    if licensed and ("text" in data or "help" in data):
        raise _fail(where, "a licensed instrument ships no text or help")
    if not licensed and not isinstance(data.get("text"), str):
        raise _fail(where, "text is required")
    for key in ("help", "section", "unit", "group"):
        if key in data and not isinstance(data[key], str):
            raise _fail(where, f"{key} must be a string")
    if "group" in data and data["group"] not in RED_FLAG_GROUPS:
        raise _fail(where, f"unknown group {data['group']!r}")
    step = data.get("step", 1)
    if not isinstance(step, int) or isinstance(step, bool) or step < 1:
        raise _fail(where, "step must be a positive integer")

    choices: list[Choice] = []
    if kind in CHOICE_TYPES:
        raw = data.get("choices")
        if not isinstance(raw, list) or not raw:
            raise _fail(where, "a choice item needs choices")
        for entry in raw:
            if not isinstance(entry, dict) or set(entry) != {"code", "label"}:
                raise _fail(where, "each choice is {code, label}")
            choice_code, label = entry["code"], entry["label"]
            valid_code = (isinstance(choice_code, int) and not isinstance(choice_code, bool)) or (
                isinstance(choice_code, str) and _CHOICE_CODE_RE.match(choice_code)
            )
            if not valid_code or not isinstance(label, str) or not label:
                raise _fail(where, f"bad choice {entry!r}")
            choices.append(Choice(code=choice_code, label=label))
        if len({str(c.code) for c in choices}) != len(choices):
            raise _fail(where, "duplicate choice codes")
    elif "choices" in data:
        raise _fail(where, f"a {kind} item has no choices")

    low, high = data.get("min"), data.get("max")
    if kind == "scale_0_10":
        if low is not None or high is not None:
            raise _fail(where, "a 0-10 scale has a fixed range")
        low, high = 0, 10
    elif kind == "number":
        if not _is_number(low) or not _is_number(high) or low > high:
            raise _fail(where, "a number needs min <= max")
    elif low is not None or high is not None:
        raise _fail(where, f"a {kind} item has no min or max")

    return Item(
        code=code,
        type=kind,
        text=data.get("text"),
        help=data.get("help"),
        required=data["required"],
        choices=tuple(choices),
        min=low,
        max=high,
        condition=None,  # resolved by the caller, which knows the earlier items
        group=data.get("group"),
        step=step,
        section=data.get("section"),
        unit=data.get("unit"),
    )


def _parse_condition(raw: object, where: str, earlier: Mapping[str, Item]) -> Condition:
    if not isinstance(raw, dict) or set(raw) != {"item", "equals"}:
        raise _fail(where, "condition is {item, equals}")
    target = earlier.get(raw["item"])
    if target is None:
        # Only earlier items: answers are coerced in order, so the value a
        # condition looks at is always settled before it is needed.
        raise _fail(where, f"condition refers to {raw['item']!r}, which is not an earlier item")
    try:
        if target.type == "multiple_choice":
            equals = _coerce_choice(target, raw["equals"])
        else:
            equals = coerce_answer(target, raw["equals"])
    except AnswerError as exc:
        raise _fail(where, f"condition value: {exc}") from exc
    if isinstance(equals, tuple | dt.date | float):
        raise _fail(where, "a condition compares with a yes/no, a choice or a whole number")
    return Condition(item=target.code, equals=equals)


def parse_instrument(data: Mapping[str, Any], *, where: str = "instrument") -> Instrument:
    """Build an :class:`Instrument` from parsed TOML, checking it thoroughly."""
    keys = set(data)
    if missing := _INSTRUMENT_KEYS - keys:
        raise _fail(where, f"missing {', '.join(sorted(missing))}")
    if unknown := keys - _INSTRUMENT_KEYS:
        raise _fail(where, f"unknown keys {', '.join(sorted(unknown))}")
    for key in ("code", "version", "title", "description"):
        if not isinstance(data[key], str) or not data[key]:
            raise _fail(where, f"{key} must be a non-empty string")
    for key in ("licensed", "stratifies"):
        if not isinstance(data[key], bool):
            raise _fail(where, f"{key} must be true or false")
    if not isinstance(data["item"], list) or not data["item"]:
        raise _fail(where, "an instrument needs at least one [[item]]")

    licensed = data["licensed"]
    items: dict[str, Item] = {}
    for position, raw in enumerate(data["item"], start=1):
        item_where = f"{where} item {position}"
        if not isinstance(raw, dict):
            raise _fail(item_where, "each item is a table")
        item = _parse_item(raw, item_where, licensed)
        if item.code in items:
            raise _fail(item_where, f"duplicate item code {item.code!r}")
        if "condition" in raw:
            condition = _parse_condition(raw["condition"], f"{item_where} ({item.code})", items)
            item = replace(item, condition=condition)
        items[item.code] = item
    return Instrument(
        code=data["code"],
        version=data["version"],
        title=data["title"],
        description=data["description"],
        licensed=licensed,
        stratifies=data["stratifies"],
        items=tuple(items.values()),
    )


@cache
def get_instrument(code: str) -> Instrument:
    """The instrument with this code, loaded once from its TOML file."""
    if code not in INSTRUMENT_CODES:
        raise ValueError(f"unknown instrument {code!r}")
    path = INSTRUMENTS_DIR / f"{code}.toml"
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    instrument = parse_instrument(data, where=path.name)
    if instrument.code != code:
        raise InstrumentError(f"{path.name}: code {instrument.code!r} differs from the file name")
    return instrument


def _resolve(instrument: Instrument | str) -> Instrument:
    return get_instrument(instrument) if isinstance(instrument, str) else instrument


# Answers ---------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | set | frozenset) and not value


def _short(value: object) -> str:
    """A short, safe rendering of a rejected value for an error message."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, bool | float) or (isinstance(value, int) and abs(value) < 10**40):
        return repr(value)
    return f"a {type(value).__name__}"


def _coerce_boolean(item: Item, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise AnswerError(item.code, "expected yes or no")


def _coerce_number(item: Item, value: object) -> int | float:
    number: int | float
    if isinstance(value, bool):
        raise AnswerError(item.code, "expected a number")
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str) and _INTEGER_RE.match(value.strip()):
        number = int(value.strip())
    elif isinstance(value, str) and _DECIMAL_RE.match(value.strip()):
        number = float(value.strip())
    else:
        raise AnswerError(item.code, "expected a number")
    if isinstance(number, float):
        if not math.isfinite(number):
            raise AnswerError(item.code, "expected a finite number")
        if number.is_integer():
            number = int(number)
    assert item.min is not None and item.max is not None
    if not item.min <= number <= item.max:
        raise AnswerError(item.code, f"must be between {item.min} and {item.max}")
    return number


def _coerce_choice(item: Item, value: object) -> str | int:
    if isinstance(value, str | int) and not isinstance(value, bool):
        wanted = str(value).strip()
        for choice in item.choices:
            if str(choice.code) == wanted:
                return choice.code
    raise AnswerError(item.code, f"unknown choice {_short(value)}")


def _coerce_date(item: Item, value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        raise AnswerError(item.code, "expected a date without a time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise AnswerError(item.code, "expected a date (YYYY-MM-DD)")


def coerce_answer(item: Item, value: object) -> Answer:
    """One answer, coerced to its item's type; raises :class:`AnswerError`.

    Form input arrives as strings, stored JSON as native values: both are
    accepted (``"yes"``/``True``, ``"7"``/``7``, ``"2025-05-01"``/``date``).
    Multiple-choice answers come back as a tuple in the instrument's order.
    """
    try:
        return _coerce(item, value)
    except AnswerError:
        raise
    except (ValueError, OverflowError) as exc:
        # Python itself refuses some values (an integer of thousands of
        # digits cannot even be printed); they are simply wrong answers.
        raise AnswerError(item.code, "not a valid answer") from exc


def _coerce(item: Item, value: object) -> Answer:
    kind = item.type
    if kind == "boolean":
        return _coerce_boolean(item, value)
    if kind == "single_choice":
        return _coerce_choice(item, value)
    if kind == "multiple_choice":
        if not isinstance(value, list | tuple | set | frozenset):
            raise AnswerError(item.code, "expected a list of choices")
        ticked = {_coerce_choice(item, entry) for entry in value}
        return tuple(code for code in item.choice_codes if code in ticked)
    if kind == "scale_0_10":
        number = _coerce_number(item, value)
        if not isinstance(number, int):
            raise AnswerError(item.code, "expected a whole number from 0 to 10")
        return number
    if kind == "number":
        return _coerce_number(item, value)
    if kind == "date":
        return _coerce_date(item, value)
    if kind == "text":
        if not isinstance(value, str):
            raise AnswerError(item.code, "expected text")
        text = value.strip()
        if len(text) > TEXT_MAX_LENGTH:
            raise AnswerError(item.code, f"must be at most {TEXT_MAX_LENGTH} characters")
        return text
    raise AssertionError(f"unhandled item type {kind!r}")  # pragma: no cover


def _condition_met(condition: Condition | None, values: Mapping[str, Answer]) -> bool:
    if condition is None:
        return True
    value = values.get(condition.item)
    if isinstance(value, tuple):
        return condition.equals in value
    # bool is an int: keep True from matching a choice coded 1.
    return type(value) is type(condition.equals) and value == condition.equals


def _walk(
    instrument: Instrument, answers: Mapping[str, object], *, strict: bool
) -> Iterable[tuple[Item, Answer | None]]:
    """Yield each visible item with its coerced answer (None when unanswered).

    Items come in order, so a condition sees the settled value of the earlier
    item it depends on. A hidden item's answer is never looked at. With
    ``strict`` off an invalid answer counts as unanswered instead of raising.
    """
    values: dict[str, Answer] = {}
    for item in instrument.items:
        if not _condition_met(item.condition, values):
            continue
        raw = answers.get(item.code)
        value: Answer | None = None
        if not _is_missing(raw):
            try:
                value = coerce_answer(item, raw)
            except AnswerError:
                if strict:
                    raise
        if value is not None:
            values[item.code] = value
        yield item, value


def visible_items(
    instrument: Instrument | str,
    answers: Mapping[str, object] | None = None,
    *,
    step: int | None = None,
) -> list[Item]:
    """The items to show given the answers so far, optionally for one step only.

    Invalid answers are treated as unanswered here, so the form can still be
    drawn; :func:`validate_answers` reports them.
    """
    instrument = _resolve(instrument)
    shown = [item for item, _ in _walk(instrument, answers or {}, strict=False)]
    if step is not None:
        shown = [item for item in shown if item.step == step]
    return shown


def validate_answers(
    instrument: Instrument | str, answers: Mapping[str, object]
) -> dict[str, Answer]:
    """Check and coerce a complete set of answers.

    Returns the answers of the visible items, coerced and in the instrument's
    order, leaving out unanswered optional items and every hidden item (a
    conditional item whose condition no longer holds is dropped even if it has
    a stale value). Raises :class:`AnswerError` (a ``ValueError``) naming the
    item for an unknown item code, a value of the wrong type, a number out of
    range, an unknown choice, or a required visible item left unanswered.
    """
    instrument = _resolve(instrument)
    if not isinstance(answers, Mapping):
        raise AnswerError(None, "answers must be a mapping of item codes to values")
    known = set(instrument.item_codes)
    for key in answers:
        if key not in known:
            raise AnswerError(str(key), f"not an item of {instrument.code}")
    clean: dict[str, Answer] = {}
    for item, value in _walk(instrument, answers, strict=True):
        if value is None:
            if item.required:
                raise AnswerError(item.code, "is required")
            continue
        clean[item.code] = value
    return clean


# Licensed wording ------------------------------------------------------------


@dataclass(frozen=True)
class InstalledText:
    """A clinic's installed wording for one version of a licensed instrument.

    ``texts`` maps item codes to their wording; a key ``"<item>.<choice>"``
    holds the wording of one choice (the ODI's statements, for example).
    ``notice`` is the copyright notice that must be shown with the wording.
    """

    texts: Mapping[str, str]
    notice: str = ""


TextProvider = Callable[[str, str], InstalledText | None]
TextWriter = Callable[[str, str, Mapping[str, str], str], None]


def installed_text_provider(code: str, version: str) -> InstalledText | None:
    """Pluggable reader: the installed wording of an instrument version, if any.

    Replaced by the app (see :func:`configure_text_storage`); by default
    nothing is installed.
    """
    return None


def install_text(code: str, version: str, texts: Mapping[str, str], notice: str) -> None:
    """Pluggable writer: store a clinic-installed wording for an instrument version.

    Replaced by the app (see :func:`configure_text_storage`); it should
    replace any wording stored for the same instrument and version.
    """
    raise NotImplementedError("storage not configured")


def configure_text_storage(*, provider: TextProvider, writer: TextWriter) -> None:
    """Point the engine at the storage of installed wording (call once at start-up)."""
    global installed_text_provider, install_text
    installed_text_provider = provider
    install_text = writer


def _installed(instrument: Instrument) -> InstalledText | None:
    # Looked up through the module each time, so configure_text_storage and
    # monkeypatching both take effect.
    return installed_text_provider(instrument.code, instrument.version)


def instrument_text(code: str) -> dict[str, str] | None:
    """The installed wording of an instrument's current version, or None."""
    installed = _installed(get_instrument(code))
    return dict(installed.texts) if installed is not None else None


def instrument_notice(code: str) -> str | None:
    """The copyright notice installed with the wording, or None."""
    installed = _installed(get_instrument(code))
    return installed.notice if installed is not None else None


def is_available_to_patients(instrument: Instrument | str) -> bool:
    """Our own instruments always; a licensed one only with wording for every item."""
    instrument = _resolve(instrument)
    if not instrument.licensed:
        return True
    installed = _installed(instrument)
    if installed is None:
        return False
    return all(
        isinstance(installed.texts.get(code), str) and installed.texts[code].strip()
        for code in instrument.item_codes
    )


def with_installed_text(instrument: Instrument | str) -> Instrument:
    """The instrument with any installed wording filled in, ready to show a patient."""
    instrument = _resolve(instrument)
    if not instrument.licensed:
        return instrument
    installed = _installed(instrument)
    if installed is None:
        return instrument
    texts = installed.texts
    items = []
    for item in instrument.items:
        choices = tuple(
            replace(choice, label=texts.get(f"{item.code}.{choice.code}", choice.label))
            for choice in item.choices
        )
        items.append(replace(item, text=texts.get(item.code, item.text), choices=choices))
    return replace(instrument, items=tuple(items))


def validate_installed_text(
    instrument: Instrument | str, texts: Mapping[str, object]
) -> dict[str, str]:
    """Check a wording before it is installed; returns it cleaned.

    Every item needs its wording, every key must name an item (or an item's
    choice as ``"<item>.<choice>"``), and each value must be non-empty text.
    Raises :class:`InstrumentError` listing what is wrong.
    """
    instrument = _resolve(instrument)
    problems: list[str] = []
    clean: dict[str, str] = {}
    for key, value in texts.items():
        key = str(key)
        item_code, _, choice_code = key.partition(".")
        if item_code not in instrument.item_codes:
            problems.append(f"unknown item code {key!r}")
            continue
        item = instrument.item(item_code)
        if choice_code and choice_code not in {str(code) for code in item.choice_codes}:
            problems.append(f"unknown choice {key!r}")
            continue
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{key}: wording must be non-empty text")
            continue
        clean[key] = value.strip()
    if missing := [code for code in instrument.item_codes if code not in texts]:
        problems.append(f"no wording for {', '.join(missing)}")
    if problems:
        raise InstrumentError(f"{instrument.code} {instrument.version}: " + "; ".join(problems))
    return clean
