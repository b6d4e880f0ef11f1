"""Every object a view loads comes through these helpers.

Staff see their own clinic only; patients see their own records only; an id
from another clinic is a 404, never a 403, so ids leak nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from clinic.models import Clinic, Patient, PatientQuerySet, StaffMember

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.staff_member is None:  # type: ignore[union-attr]
            raise PermissionDenied("This page is for clinic staff.")
        return view(request, *args, **kwargs)

    return wrapper


def clinical_staff_required(view: View) -> View:
    """Clinical content: clinicians and clinic admins, not receptionists."""

    @staff_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not staff_for(request).can_see_clinical:
            raise PermissionDenied("Clinical records are for clinicians.")
        return view(request, *args, **kwargs)

    return wrapper


def patient_required(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not Patient.objects.for_user(request.user).exists():  # type: ignore[arg-type]
            raise PermissionDenied("This page is for patients.")
        return view(request, *args, **kwargs)

    return wrapper


def staff_for(request: HttpRequest) -> StaffMember:
    member = request.user.staff_member  # type: ignore[union-attr]
    if member is None:
        raise PermissionDenied("This page is for clinic staff.")
    return member


def clinic_for(request: HttpRequest) -> Clinic:
    return staff_for(request).clinic


def patients_for(request: HttpRequest) -> PatientQuerySet:
    """Patients the signed-in person may see: the staff member's clinic, or a
    patient's own records."""
    member = request.user.staff_member if request.user.is_authenticated else None  # type: ignore[union-attr]
    if member is not None:
        return Patient.objects.for_clinic(member.clinic)
    return Patient.objects.for_user(request.user)  # type: ignore[arg-type]


def get_patient_or_404(request: HttpRequest, pk: int) -> Patient:
    return get_object_or_404(patients_for(request).select_related("clinic", "user"), pk=pk)


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR is the proxy's address behind a proxy; gunicorn is run with
    # --forwarded-allow-ips so it is rewritten from X-Forwarded-For there.
    return request.META.get("REMOTE_ADDR") or None
