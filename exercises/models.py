"""The exercise library, program templates, and the plans patients are given."""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from clinic.models import Clinic, Patient

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant a wall-clock time happens on a local day.

    A time the clocks skip (inside the spring-forward gap) becomes the moment
    the clocks jump, the first valid local time after it: 01:30 on the day
    London springs forward is 02:00 BST. A time that happens twice (the
    autumn hour) is its first occurrence.
    """
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the first occurrence
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return moment
    # In a gap, fold=0 reads the wall time with the offset from before the
    # jump and fold=1 with the one after: the jump lies between the two.
    # Transitions fall on whole seconds, so a bisection finds it exactly.
    after = moment.astimezone(zone).utcoffset()
    low = int(local.replace(fold=1).astimezone(UTC).timestamp())
    high = int(moment.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


class Region(models.Model):
    """A body region or muscle group an exercise works (glutes, core ...)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ExerciseQuerySet(models.QuerySet["Exercise"]):
    def for_clinic(self, clinic: Clinic) -> ExerciseQuerySet:
        """The clinic's own exercises plus the shared library, minus what it hid."""
        return self.filter(Q(clinic=clinic) | Q(clinic__isnull=True)).exclude(hidden_for=clinic)

    def shared(self) -> ExerciseQuerySet:
        return self.filter(clinic__isnull=True)

    def search(self, query: str) -> ExerciseQuerySet:
        condition = Q()
        for word in query.split():
            condition &= Q(name__icontains=word) | Q(summary__icontains=word)
        return self.filter(condition)


