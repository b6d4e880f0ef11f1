"""The reminder engine in one process: planning, claiming, skipping, sending,
retrying and giving up, the crash window, unsubscribe and resume, the
patient's own time and days, and consult reminders.

Celery is eager here, so the dispatcher's send tasks run inline; the real
worker, broker and SMTP server are in tests/test_reminder_faults.py."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from smtplib import SMTPDataError, SMTPRecipientsRefused, SMTPServerDisconnected
from typing import Any, ClassVar

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend as SmtpEmailBackend
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from kombu.exceptions import OperationalError

from clinic.models import Clinic, Consult, Patient, StaffMember
from exercises import links, reminders
from exercises.models import Assignment, Reminder, ReminderMessage, ReminderSent, SessionLog
from exercises.services import assignment_update
from tests.factories import ClinicFactory, PatientFactory
from tests.integration import RecordingHandler, free_port
from tests.reminders_support import (
    CRASH_AFTER_ACCEPT,
    AssignmentFactory,
    ScriptedBackend,
    WorkerDied,
    make_consult,
    plans_due_at,
)

pytestmark = pytest.mark.django_db

# A Monday in November: London is on GMT, so its 07:30 is 07:30 UTC.
NOW = datetime(2026, 11, 23, 7, 30, 30, tzinfo=UTC)
MONDAY, TUESDAY = NOW.date(), NOW.date() + timedelta(days=1)
State = Reminder.State


@pytest.fixture
def clock(time_machine: Any) -> Any:
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def plan(clock: Any, patient: Patient) -> Assignment:
    plan = AssignmentFactory(
        patient=patient, notes="Disc bulge at L5: keep the bridges slow.", goal="Settle the disc"
    )
    # Assigned last week: reminders are never for a moment before the plan existed.
    Assignment.objects.filter(pk=plan.pk).update(created_at=NOW - timedelta(days=7))
    plan.refresh_from_db()
    return plan


@pytest.fixture
def scripted(settings: Any) -> type[ScriptedBackend]:
    settings.EMAIL_BACKEND = "tests.reminders_support.ScriptedBackend"
    ScriptedBackend.reset()
    return ScriptedBackend


def tick(now: datetime | None = None) -> None:
    """What beat does each minute, with the send tasks run inline."""
    reminders.reminders_plan(now=now)
    reminders.reminders_dispatch(now=now)


def row_for(plan: Assignment, day: Any) -> Reminder:
    return Reminder.objects.get(assignment=plan, day=day)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


# Planning --------------------------------------------------------------------


def test_the_planner_makes_one_row_per_session_day_at_the_patients_own_time(
    plan: Assignment,
) -> None:
    assert reminders.reminders_plan() == 2
    rows = Reminder.objects.filter(assignment=plan).order_by("day")
    assert [(r.day, r.due_at, r.state, r.kind) for r in rows] == [
        (MONDAY, datetime(2026, 11, 23, 7, 30, tzinfo=UTC), State.PENDING, "exercise"),
        (TUESDAY, datetime(2026, 11, 24, 7, 30, tzinfo=UTC), State.PENDING, "exercise"),
    ]
    assert {(r.clinic_id, r.patient_id) for r in rows} == {(plan.clinic_id, plan.patient_id)}


def test_planning_again_or_from_a_second_beat_adds_nothing(plan: Assignment) -> None:
    assert reminders.reminders_plan() == 2
    assert reminders.reminders_plan() == 0
    # A racing planner that did not see the first one's rows inserts its own:
    # the unique constraint keeps one of each.
    racing = [
        Reminder(
            kind="exercise",
            clinic=plan.clinic,
            patient=plan.patient,
            assignment=plan,
            day=day,
            due_at=plan.reminder_at(day),
            send_after=plan.reminder_at(day),
        )
        for day in (MONDAY, TUESDAY)
    ]
    Reminder.objects.bulk_create(racing, ignore_conflicts=True)
    assert Reminder.objects.filter(assignment=plan).count() == 2


def test_rest_days_and_days_outside_the_plan_get_no_row(clock: Any, patient: Patient) -> None:
    plan = AssignmentFactory(patient=patient, days_of_week=[1], start_date=MONDAY)
    Assignment.objects.filter(pk=plan.pk).update(created_at=NOW - timedelta(days=1))
    ended = AssignmentFactory(
        patient=PatientFactory(clinic=patient.clinic),
        start_date=MONDAY - timedelta(days=30),
        end_date=MONDAY - timedelta(days=1),
    )
    Assignment.objects.filter(pk=ended.pk).update(created_at=NOW - timedelta(days=40))
    reminders.reminders_plan()
    assert list(Reminder.objects.values_list("assignment_id", "day")) == [(plan.pk, TUESDAY)]


@pytest.mark.parametrize(
    "change",
    [
        "plan paused",
        "plan ended",
        "reminders off for the plan",
        "clinic has reminders off",
        "no consent to email",
    ],
)
def test_no_rows_are_planned_for_plans_that_want_no_reminders(
    plan: Assignment, change: str
) -> None:
    apply_change(plan, change)
    assert reminders.reminders_plan() == 0


def test_no_reminder_for_a_moment_before_the_plan_was_assigned(
    clock: Any, patient: Patient
) -> None:
    AssignmentFactory(patient=patient)  # assigned at 07:30:30, a moment after today's 07:30
    reminders.reminders_plan()
    assert list(Reminder.objects.values_list("day", flat=True)) == [TUESDAY]


# Sending ---------------------------------------------------------------------


def test_a_due_reminder_goes_once_with_todays_exercises_and_one_click_links(
    plan: Assignment, client: Client
) -> None:
    tick()
    tick()
    [message] = mail.outbox
    assert message.to == ["jamie@example.com"]
    assert message.subject == "Time for today's exercises"
    text = message.body
    assert "Glute bridge: 3 × 12 reps" in text
    assert "Plank: 3 × 30 s hold" in text
    html = message.alternatives[0][0]
    assert "Glute bridge" in html and "3 × 12 reps" in html

    done = re.search(r"https?://\S+/done/[^/\s]+/", text)
    assert done and links.done_from_token(done.group(0).split("/")[-2]) == (plan.pk, MONDAY)
    assert path_of(links.plan_path(plan.pk)).split(":")[0] in text

    unsubscribe = message.extra_headers["List-Unsubscribe"]
    match = re.fullmatch(r"<(https?://[^>]+/unsubscribe/([^/]+)/)>", unsubscribe)
    assert match, unsubscribe
    assert links.unsubscribe_id_from_token(match.group(2)) == plan.pk
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert match.group(1) in text and match.group(1) in html
    assert message.extra_headers["Message-ID"] == f"<reminder-{row_for(plan, MONDAY).pk}@127.0.0.1>"

    row = row_for(plan, MONDAY)
    assert (row.state, row.attempts, row.sent_at) == (State.SENT, 1, NOW)
    assert row_for(plan, TUESDAY).state == State.PENDING


def test_the_reminder_carries_no_diagnosis_goal_or_notes(plan: Assignment) -> None:
    tick()
    [message] = mail.outbox
    for body in (message.subject, message.body, message.alternatives[0][0]):
        assert "Disc" not in body and "L5" not in body and "Settle" not in body


def apply_change(plan: Assignment, change: str) -> None:
    if change == "plan paused":
        Assignment.objects.filter(pk=plan.pk).update(status=Assignment.Status.PAUSED)
    elif change == "plan ended":
        Assignment.objects.filter(pk=plan.pk).update(status=Assignment.Status.ENDED)
    elif change == "reminders off for the plan":
        Assignment.objects.filter(pk=plan.pk).update(reminders_enabled=False)
    elif change == "clinic has reminders off":
        Clinic.objects.filter(pk=plan.clinic_id).update(reminders_enabled=False)
    elif change == "no consent to email":
        Patient.objects.filter(pk=plan.patient_id).update(consent_email=False)
    elif change == "session already logged":
        SessionLog.objects.create(assignment=plan, date=MONDAY)
    else:
        raise AssertionError(change)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("plan paused", "plan paused"),
        ("plan ended", "plan ended"),
        ("reminders off for the plan", "reminders paused for this plan"),
        ("clinic has reminders off", "clinic has reminders off"),
        ("no consent to email", "no consent to email"),
        ("session already logged", "session already logged"),
    ],
)
def test_a_planned_reminder_is_skipped_not_sent_when(
    plan: Assignment, change: str, reason: str
) -> None:
    reminders.reminders_plan()
    apply_change(plan, change)
    reminders.reminders_dispatch()
    row = row_for(plan, MONDAY)
    assert (row.state, row.skip_reason) == (State.SKIPPED, reason)
    assert mail.outbox == []


def test_a_reminder_hours_late_is_skipped(plan: Assignment, clock: Any) -> None:
    reminders.reminders_plan()
    clock.move_to(NOW + timedelta(hours=7))
    reminders.reminders_dispatch()
    assert (row_for(plan, MONDAY).state, row_for(plan, MONDAY).skip_reason) == (
        State.SKIPPED,
        "too late",
    )
    assert mail.outbox == []


def test_a_temporary_smtp_refusal_is_retried_after_a_backoff(
    plan: Assignment, clock: Any, scripted: type[ScriptedBackend]
) -> None:
    scripted.script = [SMTPDataError(451, b"4.3.0 Try again later")]
    tick()
    row = row_for(plan, MONDAY)
    assert (row.state, row.attempts, row.last_error) == (
        State.PENDING,
        1,
        "451 4.3.0 Try again later",
    )
    # Backoff with jitter: between half and all of the base delay, not at once.
    assert NOW + timedelta(seconds=15) <= row.send_after <= NOW + timedelta(seconds=30)
    reminders.reminders_dispatch()
    assert scripted.accepted == []

    clock.move_to(row.send_after + timedelta(seconds=1))
    reminders.reminders_dispatch()
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.SENT, 2)
    assert [m.to for m in scripted.accepted] == [["jamie@example.com"]]


def test_a_permanent_refusal_is_recorded_as_failed_for_the_dashboard(
    plan: Assignment, scripted: type[ScriptedBackend]
) -> None:
    scripted.script = [
        SMTPRecipientsRefused({"jamie@example.com": (550, b"5.1.1 No such mailbox")})
    ]
    tick()
    row = row_for(plan, MONDAY)
    assert (row.state, row.last_error) == (
        State.FAILED,
        "jamie@example.com: 550 5.1.1 No such mailbox",
    )
    assert list(Reminder.objects.for_clinic(plan.clinic).failed()) == [row]
    tick()
    assert scripted.accepted == []


def test_a_refused_reminder_shows_on_the_dashboard_until_a_later_one_gets_through(
    clock: Any,
    plan: Assignment,
    scripted: type[ScriptedBackend],
    physio_client: Client,
    receptionist_client: Client,
    other_physio_client: Client,
) -> None:
    scripted.script = [
        SMTPRecipientsRefused({"jamie@example.com": (550, b"5.1.1 No such mailbox")})
    ]
    tick()
    assert row_for(plan, MONDAY).state == State.FAILED

    page = physio_client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="undelivered"' in page
    assert plan.patient.first_name in page and "jamie@example.com" in page
    assert "Exercise reminder for Mon 23 Nov, 07:30: 550 5.1.1 No such mailbox" in page
    # Reception puts addresses right, but whether there is a plan is clinical.
    page = receptionist_client.get(reverse("dashboard")).content.decode()
    assert "jamie@example.com" in page and "550 5.1.1 No such mailbox" in page
    assert "Exercise reminder" not in page and "Reminder for Mon 23 Nov" in page
    # Another clinic's staff see nothing of it.
    page = other_physio_client.get(reverse("dashboard")).content.decode()
    assert "jamie@example.com" not in page

    # The address is put right; the next day's reminder gets through.
    clock.move_to(NOW + timedelta(days=1))
    tick()
    assert row_for(plan, TUESDAY).state == State.SENT
    page = physio_client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="undelivered"' not in page


def test_a_dropped_connection_fails_one_message_and_the_batch_reconnects(
    clock: Any, clinic: Clinic, scripted: type[ScriptedBackend]
) -> None:
    plans_due_at(clinic=clinic, count=3, now=NOW)
    scripted.script = [None, SMTPServerDisconnected("Connection unexpectedly closed")]
    tick()
    states = Counter(
        Reminder.objects.filter(day__isnull=False, due_at__lte=NOW).values_list("state", flat=True)
    )
    assert states == {State.SENT: 2, State.PENDING: 1}
    assert scripted.connections == 2


def test_when_the_server_cannot_be_reached_the_whole_batch_waits_for_a_retry(
    clock: Any, clinic: Clinic, scripted: type[ScriptedBackend]
) -> None:
    plans_due_at(clinic=clinic, count=3, now=NOW)
    scripted.open_failures = [ConnectionRefusedError(111, "Connection refused")]
    tick()
    due = Reminder.objects.filter(due_at__lte=NOW)
    assert {(r.state, r.attempts) for r in due} == {(State.PENDING, 1)}
    assert {r.last_error for r in due} == {"ConnectionRefusedError: [Errno 111] Connection refused"}
    assert scripted.accepted == []


def test_after_the_last_attempt_a_temporary_failure_becomes_failed(
    plan: Assignment, clock: Any, scripted: type[ScriptedBackend], settings: Any
) -> None:
    settings.REMINDER_MAX_ATTEMPTS = 2
    scripted.script = [SMTPDataError(451, b"busy"), SMTPDataError(452, b"still busy")]
    tick()
    clock.move_to(NOW + timedelta(minutes=5))
    tick()
    row = row_for(plan, MONDAY)
    assert (row.state, row.attempts, row.last_error) == (
        State.FAILED,
        2,
        "452 still busy (after 2 attempts)",
    )


# Rendered ahead ------------------------------------------------------------------


class ScriptedHandler(RecordingHandler):
    """A real SMTP server (aiosmtpd) that can refuse the MAIL or RCPT command."""

    def __init__(self) -> None:
        super().__init__()
        self.mail_reply = ""
        self.rcpt_reply = ""

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from, envelope.mail_options = address, options
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[ScriptedHandler]:
    """Django's SMTP backend, to an SMTP server on a port of its own: the
    engine renders ahead only for SMTP, and writes those bytes to the wire."""
    handler = ScriptedHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield handler
    controller.stop()


def test_the_coming_days_reminders_are_rendered_ahead_and_sent_as_rendered(
    plan: Assignment, smtp: ScriptedHandler
) -> None:
    reminders.reminders_plan()
    assert reminders.reminders_render() == 2
    monday = row_for(plan, MONDAY)
    stored = bytes(monday.rendered.data)
    assert monday.rendered.rendered_for == "plan v1 to jamie@example.com"
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in stored
    assert b"\r\nDate:" not in stored.partition(b"\r\n\r\n")[0]
    assert reminders.reminders_render() == 0  # nothing left to render

    reminders.reminders_dispatch()
    [mail] = smtp.received
    # The envelope, as Django's backend gives it: bare addresses.
    assert (mail.mail_from, mail.rcpt_tos) == ("no-reply@backstride.invalid", ["jamie@example.com"])
    # The stored message with a Date of the moment it went, as the server got it.
    sent = b"Date: Mon, 23 Nov 2026 07:30:30 -0000\r\n" + stored
    assert mail.content.rstrip(b"\r\n") == sent.rstrip(b"\r\n")
    assert mail.message["Subject"] == "Time for today's exercises"
    monday.refresh_from_db()
    assert monday.state == State.SENT
    # Sent: the rendered copy (names, exercises) is not kept; Tuesday's waits.
    assert list(ReminderMessage.objects.values_list("reminder__day", flat=True)) == [TUESDAY]


def test_a_rendered_message_with_a_line_starting_with_a_dot_arrives_whole(
    plan: Assignment, smtp: ScriptedHandler
) -> None:
    reminders.reminders_plan()
    reminders.reminders_render()
    # SMTP ends a message at a line of one dot: such lines are doubled on the wire.
    body = b"Subject: Dots\r\n\r\n.\r\n..two\r\nend\r\n"
    ReminderMessage.objects.filter(reminder__day=MONDAY).update(data=body)
    reminders.reminders_dispatch()
    [mail] = smtp.received
    assert mail.content.endswith(b"\r\n\r\n.\r\n..two\r\nend\r\n")


@pytest.mark.parametrize(
    ("command", "reply", "state", "error"),
    [
        ("rcpt", "550 5.1.1 No such mailbox", State.FAILED, "jamie@example.com: 550 5.1.1"),
        ("mail", "553 5.7.1 Sender not allowed", State.FAILED, "553 5.7.1 Sender not allowed"),
        ("rcpt", "452 4.2.2 Mailbox full", State.PENDING, "jamie@example.com: 452 4.2.2"),
        ("mail", "421 4.3.2 Shutting down", State.PENDING, "421 4.3.2 Shutting down"),
        ("rcpt", "421 4.3.2 Shutting down", State.PENDING, "jamie@example.com: 421 4.3.2"),
    ],
)
def test_a_rendered_reminder_refused_by_the_server_is_failed_or_retried(
    plan: Assignment, smtp: ScriptedHandler, command: str, reply: str, state: str, error: str
) -> None:
    reminders.reminders_plan()
    reminders.reminders_render()
    setattr(smtp, f"{command}_reply", reply)
    reminders.reminders_dispatch()
    row = row_for(plan, MONDAY)
    assert smtp.received == []
    assert row.state == state
    assert row.last_error.startswith(error)
    # Failed: nothing of it kept. Retrying: the rendered message waits for the next attempt.
    assert ReminderMessage.objects.filter(reminder=row).exists() == (state == State.PENDING)


def test_sending_a_rendered_batch_costs_the_same_queries_for_3_or_30_reminders(
    clock: Any, clinic: Clinic, smtp: ScriptedHandler
) -> None:
    def queries_to_send(count: int, at: datetime) -> int:
        clock.move_to(at)
        plans_due_at(clinic=clinic, count=count, now=at, email_prefix=f"at{at:%H}-")
        reminders.reminders_plan(now=at)
        reminders.reminders_render(now=at)
        smtp.received.clear()
        with CaptureQueriesContext(connection) as queries:
            reminders.reminders_dispatch(now=at)
        assert len(smtp.received) == count
        # Less the one record per message (on PostgreSQL a prepared statement
        # of its own, which Django does not see).
        return sum(
            not query["sql"].startswith("INSERT INTO exercises_remindersent") for query in queries
        )

    assert queries_to_send(3, NOW) == queries_to_send(30, NOW + timedelta(hours=2))


def test_after_a_refused_message_the_next_goes_through_on_the_same_connection(
    clock: Any, clinic: Clinic, smtp: ScriptedHandler
) -> None:
    plans_due_at(clinic=clinic, count=2, now=NOW)
    reminders.reminders_plan()
    assert reminders.reminders_render() == 4  # today's and tomorrow's
    smtp.fail_next("554 5.6.0 Message content rejected")
    reminders.reminders_dispatch()
    due = Reminder.objects.filter(due_at__lte=NOW)
    states = Counter(due.values_list("state", "last_error"))
    assert states == {
        (State.FAILED, "554 5.6.0 Message content rejected"): 1,
        (State.SENT, ""): 1,
    }
    assert len(smtp.received) == 1 and len(smtp.refused) == 1


def test_a_message_rendered_before_the_plan_changed_is_built_again(
    plan: Assignment, smtp: ScriptedHandler
) -> None:
    reminders.reminders_plan()
    reminders.reminders_render()
    # An edit that did not pass through the services (the admin, a shell).
    Assignment.objects.filter(pk=plan.pk).update(version=2)
    ReminderMessage.objects.filter(reminder__assignment=plan).update(
        data=b"Subject: stale\r\n\r\nstale"
    )
    reminders.reminders_dispatch()
    [mail] = smtp.received
    assert b"stale" not in mail.content
    assert b"Glute bridge" in mail.content


def test_editing_the_plan_drops_what_was_rendered_ahead(
    plan: Assignment, smtp: ScriptedHandler
) -> None:
    reminders.reminders_plan()
    reminders.reminders_render()
    assignment_update(assignment=plan, reminder_time=time(9, 0))
    assert not ReminderMessage.objects.exists()
    # Rendered again from the new version (Tuesday's 09:00 is not within a day yet).
    assert reminders.reminders_render() == 1
    assert list(ReminderMessage.objects.values_list("reminder__day", "rendered_for")) == [
        (MONDAY, "plan v2 to jamie@example.com")
    ]


class CommitWatchingBackend(SmtpEmailBackend):
    """Notes the session's synchronous_commit as each message goes."""

    seen: ClassVar[list[str]] = []

    def send_messages(self, email_messages: Any) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            self.seen.append(cursor.fetchone()[0])
        return super().send_messages(email_messages)


