"""The shared exercise library: TOML data loaded into every database."""

from __future__ import annotations

import copy
import importlib.util
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from clinic.models import Clinic
from exercises.library.loader import LIBRARY_DIR, load_library, read_library, validate_library
from exercises.models import Exercise, Program, ProgramItem, Region

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "static"

REQUIRED_EXERCISES = {
    "glute-bridge",
    "single-leg-glute-bridge",
    "marching-glute-bridge",
    "prone-knee-lift-test",
    "kneeling-lunge-hip-flexor-check",
    "locust",
    "bird-dog",
    "plank",
    "side-plank",
    "dead-bug",
    "cat-cow",
    "childs-pose",
    "knee-to-chest",
    "kneeling-hip-flexor-stretch",
    "standing-quad-stretch",
    "figure-4-glute-stretch",
    "hamstring-stretch",
    "static-lunge",
    "dynamic-lunge",
    "reverse-lunge",
    "bulgarian-split-squat",
    "squat",
    "deep-squat-hold",
    "romanian-deadlift",
    "hanging-knee-raise",
    "hanging-leg-raise",
    "high-knee-drill",
    "stability-ball-back-extension",
    "stability-ball-reverse-leg-raise",
    "foam-roll-back",
    "foam-roll-hips",
    "clamshell",
}
REQUIRED_PROGRAMS = {
    "runners-low-back-starter": 4,
    "core-strength-for-runners": 6,
    "hip-flexor-and-quad-release": 4,
    "deep-squat-challenge": 8,
    "graded-return-to-running": 8,
}


def counts() -> tuple[int, ...]:
    return (
        Region.objects.count(),
        Exercise.objects.count(),
        Program.objects.count(),
        ProgramItem.objects.count(),
    )


# Loading ----------------------------------------------------------------------


def test_migrate_already_loaded_the_library_into_the_test_database() -> None:
    library = read_library()
    assert Region.objects.count() == len(library["region"])
    assert Exercise.objects.shared().count() == len(library["exercise"]) >= 32
    assert Program.objects.filter(clinic__isnull=True).count() == len(library["program"]) >= 5
    plank = Exercise.objects.shared().get(slug="plank")
    assert plank.default_hold_seconds and plank.default_reps is None
    assert set(plank.regions.values_list("code", flat=True)) == {"core", "obliques", "glutes"}


def test_loading_twice_creates_nothing_and_updates_nothing() -> None:
    before = counts()
    stamps = dict(Exercise.objects.values_list("slug", "updated_at"))
    for _ in range(2):
        result = load_library()
        assert (result.created, result.updated) == (0, 0)
        assert counts() == before
    assert dict(Exercise.objects.values_list("slug", "updated_at")) == stamps


def test_a_changed_shared_exercise_is_put_back_from_the_library_once() -> None:
    bridge = Exercise.objects.shared().get(slug="glute-bridge")
    original = bridge.summary
    Exercise.objects.filter(pk=bridge.pk).update(summary="Edited in the database")
    bridge.regions.clear()
    ProgramItem.objects.filter(program__slug="deep-squat-challenge").first().delete()

    result = load_library()
    assert (result.exercises_updated, result.programs_updated, result.created) == (1, 1, 0)
    bridge.refresh_from_db()
    assert bridge.summary == original
    assert bridge.regions.exists()
    assert (load_library().created, load_library().updated) == (0, 0)


def test_a_clinics_own_exercises_programs_and_hidden_list_are_left_alone(clinic: Clinic) -> None:
    shared_bridge = Exercise.objects.shared().get(slug="glute-bridge")
    own = Exercise.objects.create(
        clinic=clinic,
        based_on=shared_bridge,
        slug="glute-bridge",
        name="Riverside bridge",
        summary="Our own wording.",
        steps=["Lie down.", "Lift.", "Lower."],
        category=Exercise.Category.STRENGTH,
        default_reps=12,
        licence="",
    )
    plank = Exercise.objects.shared().get(slug="plank")
    plank.hidden_for.add(clinic)
    own_program = Program.objects.create(
        clinic=clinic, slug="runners-low-back-starter", name="Our starter", goal="Ours"
    )
    ProgramItem.objects.create(program=own_program, exercise=own, sets=2, reps=5)
    own_stamp = own.updated_at

    load_library()

    own.refresh_from_db()
    assert (own.name, own.summary, own.default_reps, own.updated_at) == (
        "Riverside bridge",
        "Our own wording.",
        12,
        own_stamp,
    )
    assert list(plank.hidden_for.all()) == [clinic]
    assert plank not in Exercise.objects.for_clinic(clinic)
    assert [(i.exercise, i.sets, i.reps) for i in own_program.items.all()] == [(own, 2, 5)]
    own_program.refresh_from_db()
    assert own_program.name == "Our starter"


