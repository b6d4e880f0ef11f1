"""Online consults: the public booking page, the patient's consult page behind
a signed link (cancel and move on POST only), staff booking on a patient's
behalf, the schedule, and staff actions on a consult.

Every object comes through a scoped lookup: a clinic by slug for the public
pages, the signed link's consult for a patient, the staff member's clinic for
staff. Another clinic's consult, clinician or consult type is a 404.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinic import booking, consult_calendar, consult_links, consult_services
from clinic.access import clinic_for, get_patient_or_404, staff_for, staff_required
from clinic.audit import audit_record
from clinic.booking_forms import BookingForm, OutcomeForm, SlotForm, StaffBookingForm
from clinic.models import (
    AuditEvent,
    Clinic,
    Consult,
    ConsultType,
    Patient,
    StaffMember,
    TimeOff,
    WorkingHours,
)

DAYS_PER_PAGE = 5
CARRIED = ("type", "clinician", "tz", "intake", "plan")
CONSULT_RELATED = ("clinic", "patient", "consult_type", "clinician__user")


# The slot picker --------------------------------------------------------------


@dataclass
class Picker:
    """What the slot picker shows: the consult type and clinician chosen, and
    this page of days with free times in the viewer's zone."""

    clinic: Clinic
    types: list[ConsultType]
    consult_type: ConsultType
    clinicians: list[StaffMember]
    clinician: StaffMember | None  # None: any clinician
    zone: zoneinfo.ZoneInfo
    zone_label: str
    days: list[booking.SlotDay]
    keys: set[str]
    carry: dict[str, str]
    start_day: date | None = None
    later: date | None = None
    earlier: bool = False
    selected: str = ""
    selected_day: date | None = None
    hidden: list[tuple[str, str]] = field(default_factory=list)

    def clinician_with_id(self, pk: int) -> StaffMember:
        for clinician in self.clinicians:
            if clinician.pk == pk:
                return clinician
        raise Http404

    def link(self, **changes: Any) -> str:
        query = {**self.carry, **{k: v for k, v in changes.items() if v not in (None, "")}}
        return f"?{urlencode(query)}" if query else "?"

    @property
    def later_url(self) -> str:
        return self.link(**{"from": self.later.isoformat()}) if self.later else ""

    @property
    def earlier_url(self) -> str:
        return self.link()


def _scoped_type(
    types: list[ConsultType], raw: str | None, patient: Patient | None = None
) -> ConsultType:
    if not raw:
        # A first consult is usually the longest kind (an initial assessment);
        # someone who has had one before most likely wants the shortest.
        returning = (
            patient is not None
            and Consult.objects.filter(patient=patient)
            .exclude(status=Consult.Status.CANCELLED)
            .exists()
        )
        by_length = sorted(types, key=lambda t: (t.duration_minutes, t.name))
        return by_length[0] if returning else by_length[-1]
    for consult_type in types:
        if str(consult_type.pk) == raw:
            return consult_type
    raise Http404("No such consult type at this clinic.")


def _scoped_clinician(clinicians: list[StaffMember], raw: str | None) -> StaffMember | None:
    if not raw or raw == "any":
        return None
    for clinician in clinicians:
        if str(clinician.pk) == raw:
            return clinician
    raise Http404("No such clinician at this clinic.")


