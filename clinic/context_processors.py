from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    member = user.staff_member if user is not None and user.is_authenticated else None
    return {
        "brand": settings.SITE_NAME,
        "debug_outbox": settings.DEBUG and settings.EMAIL_BACKEND == "clinic.mail.EmlFileBackend",
        "current_staff": member,
        "is_staff_user": member is not None,
    }
