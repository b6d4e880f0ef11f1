"""The reminder engine: every due reminder delivered once, fast, under faults.

Celery over Redis delivers a task at least once: a long countdown comes back
after the visibility timeout, a killed worker loses or repeats its task, a
restarted Redis forgets its queues, and two beats queue everything twice. So
the guarantee rests on the `Reminder` rows, and the broker only carries hints:

- `reminders_plan` (beat, every minute) makes sure a row exists for each
  reminder due within the next day. Idempotent: unique constraints and
  `ignore_conflicts` make two planners insert a row once.
- `reminders_dispatch` (beat, every minute) puts back rows stuck in `sending`
  for longer than REMINDER_SENDING_TIMEOUT, then claims due rows in batches
  (`SELECT ... FOR UPDATE SKIP LOCKED`, then pending -> sending with a claim
  id) and hands each batch's ids to a send task. Two dispatchers never claim
  the same row. No countdowns: a retry waits in the row's `send_after`, and a
  backlog is worked through by each run queueing the next.
- `reminders_render` (the planner's task, after planning) renders each coming
  message ahead and stores it beside its row (`ReminderMessage`), so the due
  minute costs only the send. A message rendered from an older plan, consult or address is built
  again at send time, as is one never rendered.
- `reminders_send` (worker) takes the batch over from the claim (so a second
  delivery of the same task finds nothing to do), decides skip or send for each
  row, sends over one SMTP connection, and records each row the moment the
  server answers for it: sent (a one-row insert into `ReminderSent`, folded
  into the rows by `reminders_fold` as the batch ends), back to pending with
  a backoff (4xx, broken connection), or failed (5xx).

Exactly once is physically impossible at one point: when the SMTP server has
accepted a message and the worker dies (or the database is unreachable) before
it records `sent`. That row is reclaimed after REMINDER_SENDING_TIMEOUT and
sent again. Recording each message as it is accepted keeps this to the one
message in flight per worker process that died; every other path sends at most
once, and nothing claimed is ever dropped (tests/test_reminder_faults.py counts
both under SIGKILLs, a Redis restart, two beats and SMTP refusals). Resends
carry the same Message-ID, so mail systems that dedupe show one. (With
REMINDER_ASYNC_COMMIT, a crash of the database server, not of a worker, may
also forget the last fraction of a second of records: see settings.)
"""

from __future__ import annotations

import contextlib
import functools
import logging
import smtplib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from email.utils import formatdate, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.db import DatabaseError, connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.module_loading import import_string

from clinic import emails
from clinic.models import Consult
from exercises.models import (
    Assignment,
    AssignmentItem,
    Reminder,
    ReminderMessage,
    ReminderSent,
    SessionLog,
)

logger = logging.getLogger(__name__)

# The planner makes rows this far ahead, and still makes one whose moment
# passed this recently (beat was down, or a consult was just booked).
PLAN_AHEAD = timedelta(hours=24)
PLAN_BEHIND = timedelta(hours=1)
# One dispatcher run claims at most this many batches, and queues the next run
# behind the first half of them: a backlog drains as fast as the workers send,
# and no claimed batch waits in the queue long enough to look stuck.
DISPATCH_BATCHES = 20
CONSULT_MOVED = "consult moved"

State = Reminder.State


# Planning ----------------------------------------------------------------------


def reminders_plan(
    *, now: datetime | None = None, assignments: Iterable[Assignment] | None = None
) -> int:
    """Make sure a row exists for every reminder due in the next PLAN_AHEAD
    (and the last PLAN_BEHIND). Returns how many rows it added. Given
    `assignments`, plans only those (after a change to one plan)."""
    now = now or timezone.now()
    if assignments is not None:
        return _plan_exercise(list(assignments), now)
    start = (now - PLAN_BEHIND).date() - timedelta(days=1)
    end = (now + PLAN_AHEAD).date() + timedelta(days=1)
    candidates = (
        Assignment.objects.active()
        .filter(
            reminders_enabled=True,
            clinic__reminders_enabled=True,
            patient__consent_email=True,
            start_date__lte=end,
            end_date__gte=start,
        )
        .exclude(patient__email="")
        .select_related("patient", "clinic")
        .order_by("pk")
    )
    created, chunk = 0, []
    for assignment in candidates.iterator(chunk_size=1000):
        chunk.append(assignment)
        if len(chunk) == 1000:
            created += _plan_exercise(chunk, now)
            chunk = []
    return created + _plan_exercise(chunk, now) + _plan_consults(now)


