"""Load (or refresh) the shared exercise library from exercises/library/*.toml."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from exercises.library.loader import load_library


class Command(BaseCommand):
    help = (
        "Upsert the shared regions, exercises and programme templates from "
        "exercises/library/*.toml. Clinic-owned exercises and programmes are never touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Database alias to load into."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = load_library(using=options["database"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Regions: {result.regions_created} created, {result.regions_updated} updated"
        )
        self.stdout.write(
            f"Exercises: {result.exercises_created} created, {result.exercises_updated} updated"
        )
        self.stdout.write(
            f"Programs: {result.programs_created} created, {result.programs_updated} updated"
        )
        for kind, slugs in (
            ("exercises", result.stale_exercises),
            ("programs", result.stale_programs),
        ):
            if slugs:
                message = f"Shared {kind} no longer in the library, left in place: "
                self.stdout.write(self.style.WARNING(message + ", ".join(slugs)))
        self.stdout.write(
            self.style.SUCCESS(
                f"Library loaded: {result.created} created, {result.updated} updated."
            )
        )
