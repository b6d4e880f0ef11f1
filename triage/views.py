from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from clinic.models import Clinic


def assess(request: HttpRequest, clinic_slug: str) -> HttpResponse:
    clinic = get_object_or_404(Clinic, slug=clinic_slug)
    return render(request, "triage/assess.html", {"clinic": clinic})