def _local_days(now: datetime, assignment: Assignment) -> list[date]:
    zone = assignment.patient.zone
    first = (now - PLAN_BEHIND).astimezone(zone).date()
    last = (now + PLAN_AHEAD).astimezone(zone).date()
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def _plan_exercise(assignments: list[Assignment], now: datetime) -> int:
    wanted: dict[tuple[int, date], Reminder] = {}
    for assignment in assignments:
        for day in _local_days(now, assignment):
            if assignment.reminder_skip_reason(day):
                continue
            due = assignment.reminder_at(day)
            # Nothing for a moment before the plan existed, nor out of the window.
            if not now - PLAN_BEHIND <= due <= now + PLAN_AHEAD or due < assignment.created_at:
                continue
            wanted[(assignment.pk, day)] = Reminder(
                kind=Reminder.Kind.EXERCISE,
                clinic_id=assignment.clinic_id,
                patient_id=assignment.patient_id,
                assignment=assignment,
                day=day,
                due_at=due,
                send_after=due,
            )
    if not wanted:
        return 0
    existing = set(
        Reminder.objects.filter(
            assignment_id__in={key[0] for key in wanted}, day__in={key[1] for key in wanted}
        ).values_list("assignment_id", "day")
    )
    new = [row for key, row in wanted.items() if key not in existing]
    # A racing planner may insert the same rows first: the unique constraint
    # keeps one and ignore_conflicts drops ours.
    Reminder.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return len(new)


def _plan_consults(now: datetime) -> int:
    longest_lead = timedelta(hours=24 * 7)
    consults = list(
        Consult.objects.active()
        .filter(
            starts_at__gt=now,
            starts_at__lte=now + PLAN_AHEAD + longest_lead,
            clinic__reminders_enabled=True,
            patient__consent_email=True,
        )
        .exclude(patient__email="")
        .select_related("clinic")
    )
    wanted: dict[tuple[int, str, datetime], Reminder] = {}
    for consult in consults:
        for kind, hours in Reminder.consult_leads(consult.clinic):
            due = consult.starts_at - timedelta(hours=hours)
            # Nothing for a moment before the consult got its current time.
            if not now - PLAN_BEHIND <= due <= now + PLAN_AHEAD or due < consult.updated_at:
                continue
            wanted[(consult.pk, kind, due)] = Reminder(
                kind=kind,
                clinic_id=consult.clinic_id,
                patient_id=consult.patient_id,
                consult=consult,
                hours_before=hours,
                due_at=due,
                send_after=due,
            )
    if not wanted:
        return 0
    existing = {
        (row.consult_id, row.kind, row.due_at): row
        for row in Reminder.objects.filter(consult_id__in={key[0] for key in wanted})
    }
    # A consult moved away and back again: its first rows come back to life.
    revive = [
        row.pk
        for key, row in existing.items()
        if key in wanted and row.state == State.SKIPPED and row.skip_reason == CONSULT_MOVED
    ]
    if revive:
        Reminder.objects.filter(pk__in=revive, state=State.SKIPPED).update(
            state=State.PENDING, claim=None, send_after=F("due_at"), skip_reason=""
        )
    new = [row for key, row in wanted.items() if key not in existing]
    Reminder.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return len(new)


