"""Typed readers for configuration from the environment.

Every helper fails loudly (ImproperlyConfigured) on a value it cannot read, so a
typo in a deployment stops the process at start-up instead of silently falling
back to a default.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no/on/off, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, default: str = "", schemes: tuple[str, ...] = ()) -> str:
    """A URL with a scheme and, unless it is a file-like scheme, a host."""
    raw = os.environ.get(name, default).strip()
    if not raw:
        return raw
    parsed = urlparse(raw)
    if not parsed.scheme:
        raise ImproperlyConfigured(f"{name} must be a URL with a scheme, not {raw!r}")
    if schemes and parsed.scheme not in schemes:
        allowed = ", ".join(schemes)
        raise ImproperlyConfigured(f"{name} must use one of: {allowed} (got {parsed.scheme!r})")
    if parsed.scheme in {"http", "https", "redis", "rediss"} and not parsed.hostname:
        raise ImproperlyConfigured(f"{name} must name a host: {raw!r}")
    return raw.rstrip("/") if parsed.scheme in {"http", "https"} else raw
