"""The instrument definitions, one TOML file per instrument.

The engine that loads and checks them lives in :mod:`triage.engine`; its public
names are re-exported here for convenience.
"""

from triage.engine import (
    INSTRUMENT_CODES,
    AnswerError,
    Choice,
    Condition,
    InstalledText,
    Instrument,
    InstrumentError,
    Item,
    get_instrument,
    instrument_notice,
    instrument_text,
    is_available_to_patients,
    validate_answers,
    visible_items,
    with_installed_text,
)

__all__ = [
    "INSTRUMENT_CODES",
    "AnswerError",
    "Choice",
    "Condition",
    "InstalledText",
    "Instrument",
    "InstrumentError",
    "Item",
    "get_instrument",
    "instrument_notice",
    "instrument_text",
    "is_available_to_patients",
    "validate_answers",
    "visible_items",
    "with_installed_text",
]