@transaction.atomic
def reminders_replan(*, assignment: Assignment, now: datetime | None = None) -> None:
    """Bring a plan's coming rows in line after its schedule or reminder
    settings changed: move them to the new time, skip days that are no longer
    wanted (or whose new time has passed), revive skipped ones that are wanted
    again, and add any that are missing."""
    now = now or timezone.now()
    today = now.astimezone(assignment.patient.zone).date()
    for row in assignment.reminders.unsent().filter(day__gte=today):
        assert row.day is not None
        due = assignment.reminder_at(row.day)
        reason = assignment.reminder_skip_reason(row.day)
        if not reason and due > now:
            if row.state != State.PENDING or row.due_at != due:
                Reminder.objects.filter(pk=row.pk, state=row.state).update(
                    state=State.PENDING, claim=None, due_at=due, send_after=due, skip_reason=""
                )
        elif row.state == State.PENDING:
            Reminder.objects.filter(pk=row.pk, state=State.PENDING).update(
                state=State.SKIPPED, skip_reason=reason or "new time already passed"
            )
    # The plan or its settings changed: what was rendered ahead may be stale.
    ReminderMessage.objects.filter(
        reminder__assignment=assignment, reminder__state=State.PENDING
    ).delete()
    reminders_plan(now=now, assignments=[assignment])


# Claiming and dispatching ------------------------------------------------------


def reminders_fold(*, ids: Sequence[int] | None = None) -> int:
    """Mark sent the reminders whose message the server accepted (their
    `ReminderSent` record), and drop the records: those of `ids` (a batch as
    it ends), or every record there is (the dispatcher, for batches whose
    worker died before it could). Returns how many reminders it marked."""
    records = (
        ReminderSent.objects.all()
        if ids is None
        else ReminderSent.objects.filter(reminder_id__in=ids)
    )
    # These records only: one inserted meanwhile is folded next time.
    recorded = list(records.values_list("reminder_id", flat=True)[:10_000])
    if not recorded:
        return 0
    with transaction.atomic():
        folded = Reminder.objects.filter(
            pk__in=recorded, state__in=[State.PENDING, State.SENDING]
        ).update(
            state=State.SENT,
            sent_at=Subquery(
                ReminderSent.objects.filter(reminder_id=OuterRef("pk")).values("sent_at")[:1]
            ),
        )
        ReminderSent.objects.filter(reminder_id__in=recorded).delete()
    return folded


def reminders_reclaim(*, now: datetime | None = None) -> int:
    """Put back rows claimed longer than REMINDER_SENDING_TIMEOUT ago and never
    finished: their worker died or the broker lost their task. The attempt
    counts, and it may have been sent (see the module docstring). First, what
    such a worker recorded as sent is marked so, and is not sent again."""
    reminders_fold()
    now = now or timezone.now()
    timeout = settings.REMINDER_SENDING_TIMEOUT
    stuck = Reminder.objects.stuck(now - timedelta(seconds=timeout))
    note = f"Unfinished {timeout} s after it was claimed; it may have gone out."
    failed = stuck.filter(attempts__gte=settings.REMINDER_MAX_ATTEMPTS).update(
        state=State.FAILED, claim=None, last_error=f"{note} Out of attempts."
    )
    back = stuck.update(state=State.PENDING, claim=None, send_after=now, last_error=note)
    if failed or back:
        logger.warning("Reclaimed %s stuck reminders; %s out of attempts", back, failed)
    return back


def reminders_claim(*, now: datetime | None = None, limit: int) -> tuple[str, list[int]] | None:
    """Claim up to `limit` due rows for one batch: (claim id, row ids), or None
    when nothing is due. Rows another dispatcher is claiming are skipped, not
    waited for; on SQLite the write lock serialises claims instead."""
    now = now or timezone.now()
    claim = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            Reminder.objects.due(now)
            .order_by("send_after")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return None
        # Locked above (SQLite: the transaction holds the write lock).
        Reminder.objects.filter(pk__in=ids).update(state=State.SENDING, claim=claim, claimed_at=now)
    ids = list(Reminder.objects.filter(pk__in=ids, claim=claim).values_list("pk", flat=True))
    return (str(claim), ids) if ids else None


def _release(ids: Sequence[int], claim: str) -> None:
    Reminder.objects.filter(pk__in=ids).claimed(claim).update(state=State.PENDING, claim=None)