def test_the_command_loads_and_prints_the_counts() -> None:
    unused = Exercise.objects.shared().filter(program_items__isnull=True).first()
    assert unused is not None
    unused.delete()
    out = StringIO()
    call_command("load_library", stdout=out)
    text = out.getvalue()
    assert "Exercises: 1 created, 0 updated" in text
    assert "Regions: 0 created, 0 updated" in text
    assert Exercise.objects.shared().filter(slug=unused.slug).exists()


# The content -------------------------------------------------------------------


def test_every_required_exercise_is_in_the_library() -> None:
    slugs = set(Exercise.objects.shared().values_list("slug", flat=True))
    assert not REQUIRED_EXERCISES - slugs
    self_tests = Exercise.objects.shared().filter(category=Exercise.Category.SELF_TEST)
    assert set(self_tests.values_list("slug", flat=True)) == {
        "prone-knee-lift-test",
        "kneeling-lunge-hip-flexor-check",
    }


def test_every_exercise_has_steps_a_dosage_the_licence_and_a_picture() -> None:
    for exercise in Exercise.objects.shared():
        assert 3 <= len(exercise.steps) <= 7, exercise.slug
        assert 2 <= len(exercise.cues) <= 4, exercise.slug
        assert 2 <= len(exercise.mistakes) <= 4, exercise.slug
        assert 1 <= len(exercise.safety) <= 3, exercise.slug
        assert all(line.startswith("Stop") for line in exercise.safety[:1]), exercise.slug
        assert len(exercise.summary) <= 200, exercise.slug
        assert exercise.default_reps or exercise.default_hold_seconds, exercise.slug
        assert exercise.licence == "CC BY-SA 4.0"
        assert exercise.illustration == f"exercises/{exercise.slug}.svg"
        picture = STATIC / exercise.illustration
        assert picture.is_file(), picture
        svg = picture.read_text()
        assert 'viewBox="0 0 320 200"' in svg and 'role="img"' in svg and "aria-label=" in svg
    assert (STATIC / "exercises" / "placeholder.svg").is_file()


def test_every_program_item_uses_a_library_exercise_within_the_programs_weeks() -> None:
    for program in Program.objects.filter(clinic__isnull=True).prefetch_related("items__exercise"):
        items = list(program.items.all())
        assert items, program.slug
        for item in items:
            assert item.exercise.clinic_id is None, (program.slug, item.exercise.slug)
            assert item.reps or item.hold_seconds
            assert 1 <= item.week_from <= program.duration_weeks
            assert item.week_to is None or item.week_from <= item.week_to <= program.duration_weeks
        for week in range(1, program.duration_weeks + 1):
            assert any(item.applies_in_week(week) for item in items), (program.slug, week)


def test_the_required_programs_exist_with_their_durations() -> None:
    durations = dict(
        Program.objects.filter(clinic__isnull=True).values_list("slug", "duration_weeks")
    )
    for slug, weeks in REQUIRED_PROGRAMS.items():
        assert durations.get(slug) == weeks, slug


def test_the_bridges_progress_week_by_week_in_the_starter() -> None:
    starter = Program.objects.get(clinic__isnull=True, slug="runners-low-back-starter")
    items = list(starter.items.select_related("exercise"))

    def bridges(week: int) -> list[str]:
        return [
            i.exercise.slug
            for i in items
            if "bridge" in i.exercise.slug and i.applies_in_week(week)
        ]

    assert bridges(1) == ["glute-bridge"]
    assert bridges(3) == ["marching-glute-bridge"]
    assert bridges(4) == ["single-leg-glute-bridge"]


