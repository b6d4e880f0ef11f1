"""Installing a clinic's licensed wording with `manage.py install_instrument_text`.

The storage is pluggable; these tests point it at an in-memory dict. The
wording used here is made up: the real STarT Back, ODI and RMDQ wording is
never part of this repository.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from triage import engine
from triage.engine import InstalledText, InstrumentError, get_instrument

Store = dict[tuple[str, str], InstalledText]


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Store:
    saved: Store = {}

    def provider(code: str, version: str) -> InstalledText | None:
        return saved.get((code, version))

    def writer(code: str, version: str, texts: Mapping[str, str], notice: str) -> None:
        saved[(code, version)] = InstalledText(dict(texts), notice)

    monkeypatch.setattr(engine, "installed_text_provider", provider)
    monkeypatch.setattr(engine, "install_text", writer)
    return saved


def wording(code: str) -> dict[str, str]:
    return {item: f"Made-up wording for {item}." for item in get_instrument(code).item_codes}


def write_toml(path: Path, entries: Mapping[str, Any]) -> Path:
    lines = []
    tables = []
    for key, value in entries.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{json.dumps(key)} = {json.dumps(value)}")
    for key, table in tables:
        lines.append(f"[{key}]")
        for inner, value in table.items():
            if isinstance(value, dict):
                pairs = ", ".join(
                    f"{json.dumps(str(k))} = {json.dumps(v)}" for k, v in value.items()
                )
                lines.append(f"{inner} = {{ {pairs} }}")
            else:
                lines.append(f"{inner} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def install(*args: Any) -> str:
    out = StringIO()
    call_command("install_instrument_text", *[str(a) for a in args], stdout=out)
    return out.getvalue()


# Installing -------------------------------------------------------------------------


def test_a_toml_wording_is_installed_and_makes_startback_available(
    store: Store, tmp_path: Path
) -> None:
    assert not engine.is_available_to_patients("startback")
    file = write_toml(
        tmp_path / "startback.toml", {"notice": "© Made-up Owner", **wording("startback")}
    )

    output = install("startback", file)

    assert "Installed wording for 9 items" in output
    assert store[("startback", "1.0")].notice == "© Made-up Owner"
    assert engine.instrument_text("startback") == wording("startback")
    assert engine.instrument_notice("startback") == "© Made-up Owner"
    assert engine.is_available_to_patients("startback")
    shown = engine.with_installed_text("startback")
    assert shown.item("anxiety").text == "Made-up wording for anxiety."
    # The shipped definition itself stays free of wording.
    assert get_instrument("startback").item("anxiety").text is None


def test_a_json_wording_is_installed(store: Store, tmp_path: Path) -> None:
    file = tmp_path / "rmdq.json"
    file.write_text(json.dumps({**wording("rmdq"), "notice": "© Someone"}), encoding="utf-8")
    install("rmdq", file)
    assert len(store[("rmdq", "1.0")].texts) == 24
    assert engine.is_available_to_patients("rmdq")


def test_choice_wording_can_be_installed_per_item_table(store: Store, tmp_path: Path) -> None:
    entries: dict[str, Any] = {"notice": "© Someone"}
    for item in get_instrument("odi").item_codes:
        entries[item] = {
            "text": f"Made-up heading {item}",
            "choices": {n: f"Made-up statement {item} {n}" for n in range(6)},
        }
    output = install("odi", write_toml(tmp_path / "odi.toml", entries))

    assert "10 items and 60 choices" in output
    texts = store[("odi", "1.0")].texts
    assert texts["section_2"] == "Made-up heading section_2"
    assert texts["section_2.5"] == "Made-up statement section_2 5"
    shown = engine.with_installed_text("odi").item("section_2")
    assert shown.text == "Made-up heading section_2"
    assert shown.choice(5).label == "Made-up statement section_2 5"


def test_choice_wording_can_use_dotted_keys(store: Store, tmp_path: Path) -> None:
    entries = {**wording("startback"), "bothersomeness.very_much": "Made-up: a great deal"}
    install("startback", write_toml(tmp_path / "s.toml", entries))
    label = engine.with_installed_text("startback").item("bothersomeness").choice("very_much").label
    assert label == "Made-up: a great deal"


def test_a_missing_notice_is_allowed_with_a_warning(store: Store, tmp_path: Path) -> None:
    output = install("startback", write_toml(tmp_path / "s.toml", wording("startback")))
    assert "No copyright notice" in output
    assert store[("startback", "1.0")].notice == ""


def test_installing_again_replaces_the_wording(store: Store, tmp_path: Path) -> None:
    install("startback", write_toml(tmp_path / "a.toml", wording("startback")))
    second = {code: f"Second {code}" for code in wording("startback")}
    install("startback", write_toml(tmp_path / "b.toml", second))
    assert engine.instrument_text("startback") == second


# Refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"anxeity": "Typo"}, "unknown item code 'anxeity'"),
        ({"bothersomeness.a_lot": "No such level"}, "unknown choice 'bothersomeness.a_lot'"),
        ({"anxiety": "   "}, "anxiety: wording must be non-empty text"),
        ({"anxiety": 3}, "anxiety: wording must be non-empty text"),
        ({"anxiety": None}, "no wording for anxiety"),
        ({"notice": 5}, "notice must be text"),
        ({"anxiety": {"txt": "x"}}, "unknown keys txt"),
    ],
)
def test_a_faulty_wording_is_refused_and_nothing_is_stored(
    store: Store, tmp_path: Path, entries: dict[str, Any], message: str
) -> None:
    data: dict[str, Any] = {**wording("startback"), **entries}
    data = {key: value for key, value in data.items() if value is not None}
    file = tmp_path / "wording.json"
    file.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        install("startback", file)
    assert store == {}


def test_every_item_needs_wording(store: Store, tmp_path: Path) -> None:
    partial = wording("rmdq")
    del partial["item_3"], partial["item_24"]
    with pytest.raises(CommandError, match="no wording for item_3, item_24"):
        install("rmdq", write_toml(tmp_path / "r.toml", partial))
    assert store == {}


def test_our_own_instruments_need_no_installed_wording(store: Store, tmp_path: Path) -> None:
    file = write_toml(tmp_path / "n.toml", {"pain_now": "x"})
    with pytest.raises(CommandError, match="ships with its own wording"):
        install("nprs", file)


def test_an_unknown_instrument_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"unknown instrument 'phq9'.*startback"):
        install("phq9", write_toml(tmp_path / "p.toml", {"a": "b"}))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("wording.txt", "anxiety: x", "expected a .toml or .json file"),
        ("wording.toml", "anxiety = ", "wording.toml"),
        ("wording.json", "{not json", "wording.json"),
        ("wording.json", "[1, 2]", "expected a mapping"),
    ],
)
def test_unreadable_files_are_refused(
    store: Store, tmp_path: Path, name: str, content: str, message: str
) -> None:
    file = tmp_path / name
    file.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        install("startback", file)


def test_a_missing_file_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No such file"):
        install("startback", tmp_path / "absent.toml")


# The real storage: the database ---------------------------------------------------------


@pytest.mark.django_db
def test_the_command_stores_wording_in_the_database_and_the_engine_reads_it(tmp_path: Path) -> None:
    from triage.models import InstrumentText

    assert engine.instrument_text("startback") is None
    assert not engine.is_available_to_patients("startback")
    assert engine.is_available_to_patients("runner_back")
    install("startback", write_toml(tmp_path / "s.toml", wording("startback")))
    instrument = get_instrument("startback")
    assert InstrumentText.objects.filter(
        instrument="startback", version=instrument.version
    ).count() == len(instrument.items)
    assert engine.is_available_to_patients("startback")
    # Installing again replaces the wording instead of adding to it.
    install("startback", write_toml(tmp_path / "s2.toml", wording("startback")))
    assert InstrumentText.objects.filter(instrument="startback").count() == len(instrument.items)


def test_configure_text_storage_points_the_engine_at_a_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Registered with monkeypatch first so the real defaults come back afterwards.
    monkeypatch.setattr(engine, "installed_text_provider", engine.installed_text_provider)
    monkeypatch.setattr(engine, "install_text", engine.install_text)
    saved: dict[str, InstalledText] = {}
    engine.configure_text_storage(
        provider=lambda code, version: saved.get(f"{code}@{version}"),
        writer=lambda code, version, texts, notice: saved.__setitem__(
            f"{code}@{version}", InstalledText(dict(texts), notice)
        ),
    )
    install("startback", write_toml(tmp_path / "s.toml", wording("startback")))
    assert set(saved) == {"startback@1.0"}
    assert engine.is_available_to_patients("startback")


def test_partial_wording_from_storage_does_not_make_an_instrument_available(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    partial = wording("startback")
    partial["low_mood"] = " "
    monkeypatch.setattr(
        engine, "installed_text_provider", lambda code, version: InstalledText(partial)
    )
    assert not engine.is_available_to_patients("startback")


def test_wording_is_bound_to_the_instrument_version(store: Store) -> None:
    store[("startback", "0.9")] = InstalledText(wording("startback"), "© Old")
    assert engine.instrument_text("startback") is None
    assert not engine.is_available_to_patients("startback")


def test_validate_installed_text_returns_the_cleaned_wording() -> None:
    texts = {**wording("startback"), "anxiety": "  Padded.  "}
    assert engine.validate_installed_text("startback", texts)["anxiety"] == "Padded."
    with pytest.raises(InstrumentError, match=r"startback 1\.0"):
        engine.validate_installed_text("startback", {})
