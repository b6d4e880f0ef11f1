"""Load the shared exercise library from TOML into the database.

The TOML files in this folder are the source of truth for the shared library
(``clinic`` empty). Loading upserts regions by code, shared exercises and
shared programmes by slug, and replaces a shared programme's items; it never
touches a clinic's own exercises or programmes, nor the exercises a clinic has
hidden. A clinic that wants different wording adapts a shared exercise into
its own copy, so reloading the library cannot overwrite a clinic's edits.

Loading is idempotent: rows whose values already match are not saved, so a
second run creates nothing, updates nothing and leaves ``updated_at`` alone.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction

from exercises.models import DOSAGE_FIELDS, Exercise, Program, ProgramItem, Region

LIBRARY_DIR = Path(__file__).resolve().parent
FILES = {"region": "regions.toml", "exercise": "exercises.toml", "program": "programs.toml"}

REGION_KEYS = {"code", "name"}
EXERCISE_REQUIRED = {
    "slug",
    "name",
    "summary",
    "steps",
    "cues",
    "mistakes",
    "safety",
    "category",
    "regions",
    "equipment",
    "difficulty",
    "default_sets",
    "per_side",
    "rest_seconds",
    "illustration",
}
EXERCISE_OPTIONAL = {"default_reps", "default_hold_seconds", "video_url"}
PROGRAM_REQUIRED = {"slug", "name", "goal", "description", "duration_weeks", "item"}
ITEM_REQUIRED = {"exercise", "sets"}
ITEM_OPTIONAL = {"reps", "hold_seconds", "per_side", "week_from", "week_to", "notes"}

# House rules for shared content (see the exercise library brief).
SUMMARY_MAX = 200
LIST_LIMITS = {"steps": (3, 7), "cues": (2, 4), "mistakes": (2, 4), "safety": (1, 3)}

# The fields of Exercise that the library owns, in the order they are compared.
EXERCISE_FIELDS = (
    "name",
    "summary",
    "steps",
    "cues",
    "mistakes",
    "safety",
    "category",
    "equipment",
    "difficulty",
    "default_sets",
    "default_reps",
    "default_hold_seconds",
    "per_side",
    "rest_seconds",
    "illustration",
    "video_url",
    "licence",
)
PROGRAM_FIELDS = ("name", "goal", "description", "duration_weeks")
ITEM_FIELDS = ("exercise_id", *DOSAGE_FIELDS)


@dataclass
class LoadResult:
    """What a load did; `stale_*` lists shared rows the library no longer has
    (left in place: plans may still point at them)."""

    regions_created: int = 0
    regions_updated: int = 0
    exercises_created: int = 0
    exercises_updated: int = 0
    programs_created: int = 0
    programs_updated: int = 0
    stale_exercises: list[str] = field(default_factory=list)
    stale_programs: list[str] = field(default_factory=list)

    @property
    def created(self) -> int:
        return self.regions_created + self.exercises_created + self.programs_created

    @property
    def updated(self) -> int:
        return self.regions_updated + self.exercises_updated + self.programs_updated

    def __str__(self) -> str:
        return (
            f"regions: {self.regions_created} created, {self.regions_updated} updated; "
            f"exercises: {self.exercises_created} created, {self.exercises_updated} updated; "
            f"programs: {self.programs_created} created, {self.programs_updated} updated"
        )


# Reading and validating ------------------------------------------------------


def read_library(directory: Path = LIBRARY_DIR) -> dict[str, Any]:
    """The three TOML files merged into one mapping:
    ``{"licence": str, "region": [...], "exercise": [...], "program": [...]}``."""
    library: dict[str, Any] = {}
    for key, filename in FILES.items():
        with (directory / filename).open("rb") as f:
            data = tomllib.load(f)
        library[key] = data.get(key, [])
        if key == "exercise":
            library["licence"] = data.get("licence", Exercise.SHARED_LICENCE)
    return library


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _check_keys(
    errors: list[str], where: str, row: Mapping[str, Any], required: set[str], optional: set[str]
) -> None:
    for key in sorted(required - row.keys()):
        errors.append(f"{where}: {key} is missing")
    for key in sorted(row.keys() - required - optional):
        errors.append(f"{where}: {key} is not a known field")


def _check_dosage(
    errors: list[str], where: str, sets: Any, reps: Any, hold: Any, names: tuple[str, str, str]
) -> None:
    sets_name, reps_name, hold_name = names
    if not _is_int(sets) or not 1 <= sets <= 20:
        errors.append(f"{where}: {sets_name} must be a whole number from 1 to 20, not {sets!r}")
    if reps is None and hold is None:
        errors.append(f"{where}: give {reps_name} or {hold_name}")
    if reps is not None and (not _is_int(reps) or not 1 <= reps <= 200):
        errors.append(f"{where}: {reps_name} must be a whole number from 1 to 200, not {reps!r}")
    if hold is not None and (not _is_int(hold) or not 1 <= hold <= 600):
        errors.append(f"{where}: {hold_name} must be 1 to 600 seconds, not {hold!r}")


def validate_library(library: Mapping[str, Any]) -> None:
    """Check the whole library before anything is written.

    Raises ValueError listing every problem, each naming the row (by slug or
    code) and the field, e.g. ``program 'x' item 2: exercise 'plonk' is not in
    the library``.
    """
    errors: list[str] = []
    licence = library.get("licence", Exercise.SHARED_LICENCE)
    if not isinstance(licence, str) or not licence.strip():
        errors.append("exercises.toml: licence must be a non-empty string")
    categories = set(Exercise.Category.values)
    equipment = set(Exercise.Equipment.values)

    region_codes: set[str] = set()
    for n, row in enumerate(library.get("region", []), start=1):
        where = f"region {row.get('code', f'#{n}')!r}"
        _check_keys(errors, where, row, REGION_KEYS, set())
        code = row.get("code")
        if not isinstance(code, str) or not code:
            errors.append(f"{where}: code must be a non-empty string")
            continue
        if code in region_codes:
            errors.append(f"{where}: code is used twice")
        region_codes.add(code)
        if not isinstance(row.get("name"), str) or not row.get("name"):
            errors.append(f"{where}: name must be a non-empty string")

    exercises: dict[str, Mapping[str, Any]] = {}
    for n, row in enumerate(library.get("exercise", []), start=1):
        slug = row.get("slug")
        where = f"exercise {slug if slug else f'#{n}'!r}"
        _check_keys(errors, where, row, EXERCISE_REQUIRED, EXERCISE_OPTIONAL)
        if not isinstance(slug, str) or not slug:
            errors.append(f"{where}: slug must be a non-empty string")
            continue
        if slug in exercises:
            errors.append(f"{where}: slug is used twice")
        exercises[slug] = row
        for key in ("name", "summary"):
            if key in row and (not isinstance(row[key], str) or not row[key].strip()):
                errors.append(f"{where}: {key} must be a non-empty string")
        if isinstance(row.get("summary"), str) and len(row["summary"]) > SUMMARY_MAX:
            errors.append(f"{where}: summary is longer than {SUMMARY_MAX} characters")
        for key, (low, high) in LIST_LIMITS.items():
            if key not in row:
                continue
            if not _is_str_list(row[key]):
                errors.append(f"{where}: {key} must be a list of non-empty strings")
            elif not low <= len(row[key]) <= high:
                errors.append(f"{where}: {key} needs {low} to {high} lines, has {len(row[key])}")
        if "category" in row and row["category"] not in categories:
            errors.append(
                f"{where}: category {row['category']!r} is not one of {sorted(categories)}"
            )
        if "equipment" in row and row["equipment"] not in equipment:
            errors.append(
                f"{where}: equipment {row['equipment']!r} is not one of {sorted(equipment)}"
            )
        regions = row.get("regions")
        if "regions" in row and (not _is_str_list(regions) or not regions):
            errors.append(f"{where}: regions must be a non-empty list of region codes")
        elif regions:
            for code in regions:
                if code not in region_codes:
                    errors.append(f"{where}: regions: {code!r} is not a region in regions.toml")
        if "difficulty" in row and (
            not _is_int(row["difficulty"]) or not 1 <= row["difficulty"] <= 3
        ):
            errors.append(f"{where}: difficulty must be 1, 2 or 3")
        _check_dosage(
            errors,
            where,
            row.get("default_sets"),
            row.get("default_reps"),
            row.get("default_hold_seconds"),
            ("default_sets", "default_reps", "default_hold_seconds"),
        )
        if "per_side" in row and not isinstance(row["per_side"], bool):
            errors.append(f"{where}: per_side must be true or false")
        rest = row.get("rest_seconds")
        if "rest_seconds" in row and (not _is_int(rest) or not 0 <= rest <= 600):
            errors.append(f"{where}: rest_seconds must be 0 to 600")
        picture = row.get("illustration")
        if "illustration" in row and (
            not isinstance(picture, str)
            or not picture.startswith("exercises/")
            or not picture.endswith(".svg")
        ):
            errors.append(f"{where}: illustration must be a path like 'exercises/{slug}.svg'")

    program_slugs: set[str] = set()
    for n, row in enumerate(library.get("program", []), start=1):
        slug = row.get("slug")
        where = f"program {slug if slug else f'#{n}'!r}"
        _check_keys(errors, where, row, PROGRAM_REQUIRED, set())
        if not isinstance(slug, str) or not slug:
            errors.append(f"{where}: slug must be a non-empty string")
            continue
        if slug in program_slugs:
            errors.append(f"{where}: slug is used twice")
        program_slugs.add(slug)
        weeks = row.get("duration_weeks")
        if not _is_int(weeks) or not 1 <= weeks <= 52:
            errors.append(f"{where}: duration_weeks must be 1 to 52")
            weeks = 52
        if len(str(row.get("goal", ""))) > 200:
            errors.append(f"{where}: goal is longer than 200 characters")
        items = row.get("item", [])
        if not isinstance(items, list) or not items:
            errors.append(f"{where}: needs at least one [[program.item]]")
            continue
        for i, item in enumerate(items, start=1):
            at = f"{where} item {i}"
            _check_keys(errors, at, item, ITEM_REQUIRED, ITEM_OPTIONAL)
            name = item.get("exercise")
            if name not in exercises:
                errors.append(f"{at}: exercise {name!r} is not in the library")
            _check_dosage(
                errors,
                at,
                item.get("sets"),
                item.get("reps"),
                item.get("hold_seconds"),
                ("sets", "reps", "hold_seconds"),
            )
            if "per_side" in item and not isinstance(item["per_side"], bool):
                errors.append(f"{at}: per_side must be true or false")
            start, end = item.get("week_from", 1), item.get("week_to")
            if not _is_int(start) or not 1 <= start <= weeks:
                errors.append(f"{at}: week_from must be 1 to {weeks}")
            elif end is not None and (not _is_int(end) or not start <= end <= weeks):
                errors.append(f"{at}: week_to must be {start} to {weeks}")
            if len(str(item.get("notes", ""))) > 240:
                errors.append(f"{at}: notes are longer than 240 characters")

    if errors:
        raise ValueError("The exercise library has problems:\n- " + "\n- ".join(errors))


# Writing ------------------------------------------------------------------------


def _set_changed(obj: Any, values: Mapping[str, Any]) -> list[str]:
    """Set the values that differ; return their field names."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def _save(obj: Any, using: str, changed: Iterable[str] | None = None) -> None:
    obj._state.db = using  # full_clean checks constraints against this database
    obj.full_clean()
    if changed is None:
        obj.save(using=using)
    else:
        obj.save(using=using, update_fields=[*changed, "updated_at"])


