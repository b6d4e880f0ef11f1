"""Django admin for everything, scoped to the staff member's clinic for
anyone who is not a superuser."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models
from django.db.models import Q
from django.http import HttpRequest

from clinic.models import (
    AuditEvent,
    Clinic,
    ClinicalNote,
    Consult,
    ConsultType,
    LoginLink,
    Patient,
    StaffMember,
    TimeOff,
    User,
    WorkingHours,
)


def clinic_of(request: HttpRequest) -> Clinic | None:
    member = request.user.staff_member  # type: ignore[union-attr]
    return member.clinic if member is not None else None


class ClinicScopedAdmin(admin.ModelAdmin):
    """Rows are filtered through `clinic_path`; foreign keys offer only the
    clinic's own rows; new rows are put in the staff member's clinic."""

    clinic_path = "clinic"

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:  # type: ignore[union-attr]
            return qs
        clinic = clinic_of(request)
        if clinic is None:
            return qs.none()
        return qs.filter(**{self.clinic_path: clinic})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:  # type: ignore[union-attr]
            clinic = clinic_of(request)
            related = db_field.related_model
            if related is Clinic:
                kwargs["queryset"] = Clinic.objects.filter(pk=getattr(clinic, "pk", None))
            elif any(f.name == "clinic" for f in related._meta.get_fields()):
                kwargs["queryset"] = related._default_manager.filter(clinic=clinic)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not request.user.is_superuser and hasattr(obj, "clinic_id"):  # type: ignore[union-attr]
            obj.clinic = clinic_of(request)
        super().save_model(request, obj, form, change)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[User]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:  # type: ignore[union-attr]
            return qs
        clinic = clinic_of(request)
        return qs.filter(Q(staff__clinic=clinic) | Q(patient_records__clinic=clinic)).distinct()


@admin.register(Clinic)
class ClinicAdmin(ClinicScopedAdmin):
    clinic_path = "pk"
    list_display = [
        "name",
        "slug",
        "time_zone",
        "contact_email",
        "booking_enabled",
        "reminders_enabled",
    ]
    search_fields = ["name", "slug", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)  # type: ignore[union-attr]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Clinic]:
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:  # type: ignore[union-attr]
            return qs
        clinic = clinic_of(request)
        return qs.filter(pk=getattr(clinic, "pk", None))


@admin.register(StaffMember)
class StaffMemberAdmin(ClinicScopedAdmin):
    list_display = ["display_name", "user", "clinic", "role", "job_title", "is_active"]
    list_filter = ["role", "is_active"]
    list_select_related = ["user", "clinic"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


@admin.register(Patient)
class PatientAdmin(ClinicScopedAdmin):
    list_display = ["full_name", "email", "clinic", "date_of_birth", "consent_email", "created_at"]
    list_filter = ["consent_email"]
    list_select_related = ["clinic"]
    search_fields = ["first_name", "last_name", "email"]
    autocomplete_fields = ["user"]
    readonly_fields = ["consent_email_at", "created_at", "updated_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(ClinicScopedAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "ip_address", "clinic"]
    list_filter = ["action", "object_type"]
    list_select_related = ["actor", "clinic"]
    search_fields = ["actor__email", "object_id", "summary"]
    date_hierarchy = "at"

    # The audit trail is read-only, for everyone.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LoginLink)
class LoginLinkAdmin(ClinicScopedAdmin):
    clinic_path = "user__patient_records__clinic"
    list_display = ["user", "created_at", "expires_at", "used_at", "requested_from"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "created_at", "expires_at", "used_at", "requested_from"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# Online consults ---------------------------------------------------------------


@admin.register(ConsultType)
class ConsultTypeAdmin(ClinicScopedAdmin):
    list_display = ["name", "clinic", "duration_minutes", "buffer_minutes", "mode", "is_active"]
    list_filter = ["mode", "is_active"]
    list_select_related = ["clinic"]
    search_fields = ["name"]


@admin.register(WorkingHours)
class WorkingHoursAdmin(ClinicScopedAdmin):
    clinic_path = "clinician__clinic"
    list_display = ["clinician", "weekday", "starts", "ends"]
    list_filter = ["weekday"]
    list_select_related = ["clinician__user", "clinician__clinic"]
    search_fields = ["clinician__user__first_name", "clinician__user__last_name"]


@admin.register(TimeOff)
class TimeOffAdmin(ClinicScopedAdmin):
    clinic_path = "clinician__clinic"
    list_display = ["clinician", "starts_on", "ends_on", "note"]
    list_select_related = ["clinician__user", "clinician__clinic"]
    search_fields = ["clinician__user__first_name", "clinician__user__last_name", "note"]
    date_hierarchy = "starts_on"


@admin.register(Consult)
class ConsultAdmin(ClinicScopedAdmin):
    """For looking up and correcting consults. Booking, moving and cancelling
    happen on the booking pages and the schedule, which check for clashes and
    tell the patient; here the times and people are read-only."""

    list_display = ["starts_at", "patient", "clinician", "consult_type", "status", "clinic"]
    list_filter = ["status", "consult_type__mode"]
    list_select_related = ["patient", "clinician__user", "consult_type", "clinic"]
    search_fields = ["patient__first_name", "patient__last_name", "patient__email"]
    date_hierarchy = "starts_at"
    readonly_fields = [
        "clinic",
        "clinician",
        "patient",
        "consult_type",
        "starts_at",
        "ends_at",
        "blocked_until",
        "uid",
        "sequence",
        "rescheduled_from",
        "created_by",
        "created_at",
        "updated_at",
        "cancelled_at",
        "cancelled_by",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ClinicalNote)
class ClinicalNoteAdmin(ClinicScopedAdmin):
    list_display = ["patient", "author", "created_at"]
    list_select_related = ["patient", "author"]
    search_fields = ["patient__first_name", "patient__last_name", "body"]

    # Notes are never edited: a correction is a new note.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