class Exercise(models.Model):
    class Category(models.TextChoices):
        STRENGTH = "strength", "Strength"
        CORE = "core", "Core"
        MOBILITY = "mobility", "Mobility and stretching"
        MOTOR_CONTROL = "motor_control", "Motor control"
        RUNNING_DRILL = "running_drill", "Running drill"
        CONDITIONING = "conditioning", "Conditioning"
        SELF_TEST = "self_test", "Self-test"

    class Equipment(models.TextChoices):
        NONE = "none", "No equipment"
        MAT = "mat", "Mat"
        STABILITY_BALL = "stability_ball", "Stability ball"
        FOAM_ROLLER = "foam_roller", "Foam roller"
        BAR = "bar", "Pull-up bar"
        DUMBBELL = "dumbbell", "Dumbbells"
        BENCH = "bench", "Bench or step"

    SHARED_LICENCE = "CC BY-SA 4.0"

    clinic = models.ForeignKey(
        Clinic,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exercises",
        help_text="Empty for the shared library; set for a clinic's own exercise.",
    )
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="adaptations"
    )
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    summary = models.CharField(max_length=240)
    steps = models.JSONField(default=list, help_text="Numbered steps, in order.")
    cues = models.JSONField(default=list, blank=True, help_text="Coaching cues.")
    mistakes = models.JSONField(default=list, blank=True, help_text="Common mistakes.")
    safety = models.JSONField(default=list, blank=True, help_text="When to stop.")
    category = models.CharField(max_length=20, choices=Category.choices)
    regions = models.ManyToManyField(Region, related_name="exercises", blank=True)
    equipment = models.CharField(max_length=20, choices=Equipment.choices, default=Equipment.NONE)
    difficulty = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    default_sets = models.PositiveSmallIntegerField(default=3, validators=[MaxValueValidator(20)])
    default_reps = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(200)]
    )
    default_hold_seconds = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(600)]
    )
    per_side = models.BooleanField(default=False)
    rest_seconds = models.PositiveSmallIntegerField(default=45, validators=[MaxValueValidator(600)])
    illustration = models.CharField(
        max_length=120,
        blank=True,
        help_text="A picture shipped in static/, e.g. exercises/glute-bridge.svg.",
    )
    image = models.FileField(
        upload_to="exercises/",
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "webp"])],
        help_text="A clinic's own photo (PNG, JPEG or WebP).",
    )
    video_url = models.URLField(blank=True)
    licence = models.CharField(max_length=60, default=SHARED_LICENCE)
    hidden_for = models.ManyToManyField(Clinic, blank=True, related_name="hidden_exercises")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ExerciseQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                condition=Q(clinic__isnull=True),
                name="exercise_shared_slug_unique",
            ),
            models.UniqueConstraint(fields=["clinic", "slug"], name="exercise_clinic_slug_unique"),
        ]
        indexes = [
            models.Index(fields=["category", "name"], name="exercise_category_idx"),
            models.Index(fields=["equipment", "name"], name="exercise_equipment_idx"),
            models.Index(fields=["difficulty", "name"], name="exercise_difficulty_idx"),
            models.Index(fields=["clinic", "name"], name="exercise_clinic_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("exercise_detail", args=[self.pk])

    @property
    def picture_url(self) -> str:
        if self.image:
            return self.image.url
        return static(self.illustration or "exercises/placeholder.svg")

    @property
    def email_picture_url(self) -> str:
        """Mail apps do not show SVG: emails use the PNG rendering of the picture."""
        if self.image:
            return self.image.url
        if self.illustration.endswith(".svg"):
            png = self.illustration.replace("exercises/", "exercises/png/").replace(".svg", ".png")
            return static(png)
        return static(self.illustration or "exercises/png/placeholder.png")

    @property
    def is_shared(self) -> bool:
        return self.clinic_id is None

    @property
    def default_dosage(self) -> str:
        return dosage_text(
            sets=self.default_sets,
            reps=self.default_reps,
            hold_seconds=self.default_hold_seconds,
            per_side=self.per_side,
        )

    def clean(self) -> None:
        if not self.steps:
            raise ValidationError({"steps": "Give at least one step."}, code="no_steps")
        if self.default_reps is None and self.default_hold_seconds is None:
            raise ValidationError("Give a number of reps or a hold time.", code="no_dosage")


def dosage_text(*, sets: int, reps: int | None, hold_seconds: int | None, per_side: bool) -> str:
    """'3 × 10 reps each side', '3 × 30 s hold' ..."""
    parts = []
    if reps:
        parts.append(f"{sets} × {reps} reps")
    if hold_seconds and hold_seconds >= 120 and hold_seconds % 60 == 0:
        # Walks and run-walk blocks read as durations, not holds.
        parts.append(f"{sets} × {hold_seconds // 60} min")
    elif hold_seconds:
        parts.append(f"hold {hold_seconds} s" if reps else f"{sets} × {hold_seconds} s hold")
    text = ", ".join(parts) or f"{sets} sets"
    return f"{text} each side" if per_side else text


# The fields of a Dosage, copied from a template's items into a patient's plan.
DOSAGE_FIELDS = (
    "sets",
    "reps",
    "hold_seconds",
    "per_side",
    "week_from",
    "week_to",
    "notes",
    "order",
)


class Dosage(models.Model):
    """What a prescribed exercise asks for: shared by template and plan items."""

    sets = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    reps = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(200)]
    )
    hold_seconds = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(600)]
    )
    per_side = models.BooleanField(default=False)
    week_from = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    week_to = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: to the end."
    )
    notes = models.CharField(max_length=240, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["order", "pk"]

    @property
    def dosage(self) -> str:
        return dosage_text(
            sets=self.sets, reps=self.reps, hold_seconds=self.hold_seconds, per_side=self.per_side
        )

    def applies_in_week(self, week: int) -> bool:
        return self.week_from <= week and (self.week_to is None or week <= self.week_to)

    def clean(self) -> None:
        if self.reps is None and self.hold_seconds is None:
            raise ValidationError("Give a number of reps or a hold time.", code="no_dosage")
        if self.week_to is not None and self.week_to < self.week_from:
            raise ValidationError(
                {"week_to": "The last week comes before the first."}, code="weeks_reversed"
            )


class ProgramQuerySet(models.QuerySet["Program"]):
    def for_clinic(self, clinic: Clinic) -> ProgramQuerySet:
        return self.filter(Q(clinic=clinic) | Q(clinic__isnull=True))


class Program(models.Model):
    """A template clinicians assign; shared (clinic empty) or a clinic's own."""

    clinic = models.ForeignKey(
        Clinic, null=True, blank=True, on_delete=models.CASCADE, related_name="programs"
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120)
    goal = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    duration_weeks = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(52)]
    )
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"], condition=Q(clinic__isnull=True), name="program_shared_slug_unique"
            ),
            models.UniqueConstraint(fields=["clinic", "slug"], name="program_clinic_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("program_detail", args=[self.pk])

    @property
    def is_shared(self) -> bool:
        return self.clinic_id is None


class ProgramItem(Dosage):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="items")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="program_items")

    class Meta(Dosage.Meta):
        indexes = [models.Index(fields=["program", "order"], name="programitem_order_idx")]

    def __str__(self) -> str:
        return f"{self.exercise} ({self.dosage})"


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def for_clinic(self, clinic: Clinic) -> AssignmentQuerySet:
        return self.filter(clinic=clinic)

    def for_patient(self, patient: Patient) -> AssignmentQuerySet:
        return self.filter(patient=patient)

    def active(self) -> AssignmentQuerySet:
        return self.filter(status=Assignment.Status.ACTIVE)


