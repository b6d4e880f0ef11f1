"""/healthz: what a load balancer or `docker compose` asks before sending
traffic. It checks the database and the Celery broker for real."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from tests.integration import free_port

pytestmark = pytest.mark.django_db

# A broker that is down must be reported quickly, not after the load
# balancer's own check has given up.
QUICK = 5.0


def _get(client: Client) -> tuple[Any, float]:
    started = time.monotonic()
    response = client.get("/healthz")
    return response, time.monotonic() - started


def test_healthz_is_ok_with_the_configured_database_and_broker(client: Client) -> None:
    # Whatever the environment configures: SQLite and the filesystem broker
    # by default, PostgreSQL and Redis in CI.
    response, _ = _get(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_unavailable_quickly_when_the_broker_does_not_answer(
    client: Client, settings: Any
) -> None:
    # A real Redis URL on a port where nothing listens: the connection is
    # refused, as when Redis is down.
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response, elapsed = _get(client)

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "down"}
    assert elapsed < QUICK, f"/healthz took {elapsed:.1f} s to report the broker down"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word, like a hung
    Redis or a proxy in front of a dead one. It drops each connection after
    HOLD seconds, so a health check without a read timeout fails this test
    instead of hanging the suite."""
    hold = 3 * QUICK
    stop = threading.Event()
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(0.1)

        def serve() -> None:
            held: list[tuple[socket.socket, float]] = []
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    conn, _ = server.accept()
                    held.append((conn, time.monotonic() + hold))
                for conn, until in [h for h in held if h[1] <= time.monotonic()]:
                    conn.close()
                    held.remove((conn, until))
            for conn, _ in held:
                conn.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield server.getsockname()[1]
        finally:
            stop.set()
            thread.join(5)


def test_healthz_is_unavailable_quickly_when_the_broker_accepts_but_never_answers(
    client: Client, settings: Any, silent_server: int
) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent_server}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response, elapsed = _get(client)

    assert response.status_code == 503
    assert response.json()["broker"] == "down"
    assert elapsed < QUICK, f"/healthz took {elapsed:.1f} s to report the broker down"


class _FailingConnection:
    """Stands in for django.db.connection: its cursor cannot be opened."""

    def cursor(self) -> Any:
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


def test_healthz_is_unavailable_when_the_database_fails(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A simulated outage: the test cannot stop the real database under its own
    # feet, so only the view's health probe gets a connection that fails.
    monkeypatch.setattr("clinic.views.connection", _FailingConnection())

    response, elapsed = _get(client)

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down", "broker": "ok"}
    assert elapsed < QUICK