def _load_regions(
    rows: list[Mapping[str, Any]], using: str, result: LoadResult
) -> dict[str, Region]:
    regions = {r.code: r for r in Region.objects.using(using).all()}
    for row in rows:
        region = regions.get(row["code"])
        if region is None:
            region = Region(code=row["code"], name=row["name"])
            region._state.db = using
            region.full_clean()
            region.save(using=using)
            regions[region.code] = region
            result.regions_created += 1
        elif changed := _set_changed(region, {"name": row["name"]}):
            region.full_clean()
            region.save(using=using, update_fields=changed)
            result.regions_updated += 1
    return regions


def _exercise_values(row: Mapping[str, Any], licence: str) -> dict[str, Any]:
    return {
        "name": row["name"],
        "summary": row["summary"],
        "steps": list(row["steps"]),
        "cues": list(row["cues"]),
        "mistakes": list(row["mistakes"]),
        "safety": list(row["safety"]),
        "category": row["category"],
        "equipment": row["equipment"],
        "difficulty": row["difficulty"],
        "default_sets": row["default_sets"],
        "default_reps": row.get("default_reps"),
        "default_hold_seconds": row.get("default_hold_seconds"),
        "per_side": row["per_side"],
        "rest_seconds": row["rest_seconds"],
        "illustration": row["illustration"],
        "video_url": row.get("video_url", ""),
        "licence": licence,
    }


