"""How fast is the clinician dashboard for a big clinic? Not a test: run it.

    .venv/bin/python benchmarks/dashboard.py [--patients 10000] [--requests 300]

It builds (once) a clinic of N patients with years of history in a dedicated
PostgreSQL database (`seed_load`), serves the app from gunicorn with two
workers and production settings (DEBUG=0, compiled static files), signs a
clinician in by writing a session row directly (django-axes guards the login
form, and the login's password hashing would only add noise), then times
the pages over plain HTTP, one request at a time.

The floor is `/dashboard/ping/`: a staff-only page with the same sign-in,
middleware and page shell as the dashboard and nothing in it. Floor and
pages are requested in turn, so load from anything else on the machine hits
both alike. The target is a dashboard median within 3x the floor's.

Options: --database-url (default postgres://postgres@127.0.0.1:5432/backstride_bench),
--reseed (drop and rebuild the database), --port, --clinic-slug.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
TARGET_RATIO = 3.0

SESSION_SCRIPT = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db.models import Count, Q
from clinic.models import Patient, StaffMember
from exercises.models import Assignment

slug = {slug!r}
# The clinician with the most active plans: the busiest dashboard.
member = (
    StaffMember.objects.filter(clinic__slug=slug, role="clinician", is_active=True)
    .select_related("user")
    .annotate(active=Count("user__assignment", filter=Q(user__assignment__status="active")))
    .order_by("-active", "pk")
    .first()
)
session = SessionStore()
session[SESSION_KEY] = str(member.user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = member.user.get_session_auth_hash()
session.create()
patient = (
    Assignment.objects.filter(clinic__slug=slug, status="active")
    .annotate(n=Count("logs"))
    .order_by("-n", "pk")
    .values_list("patient_id", flat=True)
    .first()
)
print("|".join(str(v) for v in (session.session_key, member.display_name, member.active, patient)))
"""


def environment(database_url: str, var_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY="benchmark-only-not-a-secret-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        VAR_DIR=var_dir,
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=capture,
        text=True,
    )
    return result.stdout if capture else ""


def prepare_database(database_url: str, reseed: bool) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reseed:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"Created database {name}")


def vacuum(database_url: str) -> None:
    """What autovacuum does to a live database sooner or later: visibility
    maps (index-only scans, for counts) and fresh statistics."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def patient_count(env: dict[str, str], slug: str) -> int:
    out = manage(
        env,
        "shell",
        "-c",
        "from clinic.models import Patient; "
        f"print(Patient.objects.filter(clinic__slug={slug!r}).count())",
        capture=True,
    )
    return int(out.strip().splitlines()[-1])


def wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status in (200, 503):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer on port {port}")


def fetch(port: int, path: str, cookie: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    return elapsed, response.status, len(body)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300, help="Per page.")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/backstride_bench"
    )
    parser.add_argument("--clinic-slug", default="bench")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--port", type=int, default=0, help="Default: a free port.")
    args = parser.parse_args(argv)

    if not args.port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    var_dir = tempfile.mkdtemp(prefix="backstride-bench-")
    env = environment(args.database_url, var_dir)
    prepare_database(args.database_url, args.reseed)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    have = patient_count(env, args.clinic_slug)
    if have < args.patients:
        print(f"Seeding {args.patients - have} patients into '{args.clinic_slug}' ...")
        print(
            manage(
                env,
                "seed_load",
                "--patients",
                str(args.patients - have),
                "--clinic-slug",
                args.clinic_slug,
                capture=True,
            ).strip()
        )
        vacuum(args.database_url)
    else:
        print(f"Clinic '{args.clinic_slug}' already has {have} patients.")
    output = manage(env, "shell", "-c", SESSION_SCRIPT.format(slug=args.clinic_slug), capture=True)
    key, name, active, patient_id = output.strip().splitlines()[-1].split("|")
    print(f"Signed in as {name}, who runs {active} active plans.")
    cookie = f"sessionid={key}"

    server = subprocess.Popen(
        [
            GUNICORN,
            "clinic.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        wait_for(args.port)
        if server.poll() is not None:
            raise SystemExit("gunicorn stopped: is the port free?")
        pages = {
            "floor /dashboard/ping/": "/dashboard/ping/",
            "dashboard /dashboard/": "/dashboard/",
            "dashboard, whole clinic": "/dashboard/?scope=all",
            "patient list": "/dashboard/patients/",
            "patient page": f"/dashboard/patients/{patient_id}/",
        }
        for path in pages.values():  # warm both workers
            for _ in range(10):
                status = fetch(args.port, path, cookie)[1]
                if status != 200:
                    raise SystemExit(f"{path} answered {status}")
        timings: dict[str, list[float]] = {label: [] for label in pages}
        for n in range(args.requests):
            order = list(pages.items())
            if n % 2:
                order.reverse()
            for label, path in order:
                timings[label].append(fetch(args.port, path, cookie)[0])
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(var_dir, ignore_errors=True)

    floor = statistics.median(timings["floor /dashboard/ping/"])
    floor_p95 = p95(timings["floor /dashboard/ping/"])
    print(f"\n{args.requests} requests per page, gunicorn with 2 sync workers, DEBUG=0")
    print(f"{'page':<26}{'median ms':>11}{'p95 ms':>9}{'x floor':>9}{'p95 x':>7}")
    for label, values in timings.items():
        median = statistics.median(values)
        print(
            f"{label:<26}{median:>11.1f}{p95(values):>9.1f}"
            f"{median / floor:>9.2f}{p95(values) / floor_p95:>7.2f}"
        )
    ratio = statistics.median(timings["dashboard /dashboard/"]) / floor
    # Each dashboard request over the floor request of the same round: less
    # swayed by other work on the machine drifting during the run.
    paired = statistics.median(
        d / f
        for d, f in zip(
            timings["dashboard /dashboard/"], timings["floor /dashboard/ping/"], strict=True
        )
    )
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"\nDashboard median is {ratio:.2f}x the floor: {verdict} the {TARGET_RATIO:g}x target.")
    print(f"Paired ratio (each dashboard request over the floor request beside it): {paired:.2f}x.")
    print(f"Load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}.")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