def _day_param(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _picker(
    *,
    clinic: Clinic,
    params: QueryDict,
    zone: zoneinfo.ZoneInfo,
    by_staff: bool,
    consult_type: ConsultType | None = None,
    clinician: StaffMember | None = None,
    ignore: Consult | None = None,
    fixed_clinician: bool = False,
    patient: Patient | None = None,
) -> Picker:
    """Free slots for the chosen type and clinician (or any), a page of days at
    a time. Costs the same few queries however many days or clinicians. For a
    known patient, days on which they already hold a consult are left out when
    the clinic allows one a day."""
    now = timezone.now()
    types = (
        [consult_type]
        if consult_type is not None
        else list(ConsultType.objects.filter(clinic=clinic, is_active=True))
    )
    chosen_type = consult_type or _scoped_type(types, params.get("type"), patient)
    clinicians = list(booking.bookable_clinicians(clinic))
    if fixed_clinician and clinician is not None:
        clinicians = [clinician]
    else:
        clinician = _scoped_clinician(clinicians, params.get("clinician")) or (
            clinicians[0] if len(clinicians) == 1 else None
        )
    start, end = booking.booking_window(clinic, now=now, by_staff=by_staff)
    slots = booking.open_slots(
        clinic=clinic,
        consult_type=chosen_type,
        clinicians=[clinician] if clinician else clinicians,
        start=start,
        end=end,
        ignore=ignore,
    )
    if clinician is None:
        slots = booking.one_per_time(slots)
    if patient is not None and clinic.one_consult_per_day:
        held = {
            at.astimezone(clinic.zone).date()
            for at in Consult.objects.active()
            .filter(clinic=clinic, patient=patient, starts_at__gte=start, starts_at__lt=end)
            .exclude(pk=getattr(ignore, "pk", None))
            .values_list("starts_at", flat=True)
        }
        slots = [s for s in slots if s.starts_at.astimezone(clinic.zone).date() not in held]
    days = booking.group_by_day(slots, zone)
    start_day = _day_param(params.get("from"))
    shown = [d for d in days if start_day is None or d.day >= start_day]
    carry = {k: params[k] for k in CARRIED if params.get(k)}
    picker = Picker(
        clinic=clinic,
        types=types,
        consult_type=chosen_type,
        clinicians=clinicians,
        clinician=clinician,
        zone=zone,
        zone_label=booking.zone_label(zone, now),
        days=shown[:DAYS_PER_PAGE],
        keys={slot.key for slot in slots},
        carry=carry,
        start_day=start_day,
        later=shown[DAYS_PER_PAGE].day if len(shown) > DAYS_PER_PAGE else None,
        earlier=bool(days and start_day and days[0].day < start_day),
        selected=params.get("slot", ""),
    )
    picker.selected_day = next(
        (d.day for d in days if any(slot.key == picker.selected for slot in d.slots)), None
    )
    if picker.selected_day is None and ignore is not None:
        picker.selected_day = ignore.starts_at.astimezone(zone).date()  # where it is now
    picker.hidden = [("type", str(chosen_type.pk))]
    if not fixed_clinician:
        picker.hidden.append(("clinician", str(clinician.pk) if clinician else "any"))
    picker.hidden += [(k, v) for k, v in carry.items() if k not in {"type", "clinician"}]
    if start_day:
        picker.hidden.append(("from", start_day.isoformat()))
    return picker


# The public booking page ------------------------------------------------------


def _known_patient(request: HttpRequest, clinic: Clinic, params: QueryDict) -> Patient | None:
    """Who is booking, if we can tell: a signed-in patient of this clinic, or
    the patient of the signed self-assessment result or plan link they came from."""
    from exercises import links as plan_links
    from triage import links as intake_links

    patients = Patient.objects.for_clinic(clinic)
    if request.user.is_authenticated:
        own = Patient.objects.for_user(request.user).filter(clinic=clinic).first()  # type: ignore[arg-type]
        if own is not None:
            return own
    intake_id = intake_links.intake_id_from_token(params.get("intake", ""))
    if intake_id is not None:
        return patients.filter(intakes__pk=intake_id).first()
    plan_id = plan_links.plan_id_from_token(params.get("plan", ""))
    if plan_id is not None:
        return patients.filter(assignments__pk=plan_id).first()
    return None


def _booking_open(clinic: Clinic) -> bool:
    return (
        clinic.booking_enabled
        and ConsultType.objects.filter(clinic=clinic, is_active=True).exists()
        and booking.bookable_clinicians(clinic).exists()
    )


@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, clinic_slug: str) -> HttpResponse:
    clinic = get_object_or_404(Clinic, slug=clinic_slug)
    if not _booking_open(clinic):
        return render(request, "clinic/book.html", {"clinic": clinic, "closed": True})
    params = request.POST if request.method == "POST" else request.GET
    known = _known_patient(request, clinic, params)
    zone = booking.safe_zone(params.get("tz")) or (known.zone if known else clinic.zone)
    picker_args: dict[str, Any] = {
        "clinic": clinic,
        "params": params,
        "zone": zone,
        "by_staff": False,
        "patient": known,
    }
    picker = _picker(**picker_args)
    initial = (
        {"first_name": known.first_name, "last_name": known.last_name, "email": known.email}
        if known
        else {}
    )
    form = BookingForm(
        request.POST or None,
        slot_keys=picker.keys,
        phone_required=picker.consult_type.mode == ConsultType.Mode.PHONE,
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            clinician_id, starts_at = form.cleaned_data["slot"]
            data = form.cleaned_data
            try:
                consult = consult_services.consult_book(
                    clinic=clinic,
                    consult_type=picker.consult_type,
                    clinician=picker.clinician_with_id(clinician_id),
                    starts_at=starts_at,
                    details={
                        "first_name": data["first_name"],
                        "last_name": data["last_name"],
                        "email": data["email"],
                        "phone": data["phone"],
                        "time_zone": zone.key,
                    },
                    reason=data["reason"],
                    created_by=request.user if request.user.is_authenticated else None,  # type: ignore[arg-type]
                )
            except consult_services.BookingError as error:
                form.add_error("slot", error.message)
                picker = _picker(**picker_args)  # fresh slots
            else:
                messages.success(
                    request, "You're booked. We've emailed you the details and a calendar invite."
                )
                return redirect("consult_link", token=consult_links.consult_token(consult.pk))
        status = 409 if form.has_error("slot") and request.POST.get("slot") else 400
    return render(
        request,
        "clinic/book.html",
        {"clinic": clinic, "picker": picker, "form": form, "known": known},
        status=status,
    )


# The patient's consult, behind a signed link ----------------------------------


def _consult_from_token(token: str) -> Consult:
    consult_id = consult_links.consult_id_from_token(token)
    if consult_id is None:
        raise Http404("This link is not valid.")
    return get_object_or_404(Consult.objects.select_related(*CONSULT_RELATED), pk=consult_id)


def _consult_context(consult: Consult, zone: zoneinfo.ZoneInfo) -> dict[str, Any]:
    return {
        "consult": consult,
        "clinic": consult.clinic,
        "when": booking.format_when(consult.starts_at, zone),
        "ends": f"{consult.ends_at.astimezone(zone):%H:%M}",
        "zone_label": booking.zone_label(zone, consult.starts_at),
        "video": consult.consult_type.mode == ConsultType.Mode.VIDEO,
        "can_change": consult.can_change(),
    }


@never_cache
def consult_link(request: HttpRequest, token: str) -> HttpResponse:
    consult = _consult_from_token(token)
    return render(
        request,
        "clinic/consult.html",
        {**_consult_context(consult, consult.patient.zone), "token": token},
    )


@never_cache
def consult_link_ics(request: HttpRequest, token: str) -> HttpResponse:
    consult = _consult_from_token(token)
    method = consult_calendar.REQUEST if consult.is_booked else consult_calendar.CANCEL
    response = HttpResponse(
        consult_calendar.consult_ics(consult, method=method),
        content_type=f"text/calendar; method={method}; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="consult.ics"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def consult_link_cancel(request: HttpRequest, token: str) -> HttpResponse:
    # Mail scanners open links: GET only asks, POST cancels.
    consult = _consult_from_token(token)
    if request.method == "POST":
        try:
            consult_services.consult_cancel(consult=consult, by="patient")
        except consult_services.BookingError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, "Your consult is cancelled. We've emailed you and let the clinic know."
            )
        return redirect("consult_link", token=token)
    return render(
        request,
        "clinic/consult_cancel.html",
        {
            **_consult_context(consult, consult.patient.zone),
            "back_url": reverse("consult_link", args=[token]),
            "reschedule_url": reverse("consult_link_reschedule", args=[token]),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def consult_link_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    consult = _consult_from_token(token)
    if not consult.can_change():
        messages.info(request, "This consult can no longer be moved. Please contact the clinic.")
        return redirect("consult_link", token=token)
    params = request.POST if request.method == "POST" else request.GET
    zone = booking.safe_zone(params.get("tz")) or consult.patient.zone
    picker_args: dict[str, Any] = {
        "clinic": consult.clinic,
        "params": params,
        "zone": zone,
        "by_staff": False,
        "consult_type": consult.consult_type,
        "clinician": consult.clinician,
        "fixed_clinician": True,
        "ignore": consult,
        "patient": consult.patient,
    }
    picker = _picker(**picker_args)
    form = SlotForm(request.POST or None, slot_keys=picker.keys - {_current_key(consult)})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            _clinician_id, starts_at = form.cleaned_data["slot"]
            try:
                consult_services.consult_reschedule(consult=consult, starts_at=starts_at)
            except consult_services.BookingError as error:
                form.add_error("slot", error.message)
                picker = _picker(**picker_args)  # fresh slots
            else:
                messages.success(
                    request,
                    "Your consult has a new time. We've emailed you an updated invite "
                    "and let the clinic know.",
                )
                return redirect("consult_link", token=token)
        status = 409 if form.has_error("slot") and request.POST.get("slot") else 400
    return render(
        request,
        "clinic/consult_reschedule.html",
        {
            **_consult_context(consult, zone),
            "picker": picker,
            "form": form,
            "current_key": _current_key(consult),
            "back_url": reverse("consult_link", args=[token]),
        },
        status=status,
    )


def _current_key(consult: Consult) -> str:
    return booking.slot_key(consult.clinician_id, consult.starts_at)


# Staff ------------------------------------------------------------------------


def _staff_consult(request: HttpRequest, pk: int) -> Consult:
    return get_object_or_404(
        Consult.objects.for_clinic(clinic_for(request)).select_related(*CONSULT_RELATED), pk=pk
    )


def _schedule_url(consult: Consult) -> str:
    day = consult.starts_at.astimezone(consult.clinic.zone)
    return f"{reverse('schedule')}?day={day:%Y-%m-%d}"


@staff_required
@require_http_methods(["GET", "POST"])
def staff_book(request: HttpRequest, pk: int) -> HttpResponse:
    """Clinicians and receptionists book a consult on a patient's behalf."""
    patient = get_patient_or_404(request, pk)
    clinic = patient.clinic
    if not (
        ConsultType.objects.filter(clinic=clinic, is_active=True).exists()
        and booking.bookable_clinicians(clinic).exists()
    ):
        return render(
            request,
            "clinic/staff_book.html",
            {"patient": patient, "clinic": clinic, "closed": True},
        )
    params = request.POST if request.method == "POST" else request.GET
    picker_args: dict[str, Any] = {
        "clinic": clinic,
        "params": params,
        "zone": clinic.zone,
        "by_staff": True,
        "patient": patient,
    }
    picker = _picker(**picker_args)
    form = StaffBookingForm(request.POST or None, slot_keys=picker.keys)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            clinician_id, starts_at = form.cleaned_data["slot"]
            try:
                consult = consult_services.consult_book(
                    clinic=clinic,
                    consult_type=picker.consult_type,
                    clinician=picker.clinician_with_id(clinician_id),
                    starts_at=starts_at,
                    patient=patient,
                    reason=form.cleaned_data["reason"],
                    created_by=request.user,  # type: ignore[arg-type]
                    by_staff=True,
                )
            except consult_services.BookingError as error:
                message = error.message
                if isinstance(error, consult_services.OneConsultPerDay):
                    message = f"{patient.full_name} already has a consult booked that day."
                form.add_error("slot", message)
                picker = _picker(**picker_args)  # fresh slots
            else:
                audit_record(
                    request,
                    clinic=clinic,
                    action=AuditEvent.Action.CREATE,
                    obj=consult,
                    summary="booked a consult",
                )
                told = (
                    "We've emailed them the details."
                    if patient.email
                    else ("They have no email address on file: please tell them yourself.")
                )
                messages.success(
                    request,
                    f"Booked {patient.full_name} for "
                    f"{booking.format_when(consult.starts_at, clinic.zone)}. {told}",
                )
                return redirect(_schedule_url(consult) + f"&clinician={consult.clinician_id}")
        status = 409 if form.has_error("slot") and request.POST.get("slot") else 400
    return render(
        request,
        "clinic/staff_book.html",
        {"patient": patient, "clinic": clinic, "picker": picker, "form": form},
        status=status,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def staff_consult_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    consult = _staff_consult(request, pk)
    if request.method == "POST":
        try:
            consult_services.consult_cancel(consult=consult, by="clinic")
        except consult_services.BookingError as error:
            messages.error(request, error.message)
        else:
            audit_record(
                request,
                clinic=consult.clinic,
                action=AuditEvent.Action.UPDATE,
                obj=consult,
                summary="cancelled the consult",
            )
            messages.success(
                request, f"Cancelled. We've told {consult.patient.full_name} and the clinician."
            )
        return redirect(_schedule_url(consult))
    return render(
        request,
        "clinic/consult_cancel.html",
        {
            **_consult_context(consult, consult.clinic.zone),
            "staff_view": True,
            "can_change": consult.is_booked,
            "back_url": _schedule_url(consult),
            "reschedule_url": reverse("staff_consult_reschedule", args=[consult.pk]),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def staff_consult_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    consult = _staff_consult(request, pk)
    if not consult.is_booked:
        messages.info(request, "Only a booked consult can be moved.")
        return redirect(_schedule_url(consult))
    params = request.POST if request.method == "POST" else request.GET
    if not params.get("clinician"):
        params = params.copy()
        params["clinician"] = str(consult.clinician_id)
    picker_args: dict[str, Any] = {
        "clinic": consult.clinic,
        "params": params,
        "zone": consult.clinic.zone,
        "by_staff": True,
        "consult_type": consult.consult_type,
        "ignore": consult,
        "patient": consult.patient,
    }
    picker = _picker(**picker_args)
    form = SlotForm(request.POST or None, slot_keys=picker.keys - {_current_key(consult)})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            clinician_id, starts_at = form.cleaned_data["slot"]
            try:
                moved = consult_services.consult_reschedule(
                    consult=consult,
                    starts_at=starts_at,
                    clinician=picker.clinician_with_id(clinician_id),
                    by_staff=True,
                )
            except consult_services.BookingError as error:
                form.add_error("slot", error.message)
                picker = _picker(**picker_args)  # fresh slots
            else:
                audit_record(
                    request,
                    clinic=consult.clinic,
                    action=AuditEvent.Action.UPDATE,
                    obj=moved,
                    summary="moved the consult",
                )
                messages.success(
                    request,
                    f"Moved to {booking.format_when(moved.starts_at, moved.clinic.zone)}. "
                    f"We've told {moved.patient.full_name} and the clinician.",
                )
                return redirect(_schedule_url(moved))
        status = 409 if form.has_error("slot") and request.POST.get("slot") else 400
    return render(
        request,
        "clinic/consult_reschedule.html",
        {
            **_consult_context(consult, consult.clinic.zone),
            "staff_view": True,
            "picker": picker,
            "form": form,
            "current_key": _current_key(consult),
            "back_url": _schedule_url(consult),
        },
        status=status,
    )


@staff_required
@require_POST
def staff_consult_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    consult = _staff_consult(request, pk)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose completed or no-show.")
        return redirect(_schedule_url(consult))
    try:
        consult_services.consult_record_outcome(consult=consult, status=form.cleaned_data["status"])
    except consult_services.BookingError as error:
        messages.error(request, error.message)
    else:
        label = Consult.Status(form.cleaned_data["status"]).label.lower()
        messages.success(request, f"Marked {consult.patient.full_name}'s consult as {label}.")
    return redirect(_schedule_url(consult))


# The schedule -----------------------------------------------------------------


@dataclass
class ScheduleDay:
    day: date
    is_today: bool
    hours: list[tuple[str, str]]
    consults: list[dict[str, Any]]

    @property
    def working(self) -> bool:
        return any(text not in {"No hours", "Time off"} for _name, text in self.hours)


def _hours_text(periods: list[tuple[Any, Any]]) -> str:
    return ", ".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in sorted(periods))


@staff_required
def schedule(request: HttpRequest) -> HttpResponse:
    """Each clinician's consults for a day or a week, in the clinic's zone. The
    same handful of queries whatever the number of consults or clinicians."""
    member = staff_for(request)
    clinic = member.clinic
    zone = clinic.zone
    now = timezone.now()
    today = now.astimezone(zone).date()
    day = _day_param(request.GET.get("day")) or today
    week = request.GET.get("view") == "week"
    first = day - timedelta(days=day.weekday()) if week else day
    dates = [first + timedelta(days=n) for n in range(7 if week else 1)]

    clinicians = list(
        StaffMember.objects.filter(clinic=clinic, is_active=True)
        .exclude(role=StaffMember.Role.RECEPTIONIST)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "pk")
    )
    chosen = None
    if request.GET.get("clinician"):
        try:
            chosen = next(c for c in clinicians if str(c.pk) == request.GET["clinician"])
        except StopIteration:
            raise Http404("No such clinician at this clinic.") from None
    shown = [chosen] if chosen else clinicians
    ids = [c.pk for c in shown]

    start = booking.instant(dates[0], datetime.min.time(), zone)
    end = booking.instant(dates[-1] + timedelta(days=1), datetime.min.time(), zone)
    consults = list(
        Consult.objects.for_clinic(clinic)
        .filter(clinician_id__in=ids, starts_at__gte=start, starts_at__lt=end)
        .select_related("patient", "consult_type", "clinician__user")
        .order_by("starts_at", "clinician_id")
    )
    hours: dict[int, dict[int, list[tuple[Any, Any]]]] = {c: {} for c in ids}
    for clinician_id, weekday, starts, ends in WorkingHours.objects.filter(
        clinician_id__in=ids
    ).values_list("clinician_id", "weekday", "starts", "ends"):
        hours[clinician_id].setdefault(weekday, []).append((starts, ends))
    time_off = list(
        TimeOff.objects.filter(
            clinician_id__in=ids, starts_on__lte=dates[-1], ends_on__gte=dates[0]
        ).values_list("clinician_id", "starts_on", "ends_on")
    )
    with_consults = {c.clinician_id for c in consults}
    listed = [c for c in shown if hours[c.pk] or c.pk in with_consults or chosen]

    days = []
    for d in dates:
        day_hours = []
        for clinician in listed:
            if any(cid == clinician.pk and a <= d <= b for cid, a, b in time_off):
                text = "Time off"
            else:
                text = _hours_text(hours[clinician.pk].get(d.weekday(), [])) or "No hours"
            day_hours.append((clinician.display_name, text))
        rows = [
            {
                "consult": c,
                "time": f"{c.starts_at.astimezone(zone):%H:%M}–{c.ends_at.astimezone(zone):%H:%M}",
                "can_change": c.is_booked,
                "can_record": c.can_record_outcome(now),
            }
            for c in consults
            if c.starts_at.astimezone(zone).date() == d
        ]
        days.append(ScheduleDay(d, d == today, day_hours, rows))

    step = timedelta(days=7 if week else 1)
    base = {"view": "week" if week else "day"}
    if chosen:
        base["clinician"] = str(chosen.pk)
    return render(
        request,
        "clinic/schedule.html",
        {
            "clinic": clinic,
            "days": days,
            "week": week,
            "first": dates[0],
            "last": dates[-1],
            "day": day,
            "clinicians": clinicians,
            "chosen": chosen,
            "show_clinician": chosen is None and len(listed) > 1,
            "can_see_clinical": member.can_see_clinical,
            "zone_label": booking.zone_label(zone, now),
            "prev_url": "?" + urlencode({**base, "day": (day - step).isoformat()}),
            "next_url": "?" + urlencode({**base, "day": (day + step).isoformat()}),
            "today_url": "?" + urlencode({**base, "day": today.isoformat()}),
            "day_url": "?" + urlencode({**base, "view": "day", "day": day.isoformat()}),
            "week_url": "?" + urlencode({**base, "view": "week", "day": day.isoformat()}),
            "booked_count": sum(1 for c in consults if c.is_booked),
        },
    )
