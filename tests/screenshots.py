"""Full-page screenshots of the main pages, at desktop and phone widths.

Not a test (pytest collects only test_*.py): run it against a running server
with the demo data loaded (`make run`, or migrate + seed_demo + runserver):

    .venv/bin/python -m tests.screenshots [BASE_URL] [--out DIR]

BASE_URL defaults to http://127.0.0.1:8000 and DIR to var/screenshots/. Each
page is saved as <page>-desktop.png and <page>-phone.png.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "var" / "screenshots"

PHYSIO = ("physio@example.com", "backstride-physio")
PATIENT = ("patient@example.com", "backstride-patient")
DEMO_PATIENT_NAME = "Jamie Rivers"
CLINIC_SLUG = "demo"

VIEWPORTS: dict[str, dict[str, object]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 1,
        "is_mobile": True,
        "has_touch": True,
    },
}


class Shooter:
    def __init__(self, browser: Browser, base_url: str, out: Path) -> None:
        self.browser = browser
        self.base_url = base_url.rstrip("/")
        self.out = out
        self.written: list[Path] = []

    @contextmanager
    def context(self, size: str) -> Iterator[BrowserContext]:
        context = self.browser.new_context(base_url=self.base_url, **VIEWPORTS[size])  # type: ignore[arg-type]
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()

    def shoot(self, page: Page, name: str, size: str, path: str | None = None) -> None:
        if path is not None:
            response = page.goto(path)
            if response is None or not response.ok:
                status = response.status if response is not None else "no response"
                raise SystemExit(f"{path} answered {status}")
        page.wait_for_load_state("load")
        target = self.out / f"{name}-{size}.png"
        page.screenshot(path=str(target), full_page=True)
        self.written.append(target)
        print(f"  {target}")

    def sign_in(self, page: Page, email: str, password: str) -> None:
        page.goto("/accounts/login/")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("load")
        if "/accounts/login/" in page.url:
            raise SystemExit(
                f"Could not sign in as {email}: is the demo data loaded (manage.py seed_demo)?"
            )

    def visitor(self, size: str) -> None:
        with self.context(size) as context:
            page = context.new_page()
            self.shoot(page, "landing", size, "/")
            self.shoot(page, "login", size, "/accounts/login/")
            self.shoot(page, "login-link-request", size, "/accounts/link/")
            self.shoot(page, "assess", size, f"/assess/{CLINIC_SLUG}/")
            self.shoot(page, "book", size, f"/book/{CLINIC_SLUG}/")

    def physio(self, size: str) -> None:
        with self.context(size) as context:
            page = context.new_page()
            self.sign_in(page, *PHYSIO)
            self.shoot(page, "dashboard", size, "/dashboard/")
            self.shoot(page, "patient-list", size, "/dashboard/patients/")
            link = page.get_by_role("link", name=DEMO_PATIENT_NAME).first
            expect(link).to_be_attached()
            self.shoot(page, "patient-detail", size, link.get_attribute("href"))
            self.shoot(page, "outbox", size, "/outbox/")
            self.shoot(page, "schedule-week", size, "/dashboard/schedule/?view=week")
            self.shoot(page, "library", size, "/exercises/")
            self.shoot(
                page, "library-filtered", size, "/exercises/?region=glutes&category=strength"
            )
            page.goto("/exercises/?q=glute+bridge")
            self.shoot(
                page,
                "exercise-detail",
                size,
                page.get_by_role("link", name="Glute bridge").first.get_attribute("href"),
            )
            self.shoot(page, "program-list", size, "/programs/")
            page.goto("/programs/")
            starter = page.get_by_role("link", name="Runner's low back starter").get_attribute(
                "href"
            )
            self.shoot(page, "program-detail", size, starter)
            page.goto("/dashboard/patients/?q=priya")
            priya = page.get_by_role("link", name="Priya Nair").get_attribute("href")
            self.shoot(page, "patient-with-plan", size, priya)
            plan = page.get_by_role("link", name="Runner's low back starter").get_attribute("href")
            self.shoot(page, "assign", size, f"{priya}assign/")
            self.shoot(page, "plan-staff", size, plan)
            self.shoot(page, "plan-edit", size, f"{plan}edit/")

    def patient(self, size: str) -> None:
        with self.context(size) as context:
            page = context.new_page()
            self.sign_in(page, *PATIENT)
            self.shoot(page, "me", size, "/me/")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", nargs="?", default=DEFAULT_BASE_URL)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            shooter = Shooter(browser, args.base_url, args.out)
            for size in VIEWPORTS:
                print(f"{size}:")
                shooter.visitor(size)
                shooter.physio(size)
                shooter.patient(size)
        finally:
            browser.close()
    print(f"{len(shooter.written)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
