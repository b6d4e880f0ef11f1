"""Self-assessments: what a patient answered, how it scored, and its review."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from clinic.models import Clinic, Patient

RISK_RANK = {"high": 3, "medium": 2, "low": 1}


class InstrumentText(models.Model):
    """A clinic's licensed wording for an instrument we ship without text
    (STarT Back, ODI, RMDQ), installed with `manage.py install_instrument_text`."""

    instrument = models.CharField(max_length=30)
    version = models.CharField(max_length=20)
    item_code = models.CharField(max_length=60)
    text = models.TextField()
    notice = models.TextField(
        blank=True, help_text="The copyright notice the licence asks us to keep."
    )
    installed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "version", "item_code"], name="instrumenttext_unique_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.version} {self.item_code}"


class IntakeQuerySet(models.QuerySet["Intake"]):
    def for_clinic(self, clinic: Clinic) -> IntakeQuerySet:
        return self.filter(clinic=clinic)

    def unreviewed(self) -> IntakeQuerySet:
        return self.filter(status=Intake.Status.NEW)

    def urgent_first(self) -> IntakeQuerySet:
        """The triage queue's order: urgent, then high, medium, low risk; oldest first."""
        return self.order_by("-urgent", "-risk_rank", "created_at", "pk")


class Intake(models.Model):
    """One completed self-assessment. Never edited: a later one is a new intake.
    Only its review (status, reviewer, time) changes."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        REVIEWED = "reviewed", "Reviewed"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="intakes")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="intakes")
    created_at = models.DateTimeField(auto_now_add=True)
    answers = models.JSONField(help_text="{instrument code: {item code: value}}")
    versions = models.JSONField(help_text="{instrument code: version answered}")
    scores = models.JSONField(help_text="{instrument code: score result}")
    urgent = models.BooleanField(default=False)
    risk = models.CharField(max_length=10, blank=True)
    risk_rank = models.PositiveSmallIntegerField(default=0)
    red_flags = models.JSONField(default=list, blank=True)
    factors = models.JSONField(default=list, blank=True)
    suggested_program = models.ForeignKey(
        "exercises.Program", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consent_at = models.DateTimeField(
        help_text="When the patient agreed to us storing their answers."
    )
    submitted_from = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    objects = IntakeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The triage queue: unreviewed intakes of a clinic, urgent and riskiest first.
            models.Index(
                fields=["clinic", "status", "-urgent", "-risk_rank", "created_at"],
                name="intake_queue_idx",
            ),
            models.Index(fields=["patient", "-created_at"], name="intake_patient_idx"),
            # The patient list's "risk of the latest intake" filter.
            models.Index(fields=["clinic", "risk_rank", "patient"], name="intake_clinic_risk_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(risk__in=["", "low", "medium", "high"]), name="intake_risk_valid"
            )
        ]

    def __str__(self) -> str:
        return f"Self-assessment by {self.patient} on {self.created_at:%Y-%m-%d}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.risk_rank = RISK_RANK.get(self.risk, 0)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def get_absolute_url(self) -> str:
        return reverse("intake_detail", args=[self.pk])

    def changes_since(self, previous: Intake) -> list[Any]:
        """For each scale both intakes answered, how the score moved, judged
        against its minimal important change (NPRS 2, ODI 10, RMDQ 3)."""
        from triage import scoring

        return [
            scoring.change(
                code,
                scoring.ScoreResult.from_dict(previous.scores[code]),
                scoring.ScoreResult.from_dict(self.scores[code]),
            )
            for code in ("nprs", "odi", "rmdq")
            if code in self.scores and code in previous.scores
        ]

    @property
    def red_flag_groups(self) -> dict[str, list[str]]:
        return (self.scores.get("red_flags") or {}).get("subscales") or {}

    @property
    def factor_names(self) -> list[str]:
        return [factor_name(code) for code in self.factors]

    @property
    def red_flag_names(self) -> list[str]:
        return [red_flag_name(code) for code in self.red_flags]


def factor_name(code: str) -> str:
    """A factor's short name, for staff lists."""
    from triage.scoring import FACTOR_SHORT_NAMES

    return FACTOR_SHORT_NAMES.get(code, code.replace("_", " "))


def red_flag_name(code: str) -> str:
    return code.replace("_", " ").capitalize()