def reminders_dispatch(
    *,
    now: datetime | None = None,
    publish: Callable[[list[int], str], Any] | None = None,
    follow_up: Callable[[], Any] | None = None,
) -> int:
    """Reclaim stuck rows, then claim due ones in batches and hand each batch
    to a send task (`publish`); with a backlog, queue the next run
    (`follow_up`) part-way. Returns how many rows it handed out."""
    now = now or timezone.now()
    reminders_reclaim(now=now)
    if publish is None or follow_up is None:
        from exercises.tasks import dispatch_reminders, send_reminders

        publish = publish or send_reminders.delay
        follow_up = follow_up or dispatch_reminders.delay
    handed = 0
    chunk = DISPATCH_BATCHES * settings.REMINDER_BATCH_SIZE
    if Reminder.objects.filter(state=State.SENDING).count() >= 2 * chunk:
        # The workers have plenty queued, and the run that queued it has its
        # follow-up behind it: claiming more would only make claims wait.
        return 0
    for number in range(1, DISPATCH_BATCHES + 1):
        claimed = reminders_claim(now=now, limit=settings.REMINDER_BATCH_SIZE)
        if claimed is None:
            break
        claim, ids = claimed
        try:
            publish(ids, claim)
        except Exception:
            # The broker is down: give the rows back now, not after the timeout.
            _release(ids, claim)
            raise
        handed += len(ids)
        if number == DISPATCH_BATCHES // 2:
            follow_up()
    return handed


# Rendering ahead ---------------------------------------------------------------


def _renders_ahead() -> bool:
    """Messages are rendered ahead only for SMTP, where the sender writes the
    stored bytes to the server; other backends (files, tests' outbox) take
    message objects, built at send time."""
    return issubclass(import_string(settings.EMAIL_BACKEND), SmtpBackend)


# What deciding skip or send, and checking a rendered message, reads: the
# sender loads only these for a batch whose messages were rendered ahead.
DECIDING_FIELDS = (
    "kind",
    "clinic",
    "patient",
    "assignment",
    "day",
    "consult",
    "hours_before",
    "due_at",
    "send_after",
    "state",
    "attempts",
    "patient__email",
    "patient__consent_email",
    "patient__time_zone",
    "clinic__reminders_enabled",
    "assignment__status",
    "assignment__reminders_enabled",
    "assignment__start_date",
    "assignment__end_date",
    "assignment__days_of_week",
    "assignment__reminder_time",
    "assignment__version",
    "assignment__patient",
    "assignment__clinic",
    "consult__status",
    "consult__starts_at",
    "consult__sequence",
)


def _load(queryset: Any, limit: int | None = None, *, deciding: bool = False) -> list[Reminder]:
    """The rows with what they are for, in one query: everything a message
    needs, or with `deciding` only DECIDING_FIELDS (a quarter of the columns;
    loading rows cost as much as sending them)."""
    if deciding:
        queryset = queryset.select_related("patient", "clinic", "assignment", "consult").only(
            *DECIDING_FIELDS
        )
    else:
        queryset = queryset.select_related(
            "patient",
            "clinic",
            "assignment",
            "consult__consult_type",
            "consult__clinician__user",
        )
    queryset = queryset.order_by("send_after", "pk")
    rows = list(queryset[:limit] if limit else queryset)
    patient, clinic = Assignment._meta.get_field("patient"), Assignment._meta.get_field("clinic")
    for row in rows:
        # The plan's patient and clinic are the row's (the planner copies
        # them): share the objects rather than load them twice.
        plan = row.assignment
        if plan and (plan.patient_id, plan.clinic_id) == (row.patient_id, row.clinic_id):
            patient.set_cached_value(plan, row.patient)
            clinic.set_cached_value(plan, row.clinic)
    return rows


class _Context:
    """What building and deciding about a set of rows needs, a query or two
    for all of them."""

    def __init__(self, rows: list[Reminder]) -> None:
        self.plan_ids = {row.assignment_id for row in rows if row.assignment_id}
        self.logged = set(
            SessionLog.objects.filter(
                assignment_id__in=self.plan_ids, date__in={row.day for row in rows if row.day}
            ).values_list("assignment_id", "date")
        )
        self._items: dict[int, list[AssignmentItem]] | None = None

    def items(self, plan_id: int) -> list[AssignmentItem]:
        # Only a message built now needs them: most were rendered ahead.
        if self._items is None:
            self._items = {pk: [] for pk in self.plan_ids}
            for item in AssignmentItem.objects.filter(
                assignment_id__in=self.plan_ids
            ).select_related("exercise"):
                self._items[item.assignment_id].append(item)
        return self._items[plan_id]

    def message(self, row: Reminder) -> EmailMessage:
        if row.kind == Reminder.Kind.EXERCISE:
            assert row.assignment is not None and row.day is not None
            week = row.assignment.week_number(row.day)
            items = row.assignment.items_for_week(week, self.items(row.assignment.pk))
            return emails.exercise_reminder(row, items=items)
        return emails.consult_reminder(row)


