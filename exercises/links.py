"""Signed links in plan emails: they open the patient's plan, or log a session,
without a password. Each carries only an id (and a day); the signature is the secret."""

from __future__ import annotations

from datetime import date, timedelta

from django.core import signing
from django.urls import reverse

PLAN_SALT = "backstride.plan"
DONE_SALT = "backstride.plan-done"
UNSUBSCRIBE_SALT = "backstride.reminders-unsubscribe"
# A plan link outlives the plan a little, so a patient can look back at it.
MAX_AGE = timedelta(days=400)


def plan_token(assignment_id: int) -> str:
    return signing.dumps(assignment_id, salt=PLAN_SALT)


def plan_id_from_token(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=PLAN_SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def done_token(assignment_id: int, day: date) -> str:
    return signing.dumps([assignment_id, day.isoformat()], salt=DONE_SALT)


def done_from_token(token: str) -> tuple[int, date] | None:
    try:
        value = signing.loads(token, salt=DONE_SALT, max_age=MAX_AGE)
        assignment_id, day = value
        return int(assignment_id), date.fromisoformat(day)
    except (signing.BadSignature, TypeError, ValueError):
        return None


def unsubscribe_token(assignment_id: int) -> str:
    return signing.dumps(assignment_id, salt=UNSUBSCRIBE_SALT)


def unsubscribe_id_from_token(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def plan_path(assignment_id: int) -> str:
    return reverse("plan_link", args=[plan_token(assignment_id)])


def done_path(assignment_id: int, day: date) -> str:
    return reverse("plan_done", args=[done_token(assignment_id, day)])


def unsubscribe_path(assignment_id: int) -> str:
    return reverse("reminders_unsubscribe", args=[unsubscribe_token(assignment_id)])
