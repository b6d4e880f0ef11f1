"""Real services for the integration tests: an SMTP server, a Redis broker and
a Celery worker process.

A plain module, not a conftest: a test module imports the fixtures it needs,
for example::

    from tests.integration import smtp_sink_fixture, start_worker_fixture  # noqa: F401

and then asks for `smtp_sink` and `start_worker` by name (`redis_broker_url_fixture`
gives `redis_broker_url` for a test that talks to Redis itself). The context managers
underneath (`running_smtp_sink`, `running_worker`) work without pytest too, as do
`running_redis_server` (a Redis of the test's own, to restart) and `running_beat`
(celery beat on the test database), for tests that break things on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from aiosmtpd.controller import Controller
from celery import Celery
from django.db import connection
from kombu import Exchange, Queue
from redis.backoff import NoBackoff
from redis.retry import Retry

REPO_ROOT = Path(__file__).resolve().parent.parent
# Where the worker's emails point: an address no real deployment uses.
SITE_URL = "http://testserver.example"
# Used when CELERY_BROKER_URL is not a Redis URL: a database number of its own,
# away from what a developer's `make run` keeps in db 0.
FALLBACK_REDIS_URL = "redis://127.0.0.1:6379/15"


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


# Redis ----------------------------------------------------------------------


def redis_url() -> str:
    """CELERY_BROKER_URL when it is a Redis URL (CI), otherwise the local fallback."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith(("redis://", "rediss://")) else FALLBACK_REDIS_URL


def redis_url_or_skip() -> str:
    """The Redis URL to use, or skip the test when Redis does not answer a PING within 1 s."""
    url = redis_url()
    client = redis.Redis.from_url(
        url, socket_connect_timeout=1, socket_timeout=1, retry=Retry(NoBackoff(), 0)
    )
    try:
        client.ping()
    except (redis.RedisError, OSError):
        pytest.skip(
            f"Redis is not answering at {url}: the worker integration test needs a real broker"
        )
    finally:
        client.close()
    return url


@pytest.fixture(name="redis_broker_url")
def redis_broker_url_fixture() -> str:
    return redis_url_or_skip()


# SMTP -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def content_types(self) -> list[str]:
        return [part.get_content_type() for part in self.message.walk()]

    def body(self, subtype: str) -> str:
        """The decoded text of the text/<subtype> part ("plain" or "html")."""
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None, f"no text/{subtype} part in {self.content_types}"
        assert part.get_content_type() == f"text/{subtype}"
        return part.get_content()


class RecordingHandler:
    """An aiosmtpd handler that keeps every accepted message in memory.

    `fail_next(reply)` makes the next DATA command answer `reply` instead (a
    4xx reply is a temporary failure the sender should retry); refused
    messages are kept in `refused`, not in `received`.
    """

    def __init__(self, *, delay: float = 0.0, refuse_every: int = 0) -> None:
        self._lock = threading.Lock()
        self._failures: list[str] = []
        self._count = 0
        # A slower server (seconds per message), and a 451 for every nth message.
        self.delay = delay
        self.refuse_every = refuse_every
        self.received: list[ReceivedMail] = []
        self.refused: list[ReceivedMail] = []

    def fail_next(self, reply: str = "451 4.3.0 Try again later", *, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([reply] * times)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = ReceivedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            content=bytes(envelope.content),
        )
        with self._lock:
            self._count += 1
            if self.refuse_every and self._count % self.refuse_every == 0:
                self._failures.append("451 4.3.0 Try again later")
            refusal = self._failures.pop(0) if self._failures else None
            (self.refused if refusal else self.received).append(mail)
        if self.delay:
            # Kept first, answered later, as a real server queues a message
            # before it replies: a sender killed meanwhile has delivered a
            # message it never hears was accepted.
            await asyncio.sleep(self.delay)
        return refusal or "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    host: str
    port: int
    handler: RecordingHandler

    @property
    def received(self) -> list[ReceivedMail]:
        return list(self.handler.received)

    @property
    def refused(self) -> list[ReceivedMail]:
        return list(self.handler.refused)

    def fail_next(self, reply: str = "451 4.3.0 Try again later", *, times: int = 1) -> None:
        self.handler.fail_next(reply, times=times)

    def wait_for(self, count: int, *, timeout: float, settle: float = 1.0) -> list[ReceivedMail]:
        """The accepted messages once at least `count` arrived (or `timeout`
        passed), after a further `settle` seconds so a duplicate shows up too."""
        if wait_until(lambda: len(self.handler.received) >= count, timeout=timeout):
            time.sleep(settle)
        return self.received

    def env(self) -> dict[str, str]:
        """Settings for a process that should send its mail here."""
        return {
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": str(self.port),
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": "0",
            "EMAIL_USE_SSL": "0",
            "EMAIL_TIMEOUT": "10",
        }