class Assignment(models.Model):
    """A program prescribed to one patient: their own copy, with a schedule."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ENDED = "ended", "Ended"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="assignments")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="assignments")
    program = models.ForeignKey(
        Program,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignments",
        help_text="The template it was copied from.",
    )
    name = models.CharField(max_length=120)
    goal = models.CharField(max_length=200, blank=True)
    start_date = models.DateField()
    end_date = models.DateField()
    days_of_week = models.JSONField(default=list, help_text="0 = Monday ... 6 = Sunday.")
    reminder_time = models.TimeField(
        default=time(8, 0), help_text="Local time in the patient's zone."
    )
    reminders_enabled = models.BooleanField(default=True)
    notes = models.TextField(blank=True, help_text="Personal notes for the patient.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    version = models.PositiveIntegerField(
        default=1, help_text="Goes up each time the plan changes."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-pk"]
        indexes = [
            models.Index(fields=["clinic", "status"], name="assignment_clinic_status_idx"),
            models.Index(fields=["patient", "status"], name="assignment_patient_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} for {self.patient}"

    def get_absolute_url(self) -> str:
        return reverse("plan", args=[self.pk])

    def clean(self) -> None:
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError(
                {"end_date": "The plan ends before it starts."}, code="ends_before_start"
            )
        days = self.days_of_week
        if not days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            raise ValidationError(
                {"days_of_week": "Pick at least one day of the week."}, code="no_days"
            )

    # Schedule maths ---------------------------------------------------------

    @property
    def schedule_text(self) -> str:
        days = sorted(set(self.days_of_week))
        return "Every day" if len(days) == 7 else ", ".join(WEEKDAYS[d] for d in days)

    def week_number(self, day: date) -> int:
        return (day - self.start_date).days // 7 + 1

    def is_session_day(self, day: date) -> bool:
        return self.start_date <= day <= self.end_date and day.weekday() in self.days_of_week

    def session_days(self, start: date, end: date) -> list[date]:
        """The scheduled session days between start and end, inclusive."""
        start, end = max(start, self.start_date), min(end, self.end_date)
        return [
            start + timedelta(n)
            for n in range((end - start).days + 1)
            if (start + timedelta(n)).weekday() in self.days_of_week
        ]

    def local_today(self) -> date:
        return timezone.now().astimezone(self.patient.zone).date()

    def items_for_week(
        self, week: int, items: list[AssignmentItem] | None = None
    ) -> list[AssignmentItem]:
        items = items if items is not None else list(self.items.all())
        return [item for item in items if item.applies_in_week(week)]

    def reminder_at(self, day: date) -> datetime:
        """The reminder moment for a local day, as an aware datetime in UTC."""
        return local_to_utc(day, self.reminder_time, self.patient.zone)

    def reminder_skip_reason(self, day: date) -> str:
        """Why no reminder goes out for `day`, or '' when one should (a logged
        session is checked by the sender, which has the logs at hand)."""
        if self.status != self.Status.ACTIVE:
            return f"plan {self.get_status_display().lower()}"
        if not self.reminders_enabled:
            return "reminders paused for this plan"
        if not self.clinic.reminders_enabled:
            return "clinic has reminders off"
        if not (self.patient.consent_email and self.patient.email):
            return "no consent to email"
        if not self.is_session_day(day):
            return "not a session day"
        return ""

    def adherence(
        self, logs: list[SessionLog] | None = None, today: date | None = None
    ) -> dict[str, Any]:
        """Sessions done over sessions scheduled, up to today (a 'some' counts half)."""
        today = today or self.local_today()
        scheduled = self.session_days(self.start_date, min(today, self.end_date))
        logs = logs if logs is not None else list(self.logs.all())
        credit = {
            SessionLog.Completion.ALL: 1.0,
            SessionLog.Completion.SOME: 0.5,
            SessionLog.Completion.NONE: 0.0,
        }
        done = sum(credit[log.completion] for log in logs if log.date in set(scheduled))
        return {
            "scheduled": len(scheduled),
            "done": done,
            "rate": (done / len(scheduled)) if scheduled else None,
        }


class AssignmentItem(Dosage):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="items")
    exercise = models.ForeignKey(
        Exercise, on_delete=models.PROTECT, related_name="assignment_items"
    )

    class Meta(Dosage.Meta):
        indexes = [models.Index(fields=["assignment", "order"], name="assignmentitem_order_idx")]

    def __str__(self) -> str:
        return f"{self.exercise} ({self.dosage})"


class SessionLog(models.Model):
    """What the patient did on one day of their plan."""

    class Completion(models.TextChoices):
        ALL = "all", "All of it"
        SOME = "some", "Some of it"
        NONE = "none", "None today"

    class Effort(models.TextChoices):
        EASY = "easy", "Easy"
        OK = "ok", "About right"
        HARD = "hard", "Hard"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="logs")
    date = models.DateField(help_text="The patient's local day.")
    completion = models.CharField(max_length=5, choices=Completion.choices, default=Completion.ALL)
    pain = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
        help_text="Pain now, 0 (none) to 10 (worst).",
    )
    effort = models.CharField(max_length=5, choices=Effort.choices, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "date"], name="sessionlog_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.assignment} on {self.date}: {self.get_completion_display()}"


# Reminders ----------------------------------------------------------------------


class ReminderQuerySet(models.QuerySet["Reminder"]):
    def for_clinic(self, clinic: Clinic) -> ReminderQuerySet:
        return self.filter(clinic=clinic)

    def due(self, now: datetime) -> ReminderQuerySet:
        """Pending and due (or due again after a retry's backoff): served by
        the partial index `reminder_due_idx`."""
        return self.filter(state=Reminder.State.PENDING, send_after__lte=now)

    def claimed(self, claim: str) -> ReminderQuerySet:
        """The rows a dispatcher or a send task holds: a claim is set when a
        row goes to `sending` and cleared by every move out of it except the
        holder's own sent / skipped / failed, so the claim alone says so.
        Deliberately not `state=sending` as well: with that, PostgreSQL may
        answer a lookup by id through the partial index of all rows sending
        (thousands, at the due minute) instead of the primary key."""
        return self.filter(claim=claim)

    def stuck(self, cutoff: datetime) -> ReminderQuerySet:
        """Claimed before `cutoff` and never finished: the worker died, or its
        task was lost with the broker."""
        return self.filter(state=Reminder.State.SENDING, claimed_at__lt=cutoff)

    def failed(self) -> ReminderQuerySet:
        """Given up on (a permanent SMTP refusal, or out of attempts): for the dashboard."""
        return self.filter(state=Reminder.State.FAILED)

    def undelivered(self, since: datetime) -> ReminderQuerySet:
        """Failed since `since` and not made good: no later reminder to the
        same patient has gone out since (their address was put right, or the
        server took mail again). Served by `reminder_failed_idx`."""
        delivered_later = Reminder.objects.filter(
            patient=OuterRef("patient"), state=Reminder.State.SENT, due_at__gt=OuterRef("due_at")
        )
        return self.failed().filter(due_at__gte=since).exclude(Exists(delivered_later))

    def unsent(self) -> ReminderQuerySet:
        return self.filter(state__in=[Reminder.State.PENDING, Reminder.State.SKIPPED])


class Reminder(models.Model):
    """One reminder email that should go out once: an exercise day of a plan,
    or a consult. The row, not the broker, is the truth about delivery:
    pending -> sending (claimed by one dispatcher) -> sent | skipped | failed,
    with failed-for-now rows back to pending after a backoff."""

    class Kind(models.TextChoices):
        EXERCISE = "exercise", "Exercise day"
        CONSULT_24H = "consult_24h", "Consult, the day before"
        CONSULT_1H = "consult_1h", "Consult, shortly before"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    # Each message's "sent" adds its row to every index that is not partial on
    # another state: so the plan and consult keys have none of their own (the
    # unique constraints lead with them), nor the clinic (a clinic with
    # patients cannot be deleted; its failed reminders have a partial index).
    kind = models.CharField(max_length=12, choices=Kind.choices)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="reminders", db_index=False
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="reminders")
    assignment = models.ForeignKey(
        Assignment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_index=False,
    )
    day = models.DateField(null=True, blank=True, help_text="The patient's local day.")
    consult = models.ForeignKey(
        "clinic.Consult",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_index=False,
    )
    hours_before = models.PositiveSmallIntegerField(null=True, blank=True)
    due_at = models.DateTimeField(help_text="When it should go out (UTC).")
    send_after = models.DateTimeField(help_text="The next attempt: the due time, or a retry's.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Sends started (a worker took the row over)."
    )
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    skip_reason = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "day"], name="reminder_one_per_plan_day"),
            # A consult moved in place keeps its id: each time it is booked
            # for gets its own rows, and the old time's are skipped.
            models.UniqueConstraint(
                fields=["consult", "kind", "due_at"], name="reminder_one_per_consult_time"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="exercise",
                        assignment__isnull=False,
                        day__isnull=False,
                        consult__isnull=True,
                    )
                    | Q(
                        kind__in=["consult_24h", "consult_1h"],
                        consult__isnull=False,
                        hours_before__isnull=False,
                        assignment__isnull=True,
                    )
                ),
                name="reminder_for_one_thing",
            ),
        ]
        indexes = [
            models.Index(
                fields=["send_after"], condition=Q(state="pending"), name="reminder_due_idx"
            ),
            models.Index(
                fields=["claimed_at"], condition=Q(state="sending"), name="reminder_sending_idx"
            ),
            models.Index(
                fields=["clinic", "due_at"], condition=Q(state="failed"), name="reminder_failed_idx"
            ),
        ]

    def __str__(self) -> str:
        when = f"{self.due_at:%Y-%m-%d %H:%M} UTC"
        return f"{self.get_kind_display()} reminder for {self.patient} at {when}"

    # Schedule maths ------------------------------------------------------------

    # Later than this after its time, an exercise reminder helps nobody.
    EXERCISE_LATEST = timedelta(hours=6)

    @staticmethod
    def consult_leads(clinic: Clinic) -> list[tuple[str, int]]:
        """(kind, hours before) from the clinic's "24,1": at most one reminder
        of 12 hours or more ahead (the day before) and one nearer the time."""
        hours = set()
        for part in clinic.consult_reminder_hours.split(","):
            with contextlib.suppress(ValueError):
                hours.add(int(part))
        early = [h for h in hours if 12 <= h <= 24 * 7]
        late = [h for h in hours if 0 < h < 12]
        leads = []
        if early:
            leads.append((Reminder.Kind.CONSULT_24H.value, max(early)))
        if late:
            leads.append((Reminder.Kind.CONSULT_1H.value, max(late)))
        return leads

    @staticmethod
    def retry_delay(attempts: int, *, base: int, rng: random.Random | None = None) -> timedelta:
        """Exponential backoff with jitter: about base × 2^(n-1) seconds, drawn
        from its upper half so retries of one outage spread out, capped at an hour."""
        ceiling = min(base * 2 ** max(attempts - 1, 0), 3600)
        return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))

    def expected_due_at(self) -> datetime:
        """Where the row's time should be now, after any change to the plan or consult."""
        if self.kind == self.Kind.EXERCISE:
            assert self.assignment is not None and self.day is not None
            return self.assignment.reminder_at(self.day)
        assert self.consult is not None and self.hours_before is not None
        return self.consult.starts_at - timedelta(hours=self.hours_before)

    def content_key(self) -> str:
        """What the message depends on beyond the row: a message rendered for
        another key (the plan was edited, the consult moved, the address
        changed) is rendered again."""
        if self.kind == self.Kind.EXERCISE:
            assert self.assignment is not None
            return f"plan v{self.assignment.version} to {self.patient.email}"
        assert self.consult is not None
        return f"consult #{self.consult.sequence} to {self.patient.email}"

    def latest_useful_at(self) -> datetime:
        if self.kind == self.Kind.EXERCISE:
            return self.due_at + self.EXERCISE_LATEST
        assert self.consult is not None
        return self.consult.starts_at


class ReminderMessage(models.Model):
    """A reminder rendered ahead by the planner, so that at the due minute a
    worker only sends: the message as it goes on the wire (without its Date
    header) and what it was rendered from (`Reminder.content_key`).

    A table of its own, not a column of the reminder: a rendered message is
    about 2 KB even compressed, and each of a reminder's state changes would
    copy it. Deleted once the reminder is done, so patient details do not
    linger in it."""

    reminder = models.OneToOneField(
        Reminder, on_delete=models.CASCADE, primary_key=True, related_name="rendered"
    )
    data = models.BinaryField()
    rendered_for = models.CharField(max_length=300)

    def __str__(self) -> str:
        return f"Rendered reminder {self.reminder_id}"


class ReminderSent(models.Model):
    """That a reminder's message was accepted by the SMTP server: written the
    moment it is, one per message, and folded into the reminder (state sent,
    sent_at) when its batch ends, then deleted (`reminders.reminders_fold`).

    A narrow table of its own, appended to, because this record is the one
    write per message that cannot wait: until it is committed, a crash means
    the message goes again. Updating the reminder row instead cost several
    times as much (a new row version and an entry in each of its indexes).
    No foreign key constraint in the database, so the insert checks nothing
    else; Django still deletes these with their reminder."""

    reminder = models.OneToOneField(
        Reminder,
        on_delete=models.CASCADE,
        primary_key=True,
        db_constraint=False,
        related_name="sent_record",
    )
    sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Reminder {self.reminder_id} accepted at {self.sent_at:%Y-%m-%d %H:%M:%S}"
