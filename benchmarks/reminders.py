"""How fast does the reminder engine deliver a morning's reminders? Not a test: run it.

    .venv/bin/python benchmarks/reminders.py [--n 10000] [--batch 250] [--concurrency 6]

N patients' exercise reminders fall due at once (a mix of time zones, three
exercises each). A real Celery worker (prefork, production settings) takes the
dispatcher's task from a Redis of the benchmark's own, claims the rows in
batches and sends them to an aiosmtpd server in this process, recording each
message as it is accepted. The clock runs from publishing the dispatcher's
task to the server holding all N messages.

The planner renders each reminder's message ahead (in the hours before it is
due), so at the due minute the engine only checks, sends and records. The
baseline, measured in the same run against the same server, is the very same
N messages (as stored, with a Date header) sent by a plain loop over one SMTP
connection in a separate process (as the worker is): the transport's own
ceiling, with no broker, no claims and no per-message records. Baseline and
engine run in turn (--rounds, default 3, the baseline once more at the end),
and their medians are compared: the target is the engine at 80% of the
baseline or more. For context it also times the planner rendering ahead, and
a plain loop that builds each message from the database at send time and
sends it, with no bookkeeping.

Options: --database-url (default: DATABASE_URL when it is PostgreSQL, else a
SQLite file; on PostgreSQL a database `backstride_reminders_bench` is created
and dropped), --batch (REMINDER_BATCH_SIZE), --concurrency (worker processes),
--async-commit (REMINDER_ASYNC_COMMIT for the worker: each "sent" record is
committed without waiting for the disk flush).
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_RATIO = 0.8
BENCH_DB = "backstride_reminders_bench"
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "benchmark-only-not-a-secret-" + "x" * 40,
    "ALLOWED_HOSTS": "127.0.0.1",
    "LOG_LEVEL": "WARNING",
}

RAW_LOOP = """
import pickle, smtplib, sys, time
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "rb") as f:
    messages = pickle.load(f)
smtp = smtplib.SMTP(host, port)
started = time.perf_counter()
for sender, recipients, data in messages:
    smtp.sendmail(sender, recipients, data)
elapsed = time.perf_counter() - started
smtp.quit()
print(elapsed)
"""

PLAIN_LOOP = """
import os, sys, time
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
import django
django.setup()
from django.core.mail import get_connection
from exercises import reminders
from django.utils import timezone
from exercises.models import Reminder
ids = list(Reminder.objects.due(timezone.now()).values_list("pk", flat=True))
started = time.perf_counter()
# Everything the engine reads, in a few queries, then build-and-send in one loop.
claim = "00000000-0000-0000-0000-000000000000"
Reminder.objects.filter(pk__in=ids).update(state="sending", claim=claim)
batch = reminders._Batch(claim, ids)
connection = get_connection()
connection.open()
for row in batch.rows:
    connection.send_messages([batch.message(row)])