def test_async_commit_applies_to_a_batchs_records_only(
    plan: Assignment, smtp: ScriptedHandler, settings: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    settings.REMINDER_ASYNC_COMMIT = True
    settings.EMAIL_BACKEND = "tests.test_reminders.CommitWatchingBackend"
    CommitWatchingBackend.seen = []
    tick()
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        after = cursor.fetchone()[0]
    assert (CommitWatchingBackend.seen, after) == (["off"], "on")
    assert row_for(plan, MONDAY).state == State.SENT
    assert len(smtp.received) == 1


def test_nothing_is_rendered_ahead_for_a_backend_that_takes_message_objects(
    plan: Assignment,
) -> None:
    reminders.reminders_plan()
    assert reminders.reminders_render() == 0


# Claiming, reclaiming and the one window exactly-once cannot close ------------


def test_a_send_task_delivered_twice_sends_once(plan: Assignment) -> None:
    reminders.reminders_plan()
    batches: list[tuple[list[int], str]] = []
    reminders.reminders_dispatch(publish=lambda ids, claim: batches.append((ids, claim)))
    [(ids, claim)] = batches
    assert reminders.reminders_send(ids=ids, claim=claim).sent == 1
    assert reminders.reminders_send(ids=ids, claim=claim).sent == 0
    assert len(mail.outbox) == 1


def test_a_stuck_claim_is_reclaimed_after_the_timeout_and_its_late_task_does_nothing(
    plan: Assignment, clock: Any, settings: Any
) -> None:
    reminders.reminders_plan()
    lost: list[tuple[list[int], str]] = []
    # The broker loses the task (Redis restarted): the row sits in "sending".
    reminders.reminders_dispatch(publish=lambda ids, claim: lost.append((ids, claim)))
    row = row_for(plan, MONDAY)
    assert (row.state, row.attempts) == (State.SENDING, 0)

    clock.move_to(NOW + timedelta(seconds=settings.REMINDER_SENDING_TIMEOUT - 1))
    reminders.reminders_dispatch()
    assert row_for(plan, MONDAY).state == State.SENDING  # not yet: it may still be going

    clock.move_to(NOW + timedelta(seconds=settings.REMINDER_SENDING_TIMEOUT + 1))
    reminders.reminders_dispatch()
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.SENT, 1)
    assert "may have gone out" in row.last_error

    [(ids, claim)] = lost
    assert reminders.reminders_send(ids=ids, claim=claim).sent == 0
    assert len(mail.outbox) == 1


