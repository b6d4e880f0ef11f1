"""A large, realistic clinic for load tests: `python manage.py seed_load --patients 10000`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clinic import loadgen


class Command(BaseCommand):
    help = (
        "Add N patients with years of history (self-assessments, plans and session logs, "
        "consults, notes) to a clinic, with bulk inserts. Each run adds new patients."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=1000)
        parser.add_argument("--clinic-slug", default="load")
        parser.add_argument(
            "--clinicians", type=int, default=None, help="Default: 2 + one per 1,000 patients."
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed, for repeatable data.")
        parser.add_argument("--years", type=float, default=3.0, help="Years of history.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = loadgen.build(
            patients=options["patients"],
            clinic_slug=options["clinic_slug"],
            clinicians=options["clinicians"],
            seed=options["seed"],
            years=options["years"],
        )
        rows = ", ".join(f"{count:,} {name}" for name, count in result.counts.items())
        self.stdout.write(rows)
        self.stdout.write(
            self.style.SUCCESS(
                f"Clinic '{result.clinic.slug}' (id {result.clinic.pk}) built in "
                f"{result.seconds:.1f} s."
            )
        )