@contextlib.contextmanager
def running_smtp_sink(*, delay: float = 0.0, refuse_every: int = 0) -> Iterator[SmtpSink]:
    handler = RecordingHandler(delay=delay, refuse_every=refuse_every)
    host = "127.0.0.1"
    controller = Controller(handler, hostname=host, port=free_port())
    controller.start()
    try:
        yield SmtpSink(host=host, port=controller.port, handler=handler)
    finally:
        controller.stop()


@pytest.fixture(name="smtp_sink")
def smtp_sink_fixture() -> Iterator[SmtpSink]:
    with running_smtp_sink() as sink:
        yield sink


# Celery worker --------------------------------------------------------------


def database_url_for_worker() -> str:
    """DATABASE_URL for another process to open the test database this process
    uses. Call it after the test database exists (inside a db test)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = str(db["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            raise RuntimeError("an in-memory SQLite test database cannot be shared with a worker")
        return f"sqlite:///{Path(name).resolve()}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        user = quote(db.get("USER") or "", safe="")
        password = quote(db.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or "5432"
        return f"postgres://{auth}{host}:{port}/{quote(str(db['NAME']), safe='')}"
    raise RuntimeError(f"no DATABASE_URL for a {db['ENGINE']} test database")


def publisher(broker_url: str) -> Celery:
    """A Celery app of our own that only publishes to `broker_url`: the
    project's app is eager in unit tests and may point at another broker."""
    app = Celery("backstride-integration-tests", broker=broker_url, set_as_current=False)
    app.conf.update(
        # Celery lets CELERY_BROKER_URL in the environment override `broker`;
        # the read and write URLs win over it, for a test with a Redis of its own.
        broker_read_url=broker_url,
        broker_write_url=broker_url,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        task_always_eager=False,
    )
    return app


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    app: Celery
    broker_url: str
    queue: str
    hostname: str
    log_path: Path

    def send_task(
        self,
        name: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Any:
        """Publish a task to this worker's own queue on the real broker."""
        return self.app.send_task(
            name, args=list(args), kwargs=dict(kwargs or {}), queue=self.queue, **options
        )

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def ping(self, timeout: float = 0.5) -> bool:
        try:
            replies = self.app.control.ping(destination=[self.hostname], timeout=timeout) or []
        except (redis.RedisError, OSError):  # a broker restarted under the test: not yet
            return False
        return any(self.hostname in reply for reply in replies)

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acks, nothing recorded after this instant."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (warm shutdown), then SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _queue_declaration(queue: str) -> Queue:
    # The queue Celery creates for `-Q name` and `send_task(queue=name)`.
    return Queue(queue, Exchange(queue, type="direct"), routing_key=queue)


def _delete_queue(bound: Queue) -> None:
    # kombu's Redis transport removes only the bindings this channel declared.
    bound.declare()
    bound.delete()


def _with_channel(app: Celery, action: Callable[[Any], Any]) -> None:
    with app.connection_for_write() as conn:
        action(conn.default_channel)


@contextlib.contextmanager
def running_worker(
    *,
    broker_url: str,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 30,
    log_dir: Path | None = None,
    queues: Sequence[str] = (),
    pool: str = "solo",
    concurrency: int = 1,
) -> Iterator[Worker]:
    """A `celery -A clinic worker` process on a queue of its own, on the test
    database, ready to take tasks; always stopped afterwards, its output
    printed (pytest shows it when the test fails). With `queues` it consumes
    those instead (for example Celery's default queue, where beat and the
    reminder dispatcher publish), on a broker the test owns."""
    own = f"backstride-itest-{uuid.uuid4().hex[:12]}"
    queue = ",".join(queues) or own
    hostname = f"{own}@localhost"
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="backstride-worker-"))
    log_path = log_dir / f"{own}.log"
    app = publisher(broker_url)
    declaration = _queue_declaration(queue)
    if not queues:
        # Declared before the worker starts, so nothing published is dropped for
        # want of a binding, and empty, so nothing stale is delivered.
        _with_channel(app, lambda ch: (declaration(ch).declare(), declaration(ch).purge()))

    worker_env = {
        **os.environ,
        "DATABASE_URL": database_url_for_worker(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SITE_URL": SITE_URL,
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "clinic", "worker",
        f"--pool={pool}", f"--concurrency={concurrency}", "--loglevel=INFO",
        "-Q", queue, "-n", hostname,
        "--without-heartbeat", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=worker_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(process, app, broker_url, queue, hostname, log_path)
    try:
        ready = wait_until(lambda: not worker.alive() or worker.ping(), timeout=ready_timeout)
        if not worker.alive():
            pytest.fail(
                f"the Celery worker exited with {process.returncode}:\n{worker.output()}",
                pytrace=False,
            )
        if not ready:
            pytest.fail(
                f"the Celery worker did not answer a ping within {ready_timeout} s:\n"
                f"{worker.output()}",
                pytrace=False,
            )
        yield worker
    finally:
        worker.stop()
        print(f"--- Celery worker output ({log_path}) ---\n{worker.output()}")
        if not queues:
            with contextlib.suppress(Exception):
                _with_channel(app, lambda ch: _delete_queue(declaration(ch)))
        app.close()


@pytest.fixture(name="start_worker")
def start_worker_fixture(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start a real worker: `start_worker(smtp=sink, env={...})`. It needs
    committed rows, hence `transactional_db`; all are stopped at teardown.
    Skips the test when Redis does not answer."""
    broker_url = redis_url_or_skip()
    with contextlib.ExitStack() as stack:

        def start(
            *, smtp: SmtpSink | None = None, env: Mapping[str, str] | None = None, **kwargs: Any
        ) -> Worker:
            merged = {**(smtp.env() if smtp else {}), **(env or {})}
            return stack.enter_context(
                running_worker(broker_url=broker_url, env=merged, log_dir=tmp_path, **kwargs)
            )

        yield start


# A Redis of the test's own -----------------------------------------------------


@dataclass
class RedisServer:
    """A `redis-server` subprocess on a free port, with no persistence: a
    restart loses every queued message, as a crashed broker would. The
    machine's shared Redis is never touched."""

    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> None:
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            if not wait_until(lambda: self._answers(client), timeout=timeout):
                pytest.fail(f"redis-server did not start:\n{self.log_path.read_text()}")
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False


@contextlib.contextmanager
def running_redis_server(log_dir: Path) -> Iterator[RedisServer]:
    """Skips the test when redis-server is not installed."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: this test runs a Redis of its own to restart")
    server = RedisServer(port=free_port(), log_path=log_dir / "redis-server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


# Celery beat ------------------------------------------------------------------


@dataclass
class Beat:
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


@contextlib.contextmanager
def running_beat(
    *, broker_url: str, log_dir: Path, env: Mapping[str, str] | None = None
) -> Iterator[Beat]:
    """`celery -A clinic beat` with django-celery-beat's DatabaseScheduler (the
    project's setting) on the test database; stopped afterwards."""
    log_path = log_dir / f"beat-{uuid.uuid4().hex[:8]}.log"
    beat_env = {
        **os.environ,
        "DATABASE_URL": database_url_for_worker(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    command = [sys.executable, "-m", "celery", "-A", "clinic", "beat", "--loglevel=INFO",
               "--max-interval=1"]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=beat_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    beat = Beat(process, log_path)
    try:
        yield beat
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        print(f"--- Celery beat output ({log_path}) ---\n{beat.output()[-5000:]}")