def test_the_illustrations_match_the_drawing_script() -> None:
    spec = importlib.util.spec_from_file_location(
        "draw_exercises", Path(settings.BASE_DIR) / "tools" / "draw_exercises.py"
    )
    assert spec and spec.loader
    draw = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = draw  # dataclasses look their module up by name
    try:
        spec.loader.exec_module(draw)
    finally:
        del sys.modules[spec.name]
    scenes = draw.scenes()
    assert set(scenes) == set(Exercise.objects.shared().values_list("slug", flat=True))
    for slug, scene in scenes.items():
        assert not draw.check_lengths(slug, scene.panels[0]), slug
        on_disk = (STATIC / "exercises" / f"{slug}.svg").read_text()
        assert on_disk == draw.render(slug, scene), f"run tools/draw_exercises.py ({slug})"


# Validation -------------------------------------------------------------------


def small_library() -> dict[str, Any]:
    exercise = {
        "slug": "wall-sit",
        "name": "Wall sit",
        "summary": "Sitting against a wall.",
        "steps": ["Lean on a wall.", "Slide down.", "Hold."],
        "cues": ["Breathe.", "Knees over feet."],
        "mistakes": ["Too low.", "Holding your breath."],
        "safety": ["Stop if your knees hurt."],
        "category": "strength",
        "regions": ["quads"],
        "equipment": "none",
        "difficulty": 1,
        "default_sets": 3,
        "default_hold_seconds": 30,
        "per_side": False,
        "rest_seconds": 30,
        "illustration": "exercises/wall-sit.svg",
    }
    program = {
        "slug": "legs",
        "name": "Legs",
        "goal": "Strong legs",
        "description": "",
        "duration_weeks": 2,
        "item": [{"exercise": "wall-sit", "sets": 2, "hold_seconds": 20}],
    }
    return {
        "licence": "CC BY-SA 4.0",
        "region": [{"code": "quads", "name": "Quadriceps"}],
        "exercise": [exercise],
        "program": [program],
    }


def test_a_small_valid_library_passes_validation() -> None:
    validate_library(small_library())


def test_a_program_naming_an_unknown_exercise_is_refused_by_name() -> None:
    library = small_library()
    library["program"][0]["item"].append({"exercise": "moon-walk", "sets": 1, "reps": 5})
    with pytest.raises(ValueError, match=r"program 'legs' item 2: exercise 'moon-walk'"):
        validate_library(library)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("regions", ["abs"], r"exercise 'wall-sit': regions: 'abs'"),
        ("category", "cardio", r"exercise 'wall-sit': category 'cardio'"),
        ("equipment", "kettlebell", r"exercise 'wall-sit': equipment 'kettlebell'"),
        ("default_hold_seconds", None, r"exercise 'wall-sit': give default_reps"),
        ("steps", ["Only one."], r"exercise 'wall-sit': steps needs 3 to 7"),
        ("repetitions", 5, r"exercise 'wall-sit': repetitions is not a known field"),
    ],
)
def test_bad_exercise_data_is_refused_naming_the_slug_and_field(
    field: str, value: Any, message: str
) -> None:
    library = copy.deepcopy(small_library())
    if value is None:
        del library["exercise"][0][field]
    else:
        library["exercise"][0][field] = value
    with pytest.raises(ValueError, match=message):
        validate_library(library)


def test_items_outside_the_programs_weeks_are_refused() -> None:
    library = small_library()
    library["program"][0]["item"][0].update(week_from=2, week_to=5)
    with pytest.raises(ValueError, match=r"program 'legs' item 1: week_to must be 2 to 2"):
        validate_library(library)


def test_bad_data_changes_nothing_in_the_database(tmp_path: Path) -> None:
    for name in ("regions.toml", "exercises.toml", "programs.toml"):
        (tmp_path / name).write_text((LIBRARY_DIR / name).read_text())
    programs = tmp_path / "programs.toml"
    programs.write_text(programs.read_text().replace('"glute-bridge"', '"glute-bridgeX"', 1))
    before = counts()
    with pytest.raises(ValueError, match="glute-bridgeX"):
        load_library(directory=tmp_path)
    assert counts() == before