def _wire(message: EmailMessage) -> bytes:
    """The message as Django's SMTP backend would send it, less the Date
    header: that is added at the moment of sending."""
    head, _, body = message.message().as_bytes(linesep="\r\n").partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"date:")]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def reminders_render(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Render the coming day's pending reminders ahead of time (in chunks,
    oldest due first), so that at the due minute a worker only sends. Two
    renderers may render a row twice; the first stored wins. A row rendered
    from an older plan or consult, or not rendered at all, is built at send time."""
    if not _renders_ahead():
        return 0
    now = now or timezone.now()
    pending = Reminder.objects.filter(
        state=State.PENDING, rendered__isnull=True, send_after__lte=now + PLAN_AHEAD
    )
    rendered = 0
    while rendered < limit:
        rows = _load(pending, limit=200)
        if not rows:
            break
        context = _Context(rows)
        messages = []
        for row in rows:
            try:
                data = _wire(context.message(row))
            except Exception:  # the sender will build it again and record the error
                logger.exception("Could not render reminder %s ahead", row.pk)
                data = b""
            messages.append(
                ReminderMessage(reminder=row, data=data, rendered_for=row.content_key())
            )
        ReminderMessage.objects.bulk_create(messages, ignore_conflicts=True)
        rendered += len(rows)
    return rendered


# Sending -----------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    skipped: int = 0
    moved: int = 0
    retrying: int = 0
    failed: int = 0


class _CannotConnect(Exception):
    pass


class _Mailer:
    """One SMTP connection for a batch, opened on first use and again after it breaks."""

    def __init__(self) -> None:
        self.connection: Any = None

    def _open(self) -> Any:
        if self.connection is None:
            connection = get_connection()
            try:
                connection.open()
            except Exception as error:
                raise _CannotConnect(_describe(error)) from error
            self.connection = connection
        return self.connection

    def send(self, message: EmailMessage) -> None:
        if not self._open().send_messages([message]):
            raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"no usable recipient")})

    def send_wire(self, *, to: str, data: bytes) -> None:
        """A message rendered ahead, straight to the SMTP server, as Django's
        backend would send it (the same envelope, a fresh Date header)."""
        smtp = self._open().connection
        date = formatdate(localtime=settings.EMAIL_USE_LOCALTIME).encode()
        data = b"Date: " + date + b"\r\n" + data
        sender, recipient = _envelope(settings.DEFAULT_FROM_EMAIL), _envelope(to)
        if sender.isascii() and recipient.isascii():
            _sendmail_plain(smtp, sender, recipient, data)
        else:
            smtp.sendmail(sender, [recipient], data)

    def reset(self) -> None:
        """After a refusal, end the server's mail transaction, so the next
        message starts clean (sendmail does not when the DATA command itself
        is refused)."""
        smtp = getattr(self.connection, "connection", None)
        if smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.rset()

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            # A broken connection may fail to say goodbye.
            with contextlib.suppress(Exception):
                connection.close()


def _sendmail_plain(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
    """`smtp.sendmail(sender, [recipient], data)` for plain ASCII addresses
    already in envelope form: the same commands and exceptions, less the
    RFC 5322 parse of both addresses sendmail makes for every message. That
    parse is CPU the mail server's share of a small machine needs: on 2
    cores, benchmarks/reminders.py gave about 81 % of its baseline with
    sendmail and 92 % with this (runs vary by some 15 %). After a refusal
    the caller closes the connection (421) or resets it (`_Mailer.reset`)."""
    smtp.ehlo_or_helo_if_needed()
    size = f" SIZE={len(data)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    code, reply = smtp.docmd("MAIL", f"FROM:<{sender}>{size}")
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = smtp.docmd("RCPT", f"TO:<{recipient}>")
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    code, reply = smtp.data(data)
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


@functools.lru_cache(maxsize=64)
def _sanitized(address: str) -> str:
    # As Django's backend and smtplib make it: "Name <a@b>" gives a@b.
    return parseaddr(sanitize_address(address, settings.DEFAULT_CHARSET))[1]


def _envelope(address: str) -> str:
    """The envelope address (the bare addr-spec) Django's backend would use.
    A plain ASCII address (a validated patient email) is its own; parsing it
    costs more than the send."""
    if address.isascii() and "<" not in address and "," not in address:
        return address
    return _sanitized(address)


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600
    return False


def _breaks_connection(error: Exception) -> bool:
    # 421: the server is closing the connection.
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _ in error.recipients.values())
    return isinstance(error, OSError)


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return f"{error.smtp_code} {detail}"[:500]
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{to}: {code} {text.decode(errors='replace')}"
            for to, (code, text) in error.recipients.items()
        )[:500]
    return f"{type(error).__name__}: {error}"[:500]


class _Batch(_Context):
    """The claimed rows of one send task, taken over with the run's own token."""

    def __init__(self, token: str, ids: Sequence[int]) -> None:
        self.token = token
        claimed = Reminder.objects.claimed(token)
        # What the planner rendered ahead, by row: (bytes, content key).
        self.rendered: dict[int, tuple[bytes, str]] = {}
        if _renders_ahead():
            self.rendered = {
                pk: (bytes(data), key)
                for pk, data, key in ReminderMessage.objects.filter(
                    reminder_id__in=ids, reminder__claim=token
                ).values_list("reminder_id", "data", "rendered_for")
            }
        # Rows with a message ready need only what decides skip or send; the
        # others (not rendered, or rendered from an older plan) are loaded
        # again with all a message is built from.
        self.rows = _load(claimed.filter(pk__in=ids), deciding=bool(self.rendered))
        if self.rendered:
            build = {row.pk for row in self.rows if not self.ready(row)}
            if build:
                full = {row.pk: row for row in _load(claimed.filter(pk__in=build))}
                self.rows = [full.get(row.pk, row) for row in self.rows]
        super().__init__(self.rows)
        self.finished: list[int] = []  # sent, skipped or failed by this batch
        self.sent: list[int] = []  # recorded in ReminderSent, to fold in
        self.stamped = time.monotonic()
        self._sent_sql = (
            f"INSERT INTO {ReminderSent._meta.db_table} (reminder_id, sent_at) "  # noqa: S608
            "VALUES (%s, %s) ON CONFLICT DO NOTHING"
        )
        self._prepared: Any = None
        if connection.vendor == "postgresql":
            import psycopg

            connection.ensure_connection()
            # Server-side binding (Django's own cursors bind on the client).
            self._prepared = psycopg.Cursor(connection.connection)

    def ready(self, row: Reminder) -> bytes:
        """The message rendered ahead for the row, if it is still what the
        row would be rendered as now; else b''."""
        data, rendered_for = self.rendered.get(row.pk, (b"", ""))
        return data if data and rendered_for == row.content_key() else b""

    def update(self, row: Reminder, **fields: Any) -> bool:
        """Record an outcome, only while the row is still this batch's."""
        done = Reminder.objects.filter(pk=row.pk).claimed(self.token).update(**fields)
        if not done:
            logger.warning("Reminder %s was reclaimed while its batch was running", row.pk)
        elif fields.get("state") != State.PENDING:
            self.finished.append(row.pk)
        return bool(done)

    def mark_sent(self, row: Reminder) -> None:
        """Record that the server accepted the row's message: one narrow
        insert (`ReminderSent`), committed before the next message goes, and
        folded into the row when the batch ends. On PostgreSQL a prepared
        statement on a cursor of the batch's own, so neither side parses it
        again; the ORM's query building would cost more than the insert."""
        sent_at = timezone.now()
        if self._prepared is not None:
            # As Django's: its errors, and a broken connection is not reused.
            with connection.wrap_database_errors:
                self._prepared.execute(self._sent_sql, [row.pk, sent_at], prepare=True)
        else:
            field = ReminderSent._meta.get_field("sent_at")
            with connection.cursor() as cursor:
                cursor.execute(
                    self._sent_sql, [row.pk, field.get_db_prep_value(sent_at, connection)]
                )
        # Already there only if another worker sent it too (this batch stalled
        # past the timeout): sent either way.
        self.finished.append(row.pk)
        self.sent.append(row.pk)

    def close(self) -> None:
        if self._prepared is not None:
            self._prepared.close()
            self._prepared = None

    def keep_claim(self, remaining: list[Reminder]) -> list[Reminder]:
        """Refresh the claim well before a dispatcher would think it stuck;
        rows reclaimed meanwhile (the process stalled) are left alone."""
        if time.monotonic() - self.stamped < settings.REMINDER_SENDING_TIMEOUT / 3:
            return remaining
        ids = [row.pk for row in remaining]
        Reminder.objects.claimed(self.token).filter(pk__in=ids).update(claimed_at=timezone.now())
        self.stamped = time.monotonic()
        ours = set(
            Reminder.objects.claimed(self.token).filter(pk__in=ids).values_list("pk", flat=True)
        )
        return [row for row in remaining if row.pk in ours]


