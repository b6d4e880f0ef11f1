"""Clinics, the people in them, and the records every other app hangs off."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            "%(value)s is not a known time zone (for example Europe/London).",
            code="invalid_time_zone",
            params={"value": value},
        )


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # People type their address with capitals; accounts are stored lower case.
        return self.get(email__iexact=username or "")


class User(AbstractUser):
    """A person who signs in: clinic staff, or a patient with a login."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()  # type: ignore[misc]

    def save(self, *args: object, **kwargs: object) -> None:
        self.email = self.email.lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def staff_member(self) -> StaffMember | None:
        """The clinic staff record of an active staff member, else None."""
        try:
            member = self.staff
        except StaffMember.DoesNotExist:
            return None
        return member if member.is_active else None

    @property
    def is_clinic_staff(self) -> bool:
        return self.staff_member is not None

    @property
    def is_patient(self) -> bool:
        return not self.is_clinic_staff and self.patient_records.exists()


class Clinic(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    contact_email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)

    # Booking settings.
    booking_enabled = models.BooleanField(default=True)
    booking_min_notice_hours = models.PositiveIntegerField(
        default=12,
        validators=[MaxValueValidator(24 * 14)],
        help_text="How long before a consult it can still be booked online.",
    )
    booking_max_days_ahead = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    one_consult_per_day = models.BooleanField(
        default=True, help_text="A patient may hold at most one active consult per day."
    )
    video_url = models.URLField(
        "own video link",
        blank=True,
        help_text="The clinic's own video room (for example a Zoom or Teams link), used for "
        "every consult. Empty: each consult gets its own private room.",
    )

    # Reminder settings.
    reminders_enabled = models.BooleanField(default=True)
    default_reminder_time = models.TimeField(
        default="08:00",
        help_text="Local time of day for exercise reminders, unless the patient picks another.",
    )
    consult_reminder_hours = models.CharField(
        max_length=40, default="24,1", help_text="Hours before a consult to send reminders."
    )

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class StaffMember(models.Model):
    class Role(models.TextChoices):
        CLINICIAN = "clinician", "Clinician"
        RECEPTIONIST = "receptionist", "Receptionist"
        ADMIN = "admin", "Clinic admin"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLINICIAN)
    job_title = models.CharField(
        max_length=80, blank=True, help_text="For example Physiotherapist."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        verbose_name = "staff member"

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()}, {self.clinic})"

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.email

    @property
    def is_clinician(self) -> bool:
        return self.role == self.Role.CLINICIAN

    @property
    def can_see_clinical(self) -> bool:
        """Receptionists handle scheduling and contact details, not clinical content."""
        return self.role in {self.Role.CLINICIAN, self.Role.ADMIN}


class PatientQuerySet(models.QuerySet["Patient"]):
    def for_clinic(self, clinic: Clinic) -> PatientQuerySet:
        return self.filter(clinic=clinic)

    def for_user(self, user: User) -> PatientQuerySet:
        """The patient records a signed-in patient may see: their own."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def search(self, query: str) -> PatientQuerySet:
        query = query.strip()
        if not query:
            return self
        condition = Q()
        for word in query.split():
            condition &= (
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
        return self.filter(condition)


class Patient(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    consent_email = models.BooleanField(
        "consents to email",
        default=False,
        help_text="The patient agreed to receive exercise plans and reminders by email.",
    )
    consent_email_at = models.DateTimeField(null=True, blank=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient_records",
        help_text="The patient's own login, if they have one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "email"],
                condition=~Q(email=""),
                name="patient_unique_email_per_clinic",
            ),
        ]
        indexes = [
            models.Index(
                fields=["clinic", "last_name", "first_name"], name="patient_clinic_name_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: object, **kwargs: object) -> None:
        self.email = self.email.strip().lower()
        if self.consent_email and self.consent_email_at is None:
            self.consent_email_at = timezone.now()
        elif not self.consent_email:
            self.consent_email_at = None
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def get_absolute_url(self) -> str:
        return reverse("patient_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def age(self, today: object = None) -> int | None:
        if self.date_of_birth is None:
            return None
        today = today or timezone.localdate()
        dob = self.date_of_birth
        return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))  # type: ignore[attr-defined]


class LoginLinkQuerySet(models.QuerySet["LoginLink"]):
    def usable(self) -> LoginLinkQuerySet:
        return self.filter(used_at__isnull=True, expires_at__gt=timezone.now())


class LoginLink(models.Model):
    """A one-time sign-in link. The URL carries a signature of the row's id, so
    nothing secret is stored and a Celery worker can rebuild the link from the id;
    `used_at` makes it single use and `expires_at` makes it expire."""

    SALT = "backstride.login-link"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_links"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    requested_from = models.GenericIPAddressField(null=True, blank=True)

    objects = LoginLinkQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="loginlink_user_created_idx")]

    def __str__(self) -> str:
        return f"Sign-in link for {self.user} ({self.created_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self) -> str:
        return reverse("login_link", args=[self.token])

    @classmethod
    def lifetime(cls) -> timedelta:
        return timedelta(seconds=settings.LOGIN_LINK_MAX_AGE)

    @property
    def token(self) -> str:
        return signing.dumps(self.pk, salt=self.SALT, compress=True)

    @classmethod
    def id_from_token(cls, token: str) -> int | None:
        try:
            value = signing.loads(token, salt=cls.SALT, max_age=cls.lifetime())
        except signing.BadSignature:
            return None
        return value if isinstance(value, int) else None


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def for_clinic(self, clinic: Clinic) -> AuditEventQuerySet:
        return self.filter(clinic=clinic)


class AuditEvent(models.Model):
    """Who looked at or changed which patient record, when and from where."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        EXPORT = "export", "Exported"
        LOGIN = "login", "Signed in"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    summary = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["clinic", "-at"], name="audit_clinic_at_idx"),
            models.Index(
                fields=["clinic", "object_type", "object_id"], name="audit_clinic_object_idx"
            ),
            # The audit log page filtered by who did it.
            models.Index(fields=["clinic", "actor", "-at"], name="audit_clinic_actor_at_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.actor} {self.get_action_display().lower()} {self.object_type} {self.object_id}"
        )


