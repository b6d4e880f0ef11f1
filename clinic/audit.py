from __future__ import annotations

from django.db import models
from django.http import HttpRequest

from clinic.access import client_ip
from clinic.models import AuditEvent, Clinic


def audit_record(
    request: HttpRequest, *, clinic: Clinic, action: str, obj: models.Model, summary: str = ""
) -> AuditEvent:
    """Record that the signed-in user did `action` to `obj`."""
    return AuditEvent.objects.create(
        clinic=clinic,
        actor=request.user if request.user.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        summary=summary[:200],
        ip_address=client_ip(request),
    )
