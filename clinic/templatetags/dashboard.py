"""Small helpers for the dashboard and patient pages."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from django import template
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import timezone

register = template.Library()

# The staff booking page for one patient. The booking feature names it; until
# it exists the "Book a consult" links are simply left out.
BOOK_URL_NAMES = ("book_for_patient", "staff_book")
_PLACEHOLDER = "2147483647"


@lru_cache(maxsize=128)
def _pattern(urlconf: str | None, prefix: str, name: str) -> str | None:
    try:
        return reverse(name, args=[int(_PLACEHOLDER)], urlconf=urlconf)
    except NoReverseMatch:
        return None


def url_pattern(name: str) -> str | None:
    """The URL of `name` for a placeholder id, reversed once per process."""
    return _pattern(get_urlconf(), get_script_prefix(), name)


def fill(pattern: str | None, pk: int) -> str:
    return pattern.replace(_PLACEHOLDER, str(pk)) if pattern else ""


def book_pattern() -> str | None:
    return next(filter(None, (url_pattern(name) for name in BOOK_URL_NAMES)), None)


@register.simple_tag
def link(name: str, pk: int) -> str:
    """`{% url name pk %}` for the many links of a long list: the URL is
    reversed once per name and the id put in, where `reverse` per row would
    cost the dashboard more than its queries do. Empty if there is no such URL."""
    return fill(url_pattern(name), pk)


@register.simple_tag
def book_url(patient_id: int) -> str:
    return fill(book_pattern(), patient_id)


@register.filter
def waited(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in one short unit: '40 min', '5 h', '3 days'."""
    if moment is None:
        return ""
    seconds = max(0, int(((now or timezone.now()) - moment).total_seconds()))
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''}"