class ClinicalNoteQuerySet(models.QuerySet["ClinicalNote"]):
    def for_clinic(self, clinic: Clinic) -> ClinicalNoteQuerySet:
        return self.filter(clinic=clinic)

    def for_patient(self, patient: Patient) -> ClinicalNoteQuerySet:
        return self.filter(patient=patient)


class ClinicalNote(models.Model):
    """A clinician's note on a patient. Staff only: never shown to the patient,
    never emailed, never edited (a correction is a new note)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="clinical_notes")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="clinical_notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ClinicalNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["patient", "-created_at"], name="clinicalnote_patient_idx"),
        ]

    def __str__(self) -> str:
        return f"Note on {self.patient} ({self.created_at:%Y-%m-%d %H:%M})"


# Online consults ---------------------------------------------------------------


class ConsultType(models.Model):
    """What a clinic offers, for example an initial assessment of 45 minutes."""

    class Mode(models.TextChoices):
        VIDEO = "video", "Video call"
        PHONE = "phone", "Phone call"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="consult_types")
    name = models.CharField(max_length=80)
    duration_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(120)], help_text="Kept free after each consult."
    )
    price = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Shown to patients; payment is separate.",
    )
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.VIDEO)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["duration_minutes", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_minutes} min)"


class WorkingHours(models.Model):
    """A clinician's weekly hours for online consults, in the clinic's time zone."""

    clinician = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(6)], help_text="0 = Monday"
    )
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["clinician", "weekday", "starts"]
        verbose_name_plural = "working hours"

    def __str__(self) -> str:
        hours = f"{self.starts:%H:%M}-{self.ends:%H:%M}"
        return f"{self.clinician.display_name}: day {self.weekday} {hours}"

    def clean(self) -> None:
        if self.starts and self.ends and self.ends <= self.starts:
            raise ValidationError(
                {"ends": "The hours end before they start."}, code="ends_before_start"
            )


class TimeOff(models.Model):
    clinician = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="time_off")
    starts_on = models.DateField()
    ends_on = models.DateField()
    note = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["starts_on"]
        verbose_name_plural = "time off"

    def __str__(self) -> str:
        return f"{self.clinician.display_name} off {self.starts_on} to {self.ends_on}"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError(
                {"ends_on": "The time off ends before it starts."}, code="ends_before_start"
            )


class ConsultQuerySet(models.QuerySet["Consult"]):
    def for_clinic(self, clinic: Clinic) -> ConsultQuerySet:
        return self.filter(clinic=clinic)

    def active(self) -> ConsultQuerySet:
        return self.filter(status=Consult.Status.BOOKED)

    def overlapping(self, starts_at: Any, blocked_until: Any) -> ConsultQuerySet:
        return self.filter(starts_at__lt=blocked_until, blocked_until__gt=starts_at)


class Consult(models.Model):
    """An online consult between a clinician and a patient. Times are UTC.

    `blocked_until` is the end plus the type's buffer: the span no other active
    consult of the clinician may overlap. On PostgreSQL an exclusion constraint
    (migration 0002) enforces it; on SQLite the booking service re-checks
    under the database's write lock."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="consults")
    clinician = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="consults")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consults")
    consult_type = models.ForeignKey(ConsultType, on_delete=models.PROTECT, related_name="consults")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocked_until = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    reason = models.TextField(blank=True, help_text="What the patient would like to talk about.")
    video_url = models.URLField(blank=True)
    uid = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="Calendar UID."
    )
    sequence = models.PositiveIntegerField(
        default=0, help_text="Calendar SEQUENCE: goes up on each change."
    )
    rescheduled_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rescheduled_to"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(
        max_length=10,
        blank=True,
        choices=[("patient", "The patient"), ("clinic", "The clinic")],
    )

    objects = ConsultQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["clinician", "status", "starts_at"], name="consult_clinician_idx"),
            models.Index(fields=["clinic", "status", "starts_at"], name="consult_clinic_idx"),
            models.Index(fields=["patient", "status", "starts_at"], name="consult_patient_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="consult_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(blocked_until__gte=F("ends_at")), name="consult_block_covers_end"
            ),
        ]

    def __str__(self) -> str:
        when = f"{self.starts_at:%Y-%m-%d %H:%M} UTC"
        return f"{self.consult_type.name} with {self.clinician.display_name} at {when}"

    @property
    def is_booked(self) -> bool:
        return self.status == self.Status.BOOKED

    def can_change(self, now: Any = None) -> bool:
        """Cancelled, completed or started consults are no longer moved or cancelled."""
        return self.is_booked and self.starts_at > (now or timezone.now())

    def can_record_outcome(self, now: Any = None) -> bool:
        return self.is_booked and self.starts_at <= (now or timezone.now())