def _load_exercises(
    rows: list[Mapping[str, Any]],
    licence: str,
    regions: Mapping[str, Region],
    using: str,
    result: LoadResult,
) -> dict[str, Exercise]:
    shared = {e.slug: e for e in Exercise.objects.using(using).shared().prefetch_related("regions")}
    for row in rows:
        values = _exercise_values(row, licence)
        wanted = [regions[code] for code in row["regions"]]
        exercise = shared.get(row["slug"])
        if exercise is None:
            exercise = Exercise(clinic=None, slug=row["slug"], **values)
            _save(exercise, using)
            exercise.regions.set(wanted)
            shared[exercise.slug] = exercise
            result.exercises_created += 1
            continue
        changed = _set_changed(exercise, values)
        regions_differ = {r.code for r in exercise.regions.all()} != set(row["regions"])
        if changed:
            _save(exercise, using, changed)
        if regions_differ:
            exercise.regions.set(wanted)
        if changed or regions_differ:
            result.exercises_updated += 1
    library_slugs = {row["slug"] for row in rows}
    result.stale_exercises = sorted(set(shared) - library_slugs)
    return shared


def _item_values(
    item: Mapping[str, Any], order: int, exercises: Mapping[str, Exercise]
) -> dict[str, Any]:
    exercise = exercises[item["exercise"]]
    return {
        "exercise_id": exercise.pk,
        "sets": item["sets"],
        "reps": item.get("reps"),
        "hold_seconds": item.get("hold_seconds"),
        "per_side": item.get("per_side", exercise.per_side),
        "week_from": item.get("week_from", 1),
        "week_to": item.get("week_to"),
        "notes": item.get("notes", ""),
        "order": order,
    }