connection.close()
elapsed = time.perf_counter() - started
Reminder.objects.filter(pk__in=ids).update(state="pending", claim=None)
print(elapsed)
"""


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=250)
    # As docker-compose.yml runs its worker.
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument(
        "--async-commit",
        action="store_true",
        help="REMINDER_ASYNC_COMMIT=1 for the worker (see clinic/settings.py)",
    )
    return parser.parse_args()


def prepare_database(url: str) -> tuple[str, object]:
    """A fresh database for the run; returns its URL and a function that drops it."""
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {BENCH_DB}")

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")

        return urlunsplit(parts._replace(path=f"/{BENCH_DB}")), drop
    folder = Path(tempfile.mkdtemp(prefix="backstride-reminders-bench-"))
    return f"sqlite:///{folder / 'bench.sqlite3'}", lambda: None


def main() -> None:
    args = parse()
    database_url, drop = prepare_database(args.database_url)
    os.environ.update(PRODUCTION_ENV)
    os.environ["DATABASE_URL"] = database_url
    os.environ["REMINDER_BATCH_SIZE"] = str(args.batch)
    # SMTP, so the planner renders ahead here as it does in production; the
    # server's port is the benchmark's own, given to each process it starts.
    os.environ["EMAIL_HOST"] = "127.0.0.1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    try:
        run(args, database_url)
    finally:
        from django.db import connections

        connections.close_all()
        drop()


def run(args: argparse.Namespace, database_url: str) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from exercises import reminders
    from exercises.models import Reminder, ReminderMessage
    from tests.factories import ClinicFactory
    from tests.integration import (
        SITE_URL,
        running_redis_server,
        running_smtp_sink,
        running_worker,
        wait_until,
    )
    from tests.reminders_support import plans_due_at

    # The server runs in this process: its per-message log lines would cost
    # more than the messages.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="backstride-reminders-bench-"))
    engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    print(f"Reminder engine benchmark: {args.n} reminders due at once, {engine}, Redis")

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    now = timezone.now()
    plans_due_at(clinic=ClinicFactory(), count=args.n, now=now, email_prefix="bench")
    reminders.reminders_plan(now=now)
    due = list(Reminder.objects.filter(due_at__lte=now).values_list("pk", flat=True))
    assert len(due) == args.n, len(due)
    print(f"  set-up (migrate, {args.n} patients and plans, planner): "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    # What the planner's task does in the hours before: render them ahead.
    started = time.perf_counter()
    rendered = reminders.reminders_render(now=now, limit=args.n)
    took = time.perf_counter() - started
    assert rendered == args.n, rendered
    print(f"  rendered ahead by the planner (off the clock): {took:.1f} s, "
          f"{args.n / took:.0f} msgs/s in one process")  # fmt: skip

    with running_redis_server(work) as redis_server, running_smtp_sink() as sink:
        # The very messages the engine will send, as the planner stored them,
        # with a Date header as the engine adds it.
        date = formatdate().encode()
        messages_file = work / "messages.pickle"
        with messages_file.open("wb") as f:
            pickle.dump(
                [
                    (settings.DEFAULT_FROM_EMAIL, [email], b"Date: " + date + b"\r\n" + data)
                    for email, data in Reminder.objects.filter(pk__in=due)
                    .order_by("send_after", "pk")
                    .values_list("patient__email", "rendered__data")
                ],
                f,
            )
        env = {**os.environ, **sink.env(), "SITE_URL": SITE_URL}

        def raw_baseline() -> float:
            sink.handler.received.clear()
            out = subprocess.run(
                [sys.executable, "-c", RAW_LOOP, sink.host, str(sink.port), str(messages_file)],
                capture_output=True, text=True, check=True, cwd=ROOT,
            )  # fmt: skip
            assert len(sink.handler.received) == args.n
            return args.n / float(out.stdout.strip())

        def plain_loop() -> float:
            sink.handler.received.clear()
            out = subprocess.run(
                [sys.executable, "-c", PLAIN_LOOP],
                capture_output=True, text=True, check=True, cwd=ROOT, env=env,
            )  # fmt: skip
            assert len(sink.handler.received) == args.n, out.stderr[-2000:]
            return args.n / float(out.stdout.strip())

        plain = plain_loop()
        # Keep the rendered messages: each round sends them (and drops them).
        table = Reminder._meta.db_table
        messages_table = ReminderMessage._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE bench_messages AS SELECT * FROM {messages_table}")  # noqa: S608

        def reset() -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET state = 'pending', claim = NULL, claimed_at = NULL, "  # noqa: S608
                    "sent_at = NULL, attempts = 0"
                )
                cursor.execute(f"DELETE FROM {messages_table}")  # noqa: S608
                cursor.execute(f"INSERT INTO {messages_table} SELECT * FROM bench_messages")  # noqa: S608
                if connection.vendor == "postgresql":
                    # As the first round found it: no dead rows from the last.
                    cursor.execute(f"VACUUM ANALYZE {table}")
                    cursor.execute(f"VACUUM ANALYZE {messages_table}")

        worker_env = {
            **sink.env(),
            **PRODUCTION_ENV,
            "REMINDER_BATCH_SIZE": str(args.batch),
            "REMINDER_ASYNC_COMMIT": "1" if args.async_commit else "0",
        }
        baselines: list[float] = []
        rounds: list[float] = []
        exact: list[bool] = []
        with running_worker(
            broker_url=redis_server.url,
            env=worker_env,
            log_dir=work,
            queues=["celery"],
            pool="prefork",
            concurrency=args.concurrency,
        ) as worker:
            # Baseline and engine in turn, so load from anything else on the
            # machine falls on both alike; medians compared.
            for _ in range(args.rounds):
                baselines.append(raw_baseline())
                reset()
                sink.handler.received.clear()
                clock = time.perf_counter()
                worker.send_task("exercises.tasks.dispatch_reminders")
                arrived = wait_until(
                    lambda: len(sink.handler.received) >= args.n, timeout=600, interval=0.02
                )
                elapsed = time.perf_counter() - clock
                assert arrived, f"only {len(sink.handler.received)} of {args.n} arrived"
                rounds.append(args.n / elapsed)
                time.sleep(1)  # a duplicate would show up now
                recorded = wait_until(
                    lambda: Reminder.objects.filter(pk__in=due, state="sent").count() == args.n,
                    timeout=30,
                )
                per_recipient = Counter(
                    to for mail in sink.handler.received for to in mail.rcpt_tos
                )
                exact.append(
                    recorded
                    and len(per_recipient) == args.n
                    and sum(per_recipient.values()) == args.n
                )
            baselines.append(raw_baseline())

    engine_rate, baseline = statistics.median(rounds), statistics.median(baselines)
    ratio = engine_rate / baseline
    commit = "asynchronous" if args.async_commit else "durable"
    listed = ", ".join(f"{rate:.0f}" for rate in rounds)
    print(f"  engine: {engine_rate:7.0f} msgs/s median of {args.rounds} ({listed}); "
          f"batches of {args.batch}, {args.concurrency} worker processes, {commit} records; "
          f"every round exactly once (each recipient one message, every row sent): "
          f"{all(exact)}")  # fmt: skip
    listed = ", ".join(f"{rate:.0f}" for rate in baselines)
    print(f"  raw baseline: {baseline:7.0f} msgs/s median of {len(baselines)} ({listed}); "
          f"the same messages, one connection, plain loop")  # fmt: skip
    print(f"  plain build-and-send loop, no bookkeeping: {plain:7.0f} msgs/s")
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    print(f"  engine / raw baseline = {ratio:.0%}: {verdict} the {TARGET_RATIO:.0%} target")
    if not all(exact):
        sys.exit("delivery was not exactly once")


if __name__ == "__main__":
    main()
