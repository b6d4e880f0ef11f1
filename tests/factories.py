from __future__ import annotations

from datetime import date

import factory

from clinic.models import Clinic, Patient, StaffMember, User

PASSWORD = "a-long-test-password-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    time_zone = "Europe/London"
    contact_email = factory.LazyAttribute(lambda o: f"hello@{o.slug}.example.com")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = StaffMember.Role.CLINICIAN
    job_title = "Physiotherapist"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    date_of_birth = date(1990, 5, 17)
    time_zone = "Europe/London"
    consent_email = True


class ExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "exercises.Exercise"

    clinic = None
    name = factory.Sequence(lambda n: f"Exercise {n}")
    slug = factory.Sequence(lambda n: f"exercise-{n}")
    summary = "A calm, controlled movement."
    steps = ["Get into position.", "Move slowly.", "Return to the start."]
    category = "strength"
    equipment = "none"
    difficulty = 1
    default_sets = 3
    default_reps = 10
    illustration = "exercises/placeholder.svg"


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "exercises.Program"

    clinic = None
    name = factory.Sequence(lambda n: f"Program {n}")
    slug = factory.Sequence(lambda n: f"program-{n}")
    goal = "Stronger glutes, calmer back"
    duration_weeks = 4


class ProgramItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "exercises.ProgramItem"

    program = factory.SubFactory(ProgramFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    sets = 3
    reps = 10
    order = factory.Sequence(int)