def test_a_crash_between_the_servers_accept_and_the_record_repeats_only_that_message(
    clock: Any,
    clinic: Clinic,
    scripted: type[ScriptedBackend],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Exactly once is impossible here: the server took the message, then the
    worker died before recording it. The row is reclaimed and sent again.
    The message before it was recorded (in ReminderSent) but the worker died
    before folding that into its row: it is marked sent, not sent again. The
    rest of the batch goes exactly once."""
    plans_due_at(clinic=clinic, count=5, now=NOW)
    reminders.reminders_plan()
    batches: list[tuple[list[int], str]] = []
    reminders.reminders_dispatch(publish=lambda ids, claim: batches.append((ids, claim)))
    [(ids, claim)] = batches
    scripted.script = [None, CRASH_AFTER_ACCEPT]
    fold = reminders.reminders_fold

    def killed_before_folding(*, ids: Any = None) -> int:
        raise WorkerDied("killed")  # the dying batch's own fold never runs

    monkeypatch.setattr(reminders, "reminders_fold", killed_before_folding)
    with pytest.raises(WorkerDied):
        reminders.reminders_send(ids=ids, claim=claim)
    monkeypatch.setattr(reminders, "reminders_fold", fold)
    assert set(Reminder.objects.filter(pk__in=ids).values_list("state", flat=True)) == {
        State.SENDING
    }
    [recorded] = ReminderSent.objects.values_list("reminder_id", flat=True)
    first = scripted.accepted[0].to[0]

    clock.move_to(NOW + timedelta(seconds=settings.REMINDER_SENDING_TIMEOUT + 1))
    reminders.reminders_dispatch()
    assert set(Reminder.objects.filter(pk__in=ids).values_list("state", flat=True)) == {State.SENT}
    assert Reminder.objects.get(pk=recorded).attempts == 1  # folded, not sent again
    assert not ReminderSent.objects.exists()
    per_recipient = Counter(m.to[0] for m in scripted.accepted)
    assert len(per_recipient) == 5  # none lost
    assert per_recipient[first] == 1
    assert sum(per_recipient.values()) - len(per_recipient) == 1  # one duplicate per crash


def test_a_broker_outage_gives_the_claimed_rows_back_at_once(plan: Assignment) -> None:
    reminders.reminders_plan()

    def broker_down(ids: list[int], claim: str) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with pytest.raises(OperationalError):
        reminders.reminders_dispatch(publish=broker_down)
    row = row_for(plan, MONDAY)
    assert (row.state, row.attempts, row.claim) == (State.PENDING, 0, None)


def test_a_backlog_goes_out_in_chunks_each_queueing_the_next_dispatch(
    clock: Any, clinic: Clinic, settings: Any
) -> None:
    settings.REMINDER_BATCH_SIZE = 2
    plans_due_at(clinic=clinic, count=50, now=NOW)
    reminders.reminders_plan()
    queue: list[str] = []
    handed = reminders.reminders_dispatch(
        publish=lambda ids, claim: queue.append(f"send {len(ids)}"),
        follow_up=lambda: queue.append("dispatch"),
    )
    # Twenty batches, the next run queued behind the first ten: the workers
    # reach it while ten batches are still waiting, and 10 rows stay pending.
    assert handed == 40
    assert queue == ["send 2"] * 10 + ["dispatch"] + ["send 2"] * 10
    assert Reminder.objects.due(NOW).count() == 10


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_claiming_at_once_never_claim_the_same_row(clinic: Clinic) -> None:
    plans_due_at(clinic=clinic, count=240, now=timezone.now())
    reminders.reminders_plan()
    due = set(Reminder.objects.due(timezone.now()).values_list("pk", flat=True))
    assert len(due) == 240
    claimed: list[list[int]] = [[], [], []]
    start = threading.Barrier(3)

    def dispatcher(mine: list[int]) -> None:
        start.wait()
        try:
            while batch := reminders.reminders_claim(limit=7):
                mine.extend(batch[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher, args=(ids,)) for ids in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [pk for ids in claimed for pk in ids]
    assert len(everything) == len(set(everything)) == 240
    assert set(everything) == due


# Unsubscribe and resume -----------------------------------------------------------


def unsubscribe_url(message: Any) -> str:
    return path_of(message.extra_headers["List-Unsubscribe"].strip("<>"))


def test_the_unsubscribe_link_asks_on_get_and_pauses_on_post(
    plan: Assignment, client: Client, clock: Any
) -> None:
    tick()
    url = unsubscribe_url(mail.outbox[0])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Pause reminders" in page.content
    plan.refresh_from_db()
    assert plan.reminders_enabled

    page = client.post(url)
    assert b"Reminders paused" in page.content
    plan.refresh_from_db()
    assert not plan.reminders_enabled
    assert (row_for(plan, TUESDAY).state, row_for(plan, TUESDAY).skip_reason) == (
        State.SKIPPED,
        "reminders paused for this plan",
    )
    clock.move_to(NOW + timedelta(days=1))
    tick()
    assert len(mail.outbox) == 1


def test_one_click_unsubscribe_works_without_a_cookie_or_csrf_token(
    plan: Assignment,
) -> None:
    """RFC 8058: the mail provider POSTs List-Unsubscribe=One-Click itself."""
    tick()
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(
        unsubscribe_url(mail.outbox[0]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    plan.refresh_from_db()
    assert not plan.reminders_enabled


def test_a_tampered_unsubscribe_link_is_a_404(plan: Assignment, client: Client) -> None:
    token = links.unsubscribe_token(plan.pk)
    assert client.post(f"/unsubscribe/{token[:-2]}xx/").status_code == 404
    # A plan link's token is signed for another purpose.
    assert client.post(f"/unsubscribe/{links.plan_token(plan.pk)}/").status_code == 404
    plan.refresh_from_db()
    assert plan.reminders_enabled


def test_the_patient_resumes_reminders_from_the_plan_page(
    plan: Assignment, patient_client: Client, clock: Any
) -> None:
    reminders.reminders_plan()
    reminders.assignment_reminders_set(assignment=plan, enabled=False)
    page = patient_client.get(reverse("plan", args=[plan.pk]))
    assert b"Your reminders are paused." in page.content
    assert b"Resume reminders" in page.content

    response = patient_client.post(
        reverse("plan_reminders", args=[plan.pk]),
        {"days_of_week": list(range(7)), "reminder_time": "07:30", "reminders_enabled": "on"},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.reminders_enabled
    assert row_for(plan, TUESDAY).state == State.PENDING
    clock.move_to(NOW + timedelta(days=1))
    tick()
    assert [m.to for m in mail.outbox] == [["jamie@example.com"]]


# The patient's own time and days ---------------------------------------------


def test_the_patient_picks_their_time_and_days_and_the_coming_reminders_follow(
    plan: Assignment, client: Client
) -> None:
    reminders.reminders_plan()
    token = links.plan_token(plan.pk)
    response = client.post(
        reverse("plan_link_reminders", args=[token]),
        {"days_of_week": ["0", "2"], "reminder_time": "18:15", "reminders_enabled": "on"},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.days_of_week, plan.reminder_time, plan.version) == ([0, 2], time(18, 15), 1)
    monday, tuesday = row_for(plan, MONDAY), row_for(plan, TUESDAY)
    assert (monday.state, monday.due_at) == (
        State.PENDING,
        datetime(2026, 11, 23, 18, 15, tzinfo=UTC),
    )
    assert (tuesday.state, tuesday.skip_reason) == (State.SKIPPED, "not a session day")
    assert mail.outbox == []  # the patient's own change: no plan email


def test_a_new_time_already_past_today_skips_today_and_starts_tomorrow(
    plan: Assignment, patient_client: Client
) -> None:
    reminders.reminders_plan()
    patient_client.post(
        reverse("plan_reminders", args=[plan.pk]),
        {"days_of_week": list(range(7)), "reminder_time": "06:00", "reminders_enabled": "on"},
    )
    assert row_for(plan, MONDAY).skip_reason == "new time already passed"
    assert row_for(plan, TUESDAY).due_at == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    reminders.reminders_dispatch()
    assert mail.outbox == []


def test_a_bad_time_is_explained_and_nothing_changes(
    plan: Assignment, patient_client: Client
) -> None:
    response = patient_client.post(
        reverse("plan_reminders", args=[plan.pk]),
        {"days_of_week": [], "reminder_time": "25:99"},
        follow=True,
    )
    assert b"Please check your reminder settings" in response.content
    plan.refresh_from_db()
    assert (plan.reminder_time, plan.days_of_week) == (time(7, 30), list(range(7)))


def test_staff_cannot_change_a_patients_reminders(plan: Assignment, physio_client: Client) -> None:
    response = physio_client.post(
        reverse("plan_reminders", args=[plan.pk]),
        {"days_of_week": [0], "reminder_time": "09:00", "reminders_enabled": "on"},
    )
    assert response.status_code == 403


def test_a_physio_pausing_and_restarting_the_plan_moves_the_coming_reminders(
    plan: Assignment,
) -> None:
    reminders.reminders_plan()
    assignment_update(assignment=plan, status=Assignment.Status.PAUSED)
    assert row_for(plan, TUESDAY).skip_reason == "plan paused"
    assignment_update(assignment=plan, status=Assignment.Status.ACTIVE)
    assert row_for(plan, TUESDAY).state == State.PENDING


# Consult reminders ----------------------------------------------------------------


def test_a_clinics_hours_map_to_a_day_before_and_a_shortly_before_reminder() -> None:
    clinic = ClinicFactory.build(consult_reminder_hours="48, 2,1,x,24")
    assert Reminder.consult_leads(clinic) == [("consult_24h", 48), ("consult_1h", 2)]
    assert Reminder.consult_leads(ClinicFactory.build(consult_reminder_hours="")) == []


def test_a_booked_consult_gets_a_reminder_the_day_before_and_an_hour_before(
    clock: Any, patient: Patient
) -> None:
    Patient.objects.filter(pk=patient.pk).update(time_zone="America/New_York")
    patient.refresh_from_db()
    consult = make_consult(patient=patient, starts_at=NOW + timedelta(hours=30))
    tick()
    assert list(consult.reminders.values_list("kind", "due_at")) == [
        ("consult_24h", NOW + timedelta(hours=6))
    ]
    clock.move_to(NOW + timedelta(hours=6))
    tick()
    [message] = mail.outbox
    assert message.to == [patient.email]
    # 13:30:30 UTC is 08:30 in New York.
    assert "Tuesday 24 November at 08:30 (EST, America/New_York)" in message.body
    assert "https://meet.example.com/backstride-abc123" in message.body
    assert "List-Unsubscribe" not in message.extra_headers

    clock.move_to(NOW + timedelta(hours=29))
    tick()
    assert [r.kind for r in consult.reminders.order_by("due_at")] == ["consult_24h", "consult_1h"]
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject.endswith("at 08:30")


def test_a_cancelled_consult_gets_no_reminder(clock: Any, patient: Patient) -> None:
    consult = make_consult(patient=patient, starts_at=NOW + timedelta(hours=24, minutes=30))
    tick()
    assert consult.reminders.count() == 2
    Consult.objects.filter(pk=consult.pk).update(status=Consult.Status.CANCELLED)
    for later in (timedelta(minutes=31), timedelta(hours=23, minutes=31)):
        clock.move_to(NOW + later)
        tick()
    assert set(consult.reminders.values_list("state", "skip_reason")) == {
        (State.SKIPPED, "consult cancelled")
    }
    assert mail.outbox == []


def test_a_moved_consult_skips_the_old_reminder_and_gets_new_rows(
    clock: Any, patient: Patient
) -> None:
    consult = make_consult(patient=patient, starts_at=NOW + timedelta(hours=24, minutes=5))
    tick()
    # Rescheduled in place: same id, two hours later.
    Consult.objects.filter(pk=consult.pk).update(
        starts_at=later(consult.starts_at, hours=2),
        ends_at=later(consult.ends_at, hours=2),
        blocked_until=later(consult.blocked_until, hours=2),
        updated_at=NOW,
    )
    clock.move_to(NOW + timedelta(minutes=6))
    tick()
    old = consult.reminders.get(due_at=NOW + timedelta(minutes=5))
    assert (old.state, old.skip_reason) == (State.SKIPPED, "consult moved")
    assert mail.outbox == []

    clock.move_to(NOW + timedelta(hours=2, minutes=6))
    tick()
    assert consult.reminders.get(due_at=NOW + timedelta(hours=2, minutes=5)).state == State.SENT
    assert len(mail.outbox) == 1


def test_a_consult_rescheduled_as_a_new_booking_is_reminded_once_at_the_new_time(
    clock: Any, patient: Patient
) -> None:
    old = make_consult(patient=patient, starts_at=NOW + timedelta(hours=24, minutes=30))
    tick()
    Consult.objects.filter(pk=old.pk).update(status=Consult.Status.CANCELLED)
    new = make_consult(
        patient=patient, starts_at=NOW + timedelta(hours=25, minutes=30), rescheduled_from=old
    )
    clock.move_to(NOW + timedelta(hours=1, minutes=31))
    tick()
    assert old.reminders.get(kind="consult_24h").skip_reason == "consult cancelled"
    assert new.reminders.get(kind="consult_24h").state == State.SENT
    assert len(mail.outbox) == 1


def later(value: datetime, *, hours: int) -> datetime:
    return value + timedelta(hours=hours)


# Beat --------------------------------------------------------------------------


def test_migrate_puts_the_planner_and_dispatcher_on_beats_schedule_once() -> None:
    tasks = PeriodicTask.objects.filter(task__startswith="exercises.tasks.")
    assert sorted(tasks.values_list("task", "interval__every", "interval__period")) == [
        ("exercises.tasks.dispatch_reminders", 60, "seconds"),
        ("exercises.tasks.plan_reminders", 60, "seconds"),
    ]
    reminders.periodic_tasks_ensure()
    assert tasks.count() == 2


def test_the_staff_view_of_a_plan_says_whether_reminders_are_on(
    plan: Assignment, physio: StaffMember, physio_client: Client
) -> None:
    page = physio_client.get(reverse("plan", args=[plan.pk]))
    assert b"By email at 07:30 (Europe/London) on exercise days." in page.content
    assert b"Save reminder settings" not in page.content