def _commit_lazily(on: bool) -> None:
    """REMINDER_ASYNC_COMMIT: this session's commits stop waiting for the
    disk flush while it records a batch's outcomes (see settings)."""
    if not settings.REMINDER_ASYNC_COMMIT or connection.vendor != "postgresql":
        return
    with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off" if on else "RESET synchronous_commit")


def _skip_reason(row: Reminder, batch: _Batch) -> str:
    if row.kind == Reminder.Kind.EXERCISE:
        assert row.assignment is not None and row.day is not None
        if reason := row.assignment.reminder_skip_reason(row.day):
            return reason
        if (row.assignment_id, row.day) in batch.logged:
            return "session already logged"
        return ""
    assert row.consult is not None
    if row.consult.status != Consult.Status.BOOKED:
        return f"consult {row.consult.get_status_display().lower()}"
    if not row.clinic.reminders_enabled:
        return "clinic has reminders off"
    if not (row.patient.consent_email and row.patient.email):
        return "no consent to email"
    return ""


def reminders_send(*, ids: Sequence[int], claim: str) -> SendReport:
    """Send one claimed batch over one SMTP connection, recording each row as
    the server answers for it."""
    report = SendReport()
    # Take the batch over with a token of this run: a second delivery of the
    # same task (the broker repeats itself) then finds nothing left to send.
    token = str(uuid.uuid4())
    taken = (
        Reminder.objects.claimed(claim)
        .filter(pk__in=ids)
        .update(claim=token, claimed_at=timezone.now(), attempts=F("attempts") + 1)
    )
    if not taken:
        return report
    batch = _Batch(token, ids)
    mailer = _Mailer()
    remaining = list(batch.rows)
    try:
        _commit_lazily(True)
        while remaining:
            remaining = batch.keep_claim(remaining)
            if not remaining:
                break
            row = remaining.pop(0)
            try:
                _send_one(row, batch, mailer, report)
            except _CannotConnect as error:
                # The server is unreachable: everything left waits for a retry.
                for left in [row, *remaining]:
                    _retry_later(left, batch, str(error), report)
                break
    finally:
        mailer.close()
        batch.close()
        _commit_lazily(False)
        if batch.sent:
            # Left to the dispatcher's next run if the database is away now.
            with contextlib.suppress(DatabaseError):
                reminders_fold(ids=batch.sent)
        # The rendered messages of the rows done with have served: dropped in
        # one statement, off the per-message path. (A row going back to
        # pending keeps its message for the next attempt.)
        if done := [pk for pk in batch.finished if pk in batch.rendered]:
            with contextlib.suppress(DatabaseError):
                ReminderMessage.objects.filter(reminder_id__in=done).delete()
    if report.failed or report.retrying:
        logger.warning("Reminder batch: %s", report)
    return report


