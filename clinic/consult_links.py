"""Signed links in consult emails: the patient sees, moves or cancels their
consult without a password. The link carries only the consult's id; the
signature is the secret. Pages behind it change things only on POST."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.urls import reverse

SALT = "backstride.consult"
# Long enough to look back at a consult a year on.
MAX_AGE = timedelta(days=400)


def consult_token(consult_id: int) -> str:
    return signing.dumps(consult_id, salt=SALT)


def consult_id_from_token(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def consult_path(consult_id: int) -> str:
    return reverse("consult_link", args=[consult_token(consult_id)])


def cancel_path(consult_id: int) -> str:
    return reverse("consult_link_cancel", args=[consult_token(consult_id)])


def reschedule_path(consult_id: int) -> str:
    return reverse("consult_link_reschedule", args=[consult_token(consult_id)])
