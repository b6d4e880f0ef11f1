"""The signed link to a self-assessment's result: the patient needs no account."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.urls import reverse

SALT = "backstride.intake-result"
MAX_AGE = timedelta(days=60)


def result_token(intake_id: int) -> str:
    return signing.dumps(intake_id, salt=SALT)


def intake_id_from_token(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def result_path(intake_id: int) -> str:
    return reverse("assess_result", args=[result_token(intake_id)])