def _send_one(row: Reminder, batch: _Batch, mailer: _Mailer, report: SendReport) -> None:
    now = timezone.now()
    if reason := _skip_reason(row, batch):
        report.skipped += batch.update(row, state=State.SKIPPED, skip_reason=reason)
        return
    expected = row.expected_due_at()
    if expected != row.due_at:
        if row.kind == Reminder.Kind.EXERCISE and expected > now:
            # The plan's time changed under it: wait for the new time.
            report.moved += batch.update(
                row, state=State.PENDING, claim=None, due_at=expected, send_after=expected
            )
        else:
            reason = CONSULT_MOVED if row.consult_id else "time changed"
            report.skipped += batch.update(row, state=State.SKIPPED, skip_reason=reason)
        return
    if now > row.latest_useful_at():
        report.skipped += batch.update(row, state=State.SKIPPED, skip_reason="too late")
        return
    try:
        data = batch.ready(row)
        message = None if data else batch.message(row)
    except Exception as error:  # a bug, not the network: retrying would not help
        logger.exception("Could not build reminder %s", row.pk)
        report.failed += batch.update(row, state=State.FAILED, last_error=_describe(error))
        return
    try:
        if message is None:
            mailer.send_wire(to=row.patient.email, data=data)
        else:
            mailer.send(message)
    except _CannotConnect:
        raise
    except Exception as error:
        if _breaks_connection(error):
            mailer.close()
        else:
            mailer.reset()
        if _is_permanent(error):
            report.failed += batch.update(row, state=State.FAILED, last_error=_describe(error))
        else:
            _retry_later(row, batch, _describe(error), report)
        return
    # Accepted. From here until this record commits, a crash means the row is
    # reclaimed and sent again: the one window exactly-once cannot close.
    batch.mark_sent(row)
    report.sent += 1


