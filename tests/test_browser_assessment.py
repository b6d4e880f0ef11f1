"""End to end in Chromium: patients complete the self-assessment on a phone."""

from __future__ import annotations

from django.core import mail
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from triage.models import Intake


def answer_every_question(page: Page, answer: str, *, except_first: str | None = None) -> None:
    for n, question in enumerate(page.locator("fieldset").all()):
        choice = except_first if n == 0 and except_first else answer
        question.get_by_text(choice, exact=True).click()


def fill_self_assessment(page: Page, base_url: str, *, saddle: str, glute: str) -> None:
    page.goto(f"{base_url}/")
    clinic_card = page.locator(".card", has_text="Riverside Running Physio")
    clinic_card.get_by_role("link", name="Start the self-assessment").click()
    expect(
        page.get_by_role("heading", name="Check your back with Riverside Running Physio")
    ).to_be_visible()
    page.get_by_role("link", name="Start").click()

    page.get_by_label("First name").fill("Sam")
    page.get_by_label("Last name").fill("Okoye")
    page.get_by_label("Email address").fill("sam.okoye@example.com")
    page.get_by_label("Date of birth").fill("1991-07-02")
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("heading", name="Warning signs")).to_be_visible()
    answer_every_question(page, "No", except_first=saddle)
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("heading", name="Your pain")).to_be_visible()
    for question in page.locator("fieldset").all():
        question.get_by_text("3", exact=True).click()
    page.get_by_role("button", name="Next").click()

    page.get_by_text("Only when I run, or just afterwards").click()
    page.get_by_text("Mostly on one side of my lower back").click()
    page.get_by_role(
        "group", name="Does the pain travel into your buttock, leg or foot?"
    ).get_by_text("No", exact=True).click()
    expect(page.get_by_text("How far down does it go?")).to_be_hidden()
    page.get_by_role("group", name="numbness, pins and needles").get_by_text(
        "No", exact=True
    ).click()
    page.get_by_text("2 to 6 weeks").click()
    page.get_by_role("button", name="Next").click()

    page.get_by_role("group", name="quickly increased").get_by_text("No", exact=True).click()
    page.get_by_label("Roughly how many kilometres").fill("300")
    page.get_by_text("Roads or pavements").click()
    page.get_by_role("button", name="Next").click()

    page.get_by_text(glute).click()
    page.get_by_text("My hips moved forwards easily").click()
    page.get_by_label("What is the longest you can hold a plank").fill("60")
    page.get_by_role("button", name="Next").click()

    page.get_by_text("Well", exact=True).click()
    page.get_by_text("Not very", exact=True).click()
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("heading", name="Check and send")).to_be_visible()
    page.get_by_label("I agree that the clinic stores my answers").check()
    page.get_by_role("button", name="Send my answers").click()


def test_a_patient_with_saddle_numbness_gets_urgent_advice_and_the_clinic_is_alerted(
    page: Page, demo: LiveServer
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    fill_self_assessment(page, demo.url, saddle="Yes", glute="About the same")

    urgent = page.get_by_role("heading", name="Please get medical help today")
    expect(urgent).to_be_visible()
    expect(page.get_by_role("alert").first).to_contain_text("emergency department")
    assert Intake.objects.get().urgent
    alerts = [m for m in mail.outbox if m.subject.startswith("URGENT")]
    assert "hello@riverside-physio.example.com" in {to for m in alerts for to in m.to}


def test_a_runner_with_weak_glutes_sees_the_bridge_series_and_can_book(
    page: Page, demo: LiveServer
) -> None:
    fill_self_assessment(page, demo.url, saddle="No", glute="My lower back worked hardest")

    expect(page.get_by_role("heading", name="Your self-assessment result")).to_be_visible()
    expect(page.get_by_role("heading", name="Please get medical help today")).to_have_count(0)
    factors = page.get_by_role("region", name="What we noticed")
    expect(factors.get_by_text("Glute bridge", exact=True)).to_be_visible()
    expect(factors.get_by_text("Single-leg glute bridge", exact=True)).to_be_visible()
    expect(factors.get_by_role("img", name="Glute bridge", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Book an online consult")).to_be_visible()
    assert not [m for m in mail.outbox if m.subject.startswith("URGENT")]
