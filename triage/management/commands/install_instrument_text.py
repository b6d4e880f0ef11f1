"""Install a clinic's licensed wording for an instrument (STarT Back, ODI, RMDQ).

    python manage.py install_instrument_text startback wording.toml

The file (TOML or JSON) maps item codes to their wording, with an optional
``notice`` holding the copyright notice to show alongside. A choice's wording
goes under ``"<item>.<choice>"``, or in a table per item::

    notice = "© ..."
    referred_leg_pain = "..."
    [section_1]
    text = "..."
    choices = { 0 = "...", 1 = "..." }

The wording is checked against the instrument's current version (every item,
no unknown codes) and stored with ``triage.engine.install_text``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from triage import engine


def read_wording(path: Path) -> dict[str, Any]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            with path.open("rb") as handle:
                data: Any = tomllib.load(handle)
        elif suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        else:
            raise CommandError(f"{path.name}: expected a .toml or .json file")
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise CommandError(f"{path.name}: expected a mapping of item codes to wording")
    return data


def flatten(data: dict[str, Any]) -> tuple[dict[str, object], str]:
    """Split off the notice and unfold per-item tables into flat keys."""
    data = dict(data)
    notice = data.pop("notice", "")
    if not isinstance(notice, str):
        raise CommandError("notice must be text")
    texts: dict[str, object] = {}
    for key, value in data.items():
        if not isinstance(value, dict):
            texts[key] = value
            continue
        if unknown := set(value) - {"text", "choices"}:
            raise CommandError(f"{key}: unknown keys {', '.join(sorted(unknown))}")
        if "text" in value:
            texts[key] = value["text"]
        choices = value.get("choices", {})
        if not isinstance(choices, dict):
            raise CommandError(f"{key}: choices must map choice codes to wording")
        for choice, label in choices.items():
            texts[f"{key}.{choice}"] = label
    return texts, notice.strip()


class Command(BaseCommand):
    help = (
        "Install the official wording of a licensed instrument from a TOML or JSON file "
        "mapping item codes to text (plus an optional copyright `notice`)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("instrument", help="Instrument code, e.g. startback, odi, rmdq.")
        parser.add_argument("file", type=Path, help="TOML or JSON file with the wording.")

    def handle(self, *args: Any, **options: Any) -> None:
        code: str = options["instrument"]
        try:
            instrument = engine.get_instrument(code)
        except ValueError as exc:
            raise CommandError(f"{exc}; choose from {', '.join(engine.INSTRUMENT_CODES)}") from exc
        if not instrument.licensed:
            raise CommandError(f"{code} ships with its own wording; nothing to install")

        texts, notice = flatten(read_wording(options["file"]))
        try:
            clean = engine.validate_installed_text(instrument, texts)
        except engine.InstrumentError as exc:
            raise CommandError(str(exc)) from exc
        try:
            # Through the module, so the storage the app configured is used.
            engine.install_text(instrument.code, instrument.version, clean, notice)
        except NotImplementedError as exc:
            raise CommandError(f"cannot store the wording: {exc}") from exc

        items = sum(1 for key in clean if "." not in key)
        choices = len(clean) - items
        summary = f"Installed wording for {items} items"
        if choices:
            summary += f" and {choices} choices"
        self.stdout.write(
            self.style.SUCCESS(f"{summary} of {instrument.title} ({code} {instrument.version}).")
        )
        if not notice:
            self.stdout.write(
                self.style.WARNING("No copyright notice given: check the licence terms.")
            )
