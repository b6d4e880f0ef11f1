"""The staff library page, a clinic's own and hidden exercises, and the program builder."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.models import Clinic
from exercises.models import Exercise, Program, Region
from tests.factories import ExerciseFactory, ProgramFactory, ProgramItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions() -> dict[str, Region]:
    return {
        code: Region.objects.get_or_create(
            code=code, defaults={"name": code.replace("_", " ").title()}
        )[0]
        for code in ("glutes", "core", "hip_flexors")
    }


def names(response: object) -> set[str]:
    return {e.name for e in response.context["page"]}  # type: ignore[attr-defined]


def test_the_library_filters_by_search_region_category_equipment_and_level(
    physio_client: Client, regions: dict[str, Region]
) -> None:
    bridge = ExerciseFactory(name="Zz Bridge", category="strength", equipment="mat", difficulty=1)
    bridge.regions.add(regions["glutes"])
    plank = ExerciseFactory(name="Zz Plank", category="core", equipment="mat", difficulty=2)
    plank.regions.add(regions["core"])
    roll = ExerciseFactory(
        name="Zz Roll", category="mobility", equipment="foam_roller", difficulty=1
    )
    url = reverse("library")
    assert names(physio_client.get(url, {"q": "zz plank"})) == {"Zz Plank"}
    assert "Zz Bridge" in names(physio_client.get(url, {"region": "glutes"}))
    assert "Zz Plank" not in names(physio_client.get(url, {"region": "glutes"}))
    assert names(physio_client.get(url, {"q": "zz", "category": "mobility"})) == {roll.name}
    assert names(physio_client.get(url, {"q": "zz", "equipment": "mat"})) == {
        "Zz Bridge",
        "Zz Plank",
    }
    assert names(physio_client.get(url, {"q": "zz", "difficulty": "2"})) == {"Zz Plank"}


def test_a_bad_filter_value_is_ignored_not_a_500(physio_client: Client) -> None:
    response = physio_client.get(reverse("library"), {"difficulty": "seven", "region": "nowhere"})
    assert response.status_code == 200


def test_the_library_page_runs_a_constant_number_of_queries_with_500_exercises(
    physio_client: Client, regions: dict[str, Region]
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert physio_client.get(reverse("library"), {"region": "core"}).status_code == 200
        return len(queries)

    for exercise in ExerciseFactory.create_batch(5):
        exercise.regions.add(regions["core"], regions["glutes"])
    few = count()
    batch = ExerciseFactory.create_batch(500)
    Exercise.regions.through.objects.bulk_create(
        Exercise.regions.through(exercise=e, region=regions["core"]) for e in batch
    )
    assert count() == few
    # Paged, keeping the filter from page to page.
    html = physio_client.get(reverse("library"), {"region": "core", "page": 2}).content.decode()
    assert "Page 2 of 11" in html
    assert '?region=core&amp;page=1">Previous' in html and '?region=core&amp;page=3">Next' in html


def test_a_clinics_own_exercise_is_hidden_from_other_clinics(
    physio_client: Client, other_physio_client: Client, clinic: Clinic
) -> None:
    own = ExerciseFactory(clinic=clinic, name="Zz Towel slide")
    assert "Zz Towel slide" in names(physio_client.get(reverse("library"), {"q": "zz towel"}))
    assert names(other_physio_client.get(reverse("library"), {"q": "zz towel"})) == set()
    assert other_physio_client.get(reverse("exercise_detail", args=[own.pk])).status_code == 404


def test_a_clinic_hides_a_shared_exercise_and_brings_it_back(
    physio_client: Client, clinic: Clinic
) -> None:
    shared = ExerciseFactory(name="Zz Superman")
    physio_client.post(reverse("exercise_hide", args=[shared.pk]), {"hidden": "1"})
    assert names(physio_client.get(reverse("library"), {"q": "superman"})) == set()
    physio_client.post(reverse("exercise_hide", args=[shared.pk]), {"hidden": "0"})
    assert names(physio_client.get(reverse("library"), {"q": "superman"})) == {"Zz Superman"}


def test_adapting_a_shared_exercise_gives_the_clinic_an_editable_copy(
    physio_client: Client, clinic: Clinic, other_physio_client: Client
) -> None:
    shared = ExerciseFactory(name="Zz Clamshell")
    response = physio_client.post(reverse("exercise_adapt", args=[shared.pk]))
    copy = Exercise.objects.get(clinic=clinic)
    assert response.url == reverse("exercise_edit", args=[copy.pk])
    assert copy.based_on == shared and copy.licence == "CC BY-SA 4.0"
    response = physio_client.post(
        reverse("exercise_edit", args=[copy.pk]),
        {
            "name": "Zz Clamshell with band",
            "summary": "With a loop band.",
            "steps": "Lie on your side.\nOpen the knee.",
            "category": "strength",
            "equipment": "none",
            "difficulty": "2",
            "default_sets": "3",
            "default_reps": "12",
            "rest_seconds": "30",
            "licence": "CC BY-SA 4.0",
        },
    )
    copy.refresh_from_db()
    assert copy.steps == ["Lie on your side.", "Open the knee."]
    shared.refresh_from_db()
    assert shared.name == "Zz Clamshell"
    assert names(other_physio_client.get(reverse("library"), {"q": "zz clamshell"})) == {
        "Zz Clamshell"
    }


def test_a_shared_exercise_cannot_be_edited_directly(physio_client: Client) -> None:
    shared = ExerciseFactory()
    assert physio_client.get(reverse("exercise_edit", args=[shared.pk])).status_code == 404


def test_an_exercise_without_steps_is_refused_with_a_message(physio_client: Client) -> None:
    response = physio_client.post(
        reverse("exercise_create"),
        {
            "name": "Nothing",
            "summary": "x",
            "steps": "",
            "category": "core",
            "equipment": "none",
            "difficulty": "1",
            "default_sets": "3",
            "default_reps": "10",
            "rest_seconds": "30",
            "licence": "x",
        },
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Exercise.objects.filter(name="Nothing").exists()


# The program builder ---------------------------------------------------------


def test_duplicating_a_shared_template_makes_an_editable_clinic_copy(
    physio_client: Client, clinic: Clinic
) -> None:
    template = ProgramFactory(name="Core strength for runners")
    ProgramItemFactory.create_batch(3, program=template)
    response = physio_client.post(reverse("program_duplicate", args=[template.pk]))
    copy = Program.objects.get(clinic=clinic)
    assert response.url == reverse("program_edit", args=[copy.pk])
    assert copy.items.count() == 3 and copy.based_on == template
    assert physio_client.get(reverse("program_edit", args=[template.pk])).status_code == 404


def test_building_a_program_search_add_reorder_and_dose(
    physio_client: Client, clinic: Clinic
) -> None:
    physio_client.post(
        reverse("program_create"),
        {"name": "Zz Hip plan", "goal": "Open the hips", "duration_weeks": "4"},
    )
    program = Program.objects.get(clinic=clinic)
    stretch = ExerciseFactory(
        name="Zz Kneeling hip flexor stretch",
        default_reps=None,
        default_hold_seconds=30,
        per_side=True,
    )
    lunge = ExerciseFactory(name="Zz Reverse lunge")

    results = physio_client.get(
        reverse("program_exercise_search", args=[program.pk]), {"q": "zz kneeling"}
    )
    assert "Zz Kneeling hip flexor stretch" in results.content.decode()
    assert "Zz Reverse lunge" not in results.content.decode()

    for exercise in (stretch, lunge):
        physio_client.post(
            reverse("program_item_add", args=[program.pk]), {"exercise": exercise.pk}
        )
    first, second = program.items.all()
    assert (first.exercise, first.hold_seconds, first.per_side) == (stretch, 30, True)

    data = {
        "name": "Zz Hip plan",
        "goal": "Open the hips",
        "duration_weeks": "4",
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "2",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for n, (item, order, sets) in enumerate([(first, 2, 2), (second, 1, 4)]):
        data.update(
            {
                f"items-{n}-id": str(item.pk),
                f"items-{n}-exercise": str(item.exercise_id),
                f"items-{n}-order": str(order),
                f"items-{n}-sets": str(sets),
                f"items-{n}-reps": str(item.reps or ""),
                f"items-{n}-hold_seconds": str(item.hold_seconds or ""),
                f"items-{n}-week_from": "1",
                f"items-{n}-week_to": "",
                f"items-{n}-notes": "",
            }
        )
    prefix_check = (
        physio_client.get(reverse("program_edit", args=[program.pk])).context["formset"].prefix
    )
    data = {k.replace("items-", f"{prefix_check}-"): v for k, v in data.items()}
    response = physio_client.post(reverse("program_edit", args=[program.pk]), data)
    assert response.status_code == 302, response.context["formset"].errors
    assert [(i.exercise.name, i.sets) for i in program.items.all()] == [
        ("Zz Reverse lunge", 4),
        ("Zz Kneeling hip flexor stretch", 2),
    ]


def test_the_builder_cannot_add_another_clinics_exercise(
    physio_client: Client, clinic: Clinic, other_clinic: Clinic
) -> None:
    program = ProgramFactory(clinic=clinic)
    foreign = ExerciseFactory(clinic=other_clinic)
    assert (
        physio_client.post(
            reverse("program_item_add", args=[program.pk]), {"exercise": foreign.pk}
        ).status_code
        == 404
    )
    assert not program.items.exists()


def test_the_program_list_shows_shared_and_own_templates_only(
    physio_client: Client, clinic: Clinic, other_clinic: Clinic
) -> None:
    ProgramFactory(name="Zz Shared")
    ProgramFactory(name="Zz Ours", clinic=clinic)
    ProgramFactory(name="Zz Theirs", clinic=other_clinic)
    html = physio_client.get(reverse("program_list")).content.decode()
    assert "Zz Shared" in html and "Zz Ours" in html and "Zz Theirs" not in html
