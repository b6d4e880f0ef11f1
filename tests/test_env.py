"""Configuration helpers fail loudly on values they cannot read."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.env import env_bool, env_int, env_list, env_url


def test_booleans_read_the_usual_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, value in [
        ("1", True),
        ("yes", True),
        ("ON", True),
        ("0", False),
        ("false", False),
        ("", False),
    ]:
        monkeypatch.setenv("FLAG", raw)
        assert env_bool("FLAG") is value
    monkeypatch.delenv("FLAG")
    assert env_bool("FLAG", True) is True


def test_a_bad_boolean_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG")


def test_a_bad_number_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMAIL_PORT", "twenty-five")
    with pytest.raises(ImproperlyConfigured, match="EMAIL_PORT"):
        env_int("EMAIL_PORT", 25)


def test_lists_are_comma_separated_and_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", " a.example , b.example,,")
    assert env_list("ALLOWED_HOSTS") == ["a.example", "b.example"]


def test_urls_need_an_allowed_scheme_and_a_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://db/x")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env_url("DATABASE_URL", schemes=("sqlite", "postgres"))
    monkeypatch.setenv("SITE_URL", "clinic.example.com")
    with pytest.raises(ImproperlyConfigured, match="SITE_URL"):
        env_url("SITE_URL", schemes=("http", "https"))
    monkeypatch.setenv("SITE_URL", "https://clinic.example.com/")
    assert env_url("SITE_URL", schemes=("http", "https")) == "https://clinic.example.com"
