"""Every due reminder is delivered once, through real faults.

Real parts: a Redis of the test's own (restarted mid-run, losing its queues),
two Celery workers (each SIGKILLed mid-run and started again), two Celery
beats at once (django-celery-beat's DatabaseScheduler, ticking every second),
the test database (PostgreSQL when DATABASE_URL says so), and an aiosmtpd
server that answers some messages with 451. The server keeps each message
before it answers, 40 ms later, as a real one queues a message before its
250: a worker killed while waiting has delivered a message it never recorded.

Exactly once cannot be had when the server accepted a message and the worker
died before recording it (see exercises/reminders.py): a killed worker may
cause one duplicate, its message in flight. So the test asserts no reminder
lost, and duplicates <= SIGKILLs.

REMINDER_FAULT_COUNT sets how many reminders are due (200 here, 1,000 for the
full run: `REMINDER_FAULT_COUNT=1000 pytest tests/test_reminder_faults.py -s`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from pathlib import Path

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

from exercises import reminders
from exercises.models import Reminder
from tests.factories import ClinicFactory
from tests.integration import (
    SITE_URL,
    running_beat,
    running_redis_server,
    running_smtp_sink,
    running_worker,
    wait_until,
)
from tests.reminders_support import plans_due_at

pytestmark = pytest.mark.integration

COUNT = int(os.environ.get("REMINDER_FAULT_COUNT", "200"))
# Each message waits this long at the server: a run long enough to break.
SERVER_DELAY = 0.04
# Short clocks for a test: a stuck claim comes back after 8 s.
ENGINE_ENV = {
    "EMAIL_TIMEOUT": "1",
    "REMINDER_SENDING_TIMEOUT": "8",
    "REMINDER_BATCH_SIZE": "5",
    "REMINDER_RETRY_BACKOFF": "1",
    "REMINDER_MAX_ATTEMPTS": "20",
    "SITE_URL": SITE_URL,
}


def beat_every_second() -> None:
    reminders.periodic_tasks_ensure()
    second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(task__in=reminders.BEAT_TASKS.values()).update(
        interval=second, expire_seconds=5
    )
    PeriodicTasks.update_changed()


@pytest.mark.django_db(transaction=True)
def test_every_due_reminder_arrives_once_through_kills_a_redis_restart_two_beats_and_refusals(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        redis_server = stack.enter_context(running_redis_server(tmp_path))
        sink = stack.enter_context(running_smtp_sink(delay=SERVER_DELAY, refuse_every=23))
        now = timezone.now()
        plans_due_at(clinic=ClinicFactory(), count=COUNT, now=now)
        reminders.reminders_plan(now=now)
        due = dict(Reminder.objects.filter(due_at__lte=now).values_list("pk", "patient__email"))
        assert len(due) == COUNT
        beat_every_second()

        env = {**sink.env(), **ENGINE_ENV}

        def start_worker() -> object:
            return stack.enter_context(
                running_worker(
                    broker_url=redis_server.url, env=env, log_dir=tmp_path, queues=["celery"]
                )
            )

        workers = [start_worker(), start_worker()]
        beats = [
            stack.enter_context(
                running_beat(broker_url=redis_server.url, log_dir=tmp_path, env=env)
            )
            for _ in range(2)
        ]

        def reached(share: float) -> None:
            assert wait_until(lambda: len(sink.handler.received) >= COUNT * share, timeout=60), (
                f"stalled at {len(sink.handler.received)} of {COUNT}"
            )

        kills = 0
        reached(0.15)
        workers[0].kill()  # type: ignore[attr-defined]
        kills += 1
        workers[0] = start_worker()
        reached(0.40)
        redis_server.restart()
        reached(0.65)
        workers[1].kill()  # type: ignore[attr-defined]
        kills += 1
        workers[1] = start_worker()

        rows = Reminder.objects.filter(pk__in=due)
        finished = wait_until(
            lambda: not rows.exclude(state=Reminder.State.SENT).exists(), timeout=90, interval=0.5
        )
        time.sleep(2)  # a late duplicate would arrive now
        beat_logs = [beat.output() for beat in beats]

    states = Counter(rows.values_list("state", flat=True))
    per_recipient = Counter(to for mail in sink.received for to in mail.rcpt_tos)
    lost = set(due.values()) - set(per_recipient)
    duplicates = sum(per_recipient.values()) - len(per_recipient)
    reclaimed = rows.filter(last_error__contains="may have gone out").count()
    retried_4xx = rows.filter(attempts__gt=1).count()
    print(
        f"\nreminder faults: {COUNT} due, {sum(per_recipient.values())} delivered, "
        f"{len(lost)} lost, {duplicates} duplicates, {kills} SIGKILLs, 1 Redis restart, "
        f"2 beats, {len(sink.refused)} refused with 451, {reclaimed} reclaimed, "
        f"{retried_4xx} sent on a later attempt, {time.monotonic() - started:.1f} s"
    )
    assert finished, f"not all sent: {states}"
    assert states == {Reminder.State.SENT: COUNT}
    assert not lost
    assert duplicates <= kills, f"{duplicates} duplicates from {kills} kills"
    assert set(per_recipient) == set(due.values())
    # A repeat is the same message to mail systems that dedupe: one Message-ID.
    for address in (to for to, count in per_recipient.items() if count > 1):
        copies = [mail for mail in sink.received if address in mail.rcpt_tos]
        assert len({mail.message["Message-ID"] for mail in copies}) == 1
    # The faults really happened: refusals were retried, stuck claims came back,
    # and both beats queued the dispatcher.
    assert sink.refused
    assert reclaimed
    assert all("exercises.tasks.dispatch_reminders" in log for log in beat_logs)