def _load_programs(
    rows: list[Mapping[str, Any]],
    exercises: Mapping[str, Exercise],
    using: str,
    result: LoadResult,
) -> None:
    shared = {
        p.slug: p
        for p in Program.objects.using(using).filter(clinic__isnull=True).prefetch_related("items")
    }
    for row in rows:
        values = {
            "name": row["name"],
            "goal": row["goal"],
            "description": row["description"].strip(),
            "duration_weeks": row["duration_weeks"],
        }
        items = [_item_values(item, n, exercises) for n, item in enumerate(row["item"], start=1)]
        wanted = [tuple(item[name] for name in ITEM_FIELDS) for item in items]
        program = shared.get(row["slug"])
        if program is None:
            program = Program(clinic=None, slug=row["slug"], **values)
            _save(program, using)
            result.programs_created += 1
            current: list[tuple[Any, ...]] = []
        else:
            changed = _set_changed(program, values)
            if changed:
                _save(program, using, changed)
            current = [
                tuple(getattr(item, name) for name in ITEM_FIELDS)
                for item in sorted(program.items.all(), key=lambda i: (i.order, i.pk))
            ]
            if changed or current != wanted:
                result.programs_updated += 1
        if current != wanted:
            # Items have no identity of their own: replace them wholesale.
            ProgramItem.objects.using(using).filter(program=program).delete()
            new_items = [ProgramItem(program=program, **item) for item in items]
            for item in new_items:
                item._state.db = using
                item.full_clean()
            ProgramItem.objects.using(using).bulk_create(new_items)
    library_slugs = {row["slug"] for row in rows}
    result.stale_programs = sorted(set(shared) - library_slugs)


def load_library(*, directory: Path | None = None, using: str = DEFAULT_DB_ALIAS) -> LoadResult:
    """Read, validate and upsert the shared library in one transaction."""
    library = read_library(directory or LIBRARY_DIR)
    validate_library(library)
    result = LoadResult()
    with transaction.atomic(using=using):
        regions = _load_regions(library["region"], using, result)
        exercises = _load_exercises(library["exercise"], library["licence"], regions, using, result)
        _load_programs(library["program"], exercises, using, result)
    return result