def _retry_later(row: Reminder, batch: _Batch, error: str, report: SendReport) -> None:
    if row.attempts >= settings.REMINDER_MAX_ATTEMPTS:
        report.failed += batch.update(
            row, state=State.FAILED, last_error=f"{error} (after {row.attempts} attempts)"
        )
        return
    delay = Reminder.retry_delay(row.attempts, base=settings.REMINDER_RETRY_BACKOFF)
    report.retrying += batch.update(
        row,
        state=State.PENDING,
        claim=None,
        send_after=timezone.now() + delay,
        last_error=error,
    )


# The patient's own choices -------------------------------------------------------


@transaction.atomic
def assignment_reminders_update(
    *,
    assignment: Assignment,
    days_of_week: list[int],
    reminder_time: clock_time,
    reminders_enabled: bool,
) -> Assignment:
    """The patient picks their days, their time and whether to get reminders;
    the coming rows follow. Not a change to the prescription: no new version,
    no plan email."""
    assignment.days_of_week = sorted(set(days_of_week))
    assignment.reminder_time = reminder_time
    assignment.reminders_enabled = reminders_enabled
    assignment.full_clean()
    assignment.save(
        update_fields=["days_of_week", "reminder_time", "reminders_enabled", "updated_at"]
    )
    reminders_replan(assignment=assignment)
    return assignment


@transaction.atomic
def assignment_reminders_set(*, assignment: Assignment, enabled: bool) -> Assignment:
    """Pause (the email's unsubscribe) or resume (the plan page) one plan's reminders."""
    if assignment.reminders_enabled != enabled:
        assignment.reminders_enabled = enabled
        assignment.save(update_fields=["reminders_enabled", "updated_at"])
    reminders_replan(assignment=assignment)
    return assignment


# Beat's schedule ---------------------------------------------------------------

BEAT_TASKS = {
    "Reminders: plan the next day": "exercises.tasks.plan_reminders",
    "Reminders: dispatch due reminders": "exercises.tasks.dispatch_reminders",
}


def periodic_tasks_ensure(*, every_seconds: int = 60) -> None:
    """The beat schedule's rows (django-celery-beat's DatabaseScheduler reads
    them). Made when missing, never overwritten, so an interval changed in the
    admin stays. A tick queued while the workers are busy expires rather than
    piling up: the next tick does the same work."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    interval, _ = IntervalSchedule.objects.get_or_create(
        every=every_seconds, period=IntervalSchedule.SECONDS
    )
    for name, task in BEAT_TASKS.items():
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "expire_seconds": max(every_seconds - 5, 1),
            },
        )
