"""Shared by the browser tests: the demo logins and signing in."""

from __future__ import annotations

import re

from playwright.sync_api import Page

PHYSIO = ("physio@example.com", "backstride-physio")
PATIENT = ("patient@example.com", "backstride-patient")
CLINIC_NAME = "Riverside Running Physio"
LINK_PATTERN = re.compile(r"https?://\S+?/accounts/link/[^/\s]+/")


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
