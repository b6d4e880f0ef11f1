"""The site shell: the landing page, navigation for each kind of person, and
the public clinic pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from clinic.models import Clinic

pytestmark = pytest.mark.django_db


def test_landing_explains_the_product_and_links_each_clinics_pages(
    client: Client, clinic: Clinic, other_clinic: Clinic
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "runners with lower back pain" in html
    for c in (clinic, other_clinic):
        assert reverse("assess", args=[c.slug]) in html
        assert reverse("book", args=[c.slug]) in html


def test_pages_load_bootstrap_and_htmx_from_our_own_static_files(
    client: Client, clinic: Clinic
) -> None:
    html = client.get("/").content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "/static/vendor/htmx/htmx.min.js" in html
    assert "cdn" not in html.lower()
    assert "https://" not in html.split("<body")[0]


def test_every_page_carries_a_content_security_policy_that_allows_only_this_site(
    client: Client, clinic: Clinic
) -> None:
    policy = client.get("/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_staff_see_dashboard_and_patients_in_the_navigation(physio_client: Client) -> None:
    html = physio_client.get(reverse("dashboard")).content.decode()
    assert reverse("patient_list") in html
    assert reverse("me") not in html
    assert "Riverside Running Physio" in html


def test_patients_see_their_plan_in_the_navigation_not_the_dashboard(
    patient_client: Client,
) -> None:
    html = patient_client.get(reverse("me")).content.decode()
    assert reverse("me") in html
    assert reverse("dashboard") not in html
    assert "Riverside Running Physio" in html


def test_visitors_see_a_sign_in_button(client: Client, clinic: Clinic) -> None:
    html = client.get("/").content.decode()
    assert reverse("login") in html
    assert "Sign out" not in html


@pytest.mark.parametrize("name", ["assess", "book"])
def test_clinic_public_pages_show_how_to_reach_the_clinic(
    client: Client, clinic: Clinic, name: str
) -> None:
    response = client.get(reverse(name, args=[clinic.slug]))
    assert response.status_code == 200
    assert clinic.contact_email in response.content.decode()


def test_the_self_assessment_page_always_says_when_to_get_urgent_help(
    client: Client, clinic: Clinic
) -> None:
    html = client.get(reverse("assess", args=[clinic.slug])).content.decode()
    assert "emergency" in html


@pytest.mark.parametrize("name", ["assess", "book"])
def test_an_unknown_clinic_is_a_404(client: Client, name: str) -> None:
    assert client.get(reverse(name, args=["no-such-clinic"])).status_code == 404


def test_signing_in_takes_staff_to_the_dashboard_and_patients_to_their_page(
    physio_client: Client, patient_client: Client
) -> None:
    assert physio_client.get(reverse("home")).url == reverse("dashboard")
    assert patient_client.get(reverse("home")).url == reverse("me")
