from typing import Any

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models.signals import post_migrate


class ExercisesConfig(AppConfig):
    name = "exercises"
    verbose_name = "Exercises and programs"

    def ready(self) -> None:
        # Every database (dev, test, production) gets the shared library as
        # part of `migrate`, and again after a test flush.
        post_migrate.connect(
            load_shared_library, sender=self, dispatch_uid="exercises.load_shared_library"
        )
        # The reminder engine's beat schedule lives in django-celery-beat's tables.
        post_migrate.connect(
            ensure_beat_schedule, sender=self, dispatch_uid="exercises.ensure_beat_schedule"
        )


def load_shared_library(
    sender: AppConfig, *, using: str = DEFAULT_DB_ALIAS, apps: Any = None, **kwargs: Any
) -> None:
    """post_migrate handler: quietly (re)load the shared exercise library, but
    only when this app's tables exist at their current shape (not after
    `migrate exercises zero`, nor part-way through the migration history)."""
    from exercises.library.loader import load_library
    from exercises.models import Exercise, Program, ProgramItem, Region

    models = (Region, Exercise, Program, ProgramItem)
    if not all(router.allow_migrate_model(using, model) for model in models):
        return
    tables = set(connections[using].introspection.table_names())
    needed = {model._meta.db_table for model in models}
    needed |= {Exercise.regions.through._meta.db_table}
    if not needed <= tables:
        return
    if apps is not None:
        # The migration state must have every column the loader writes.
        for model in models:
            try:
                state_model = apps.get_model(model._meta.app_label, model._meta.model_name)
            except LookupError:
                return
            state_columns = {f.column for f in state_model._meta.concrete_fields}
            if not {f.column for f in model._meta.concrete_fields} <= state_columns:
                return
    load_library(using=using)


def ensure_beat_schedule(
    sender: AppConfig, *, using: str = DEFAULT_DB_ALIAS, **kwargs: Any
) -> None:
    """post_migrate handler: the reminder engine's periodic tasks, made when
    missing (beat's own tables may not exist yet part-way through history)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from exercises.reminders import periodic_tasks_ensure

    tables = set(connections[using].introspection.table_names())
    if not {PeriodicTask._meta.db_table, IntervalSchedule._meta.db_table} <= tables:
        return
    periodic_tasks_ensure()
