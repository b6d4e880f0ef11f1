from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from kombu import Connection

from clinic import mail, services
from clinic.access import (
    client_ip,
    patient_required,
    patients_for,
    staff_required,
)
from clinic.forms import LoginLinkForm
from clinic.models import Clinic, LoginLink, Patient
from exercises.models import Assignment


def landing(request: HttpRequest) -> HttpResponse:
    clinics = Clinic.objects.only("name", "slug", "address", "booking_enabled")
    return render(request, "clinic/landing.html", {"clinics": clinics})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where signing in lands: staff on the dashboard, patients on their page."""
    if request.user.staff_member is not None:  # type: ignore[union-attr]
        return redirect("dashboard")
    if Patient.objects.for_user(request.user).exists():  # type: ignore[arg-type]
        return redirect("me")
    if request.user.is_superuser:
        return redirect("admin:index")
    messages.info(
        request, "Your account is not linked to a clinic yet. Ask your clinic to add you."
    )
    return redirect("landing")


@patient_required
def me(request: HttpRequest) -> HttpResponse:
    records = patients_for(request).select_related("clinic")
    plans = Assignment.objects.filter(patient__in=records).exclude(status=Assignment.Status.ENDED)
    return render(
        request, "clinic/me.html", {"records": records, "plans": plans.select_related("clinic")}
    )


# Accounts ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def login_link_request(request: HttpRequest) -> HttpResponse:
    form = LoginLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.login_link_create(email=form.cleaned_data["email"], ip_address=client_ip(request))
        # The same answer whether or not the address is known.
        return redirect("login_link_sent")
    return render(request, "registration/login_link_request.html", {"form": form})


def login_link_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/login_link_sent.html")


@never_cache
@require_http_methods(["GET", "POST"])
def login_link(request: HttpRequest, token: str) -> HttpResponse:
    # Mail scanners open links: GET only shows a button, POST signs in.
    if request.method == "GET":
        link_id = LoginLink.id_from_token(token)
        valid = link_id is not None and LoginLink.objects.usable().filter(pk=link_id).exists()
        return render(request, "registration/login_link_confirm.html", {"valid": valid})
    user = services.login_link_use(token=token)
    if user is None:
        messages.error(
            request, "That sign-in link has expired or was already used. Ask for a new one."
        )
        return redirect("login_link_request")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("home")


# Operations ----------------------------------------------------------------


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _broker_ok() -> bool:
    options = {
        **getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        # Redis: bound reads too, not only the connect, or a broker that accepts
        # the connection and never answers hangs the probe for good.
        "socket_connect_timeout": 2,
        "socket_timeout": 2,
    }
    try:
        with Connection(
            settings.CELERY_BROKER_URL, connect_timeout=2, transport_options=options
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            return True
    except Exception:
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    status = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(status.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        **{k: "ok" if v else "down" for k, v in status.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)


def _outbox_allowed(request: HttpRequest) -> None:
    if not (settings.DEBUG and settings.EMAIL_BACKEND == "clinic.mail.EmlFileBackend"):
        raise Http404


@staff_required
def outbox(request: HttpRequest) -> HttpResponse:
    _outbox_allowed(request)
    return render(request, "clinic/outbox.html", {"messages_": mail.outbox_list()})


@staff_required
def outbox_message(request: HttpRequest, name: str) -> HttpResponse:
    _outbox_allowed(request)
    message = mail.outbox_get(name)
    if message is None:
        raise Http404
    return render(request, "clinic/outbox_message.html", {"message": message})


@staff_required
def outbox_html(request: HttpRequest, name: str) -> HttpResponse:
    _outbox_allowed(request)
    message = mail.outbox_get(name)
    if message is None or message.html is None:
        raise Http404
    response = HttpResponse(message.html)
    # Shown inside the outbox page's iframe; no scripts, no forms, no network.
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; "
        "frame-ancestors 'self'"
    )
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response
