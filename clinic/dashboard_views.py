"""The clinician dashboard, the patient list and page, clinical notes and the
audit log. Reads come from `clinic.dashboard`; each page runs a fixed number
of queries whatever the size of the clinic."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic import charts, services
from clinic import dashboard as reads
from clinic.access import (
    clinic_for,
    clinical_staff_required,
    get_patient_or_404,
    patients_for,
    staff_for,
    staff_required,
)
from clinic.audit import audit_record
from clinic.forms import AuditFilterForm, ClinicalNoteForm, PatientDetailsForm, PatientSearchForm
from clinic.models import AuditEvent, Patient, StaffMember
from clinic.paging import page_of
from triage import engine

PATIENTS_PER_PAGE = 50
RULES = {
    "adherence": (
        f"Under {reads.ADHERENCE_BELOW:.0%} of scheduled sessions done "
        f"over the last {reads.ADHERENCE_DAYS} days"
    ),
    "pain": (
        f"Last {reads.PAIN_RUN} pain scores {reads.PAIN_RISE} or more points "
        f"above the {reads.PAIN_RUN} before"
    ),
    "ending": "Time to review, extend or discharge",
}
AUDIT_PER_PAGE = 50


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    member = staff_for(request)
    # Loaded with its counts; the page shell reads it from here too.
    member.clinic = clinic = reads.clinic_overview(member.clinic_id)
    today = reads.clinic_today(clinic)
    context: dict[str, Any] = {
        "clinic": clinic,
        "today": today,
        # Clinicians see their own diary; reception and admins the clinic's.
        "consults": reads.consults_on(clinic, today, member if member.is_clinician else None),
        "patient_count": clinic.patient_count,  # type: ignore[attr-defined]
    }
    # Every role: putting a patient's address right is reception's work too.
    (
        context["undelivered"],
        context["undelivered_total"],
        context["undelivered_capped"],
    ) = reads.undelivered_reminders(clinic, now=timezone.now(), clinical=member.can_see_clinical)
    if member.can_see_clinical:
        # A clinician's attention lists cover the plans they wrote, unless
        # they ask for the whole clinic; an admin sees the whole clinic.
        scope = request.GET.get("scope")
        if scope not in ("mine", "all"):
            scope = "mine" if member.is_clinician else "all"
        queue, queue_total = reads.triage_queue(clinic)
        attention = reads.needs_attention(
            clinic,
            today=today,
            created_by=request.user if scope == "mine" else None,  # type: ignore[arg-type]
        )
        context.update(
            queue=queue,
            queue_total=queue_total,
            scope=scope,
            attention_sections=[
                {
                    "title": title,
                    "hint": RULES[key],
                    "flags": getattr(attention, key),
                    "count": attention.counts[key],
                    "more": attention.more[key],
                    "testid": f"attention-{key}",
                }
                for key, title in (
                    ("adherence", "Sessions slipping"),
                    ("pain", "Pain rising"),
                    ("ending", "Plans ending this week"),
                )
            ],
            startback_missing=clinic.startback_worded  # type: ignore[attr-defined]
            < len(engine.get_instrument("startback").item_codes),
        )
    return render(request, "clinic/dashboard.html", context)


@staff_required
def dashboard_ping(request: HttpRequest) -> HttpResponse:
    """The cheapest signed-in staff page: the same sign-in, middleware and
    page shell as the dashboard with nothing in it. The dashboard benchmark
    measures the framework's floor here."""
    return render(request, "clinic/ping.html")


@staff_required
def patient_list(request: HttpRequest) -> HttpResponse:
    member = staff_for(request)
    clinicians = reads.clinic_clinicians(member.clinic)
    form = PatientSearchForm(request.GET, clinicians=clinicians, clinical=member.can_see_clinical)
    data = form.cleaned_data if form.is_valid() else {}
    chosen = {c.pk: c for c in clinicians}.get(data.get("clinician"))  # type: ignore[arg-type]
    patients = reads.filter_patients(
        patients_for(request),
        clinic=member.clinic,
        query=data.get("q", ""),
        clinician=chosen,
        risk=data.get("risk", ""),
        active_plan=data.get("plan", ""),
    )
    page, query = page_of(request, patients, PATIENTS_PER_PAGE)
    names = {c.user_id: c.display_name for c in clinicians}
    for patient in page:
        patient.clinician_name = names.get(patient.clinician_user_id, "")  # type: ignore[attr-defined]
        # Formatted here: the `date` filter costs more than the row's query.
        born = patient.date_of_birth
        patient.born = f"{born.day} {born:%b %Y}" if born else "—"  # type: ignore[attr-defined]
    return render(
        request,
        "clinic/patient_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "filtered": any(data.get(k) for k in ("q", "clinician", "risk", "plan")),
            "staff": member,
        },
    )


def _patient_context(request: HttpRequest, patient: Patient, member: StaffMember) -> dict[str, Any]:
    today = reads.clinic_today(patient.clinic)
    consults = reads.patient_consults(patient)
    now = timezone.now()
    upcoming = [c for c in consults if c.starts_at >= now][::-1]
    past = [c for c in consults if c.starts_at < now]
    context: dict[str, Any] = {
        "patient": patient,
        "staff": member,
        # Soonest first, then the last few; older ones fold away.
        "consults": upcoming + past[:3],
        "earlier_consults": past[3:],
        "today": today,
    }
    if not member.can_see_clinical:
        # Reception: contact details and consults, no clinical content at all.
        return context
    intakes = reads.patient_intakes(patient)
    plans = reads.patient_plans(patient, today)
    pain_logs = [(log.date, log.pain) for row in plans for log in row.logs if log.pain is not None]
    intake_pain = [
        (row.intake.created_at.astimezone(patient.clinic.zone).date(), nprs["total"])
        for row in intakes
        if (nprs := row.intake.scores.get("nprs")) and nprs.get("total") is not None
    ]
    latest = intakes[0].intake if intakes else None
    context.update(
        intakes=intakes,
        latest=latest,
        plans=plans,
        pain_chart=charts.pain_chart(logs=pain_logs, intakes=intake_pain, today=today),
        adherence_chart=charts.adherence_chart(
            weeks=charts.weekly_adherence(plans, today), today=today
        ),
        notes=reads.patient_notes(patient),
        note_form=ClinicalNoteForm(),
        suggested_program_id=next(
            (row.intake.suggested_program_id for row in intakes if row.intake.suggested_program_id),
            None,
        ),
    )
    return context


@staff_required
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_or_404(request, pk)
    audit_record(request, clinic=patient.clinic, action=AuditEvent.Action.VIEW, obj=patient)
    member = staff_for(request)
    return render(request, "clinic/patient_detail.html", _patient_context(request, patient, member))


@staff_required
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff, reception too, put a patient's contact details right."""
    patient = get_patient_or_404(request, pk)
    form = PatientDetailsForm(request.POST or None, instance=Patient.objects.get(pk=patient.pk))
    if request.method == "POST" and form.is_valid():
        changed = services.patient_update(patient=patient, fields=form.cleaned_data)
        if changed:
            audit_record(
                request,
                clinic=patient.clinic,
                action=AuditEvent.Action.UPDATE,
                obj=patient,
                summary="Changed " + ", ".join(changed),
            )
            messages.success(request, "Details saved.")
        return redirect(patient.get_absolute_url())
    return render(request, "clinic/patient_edit.html", {"patient": patient, "form": form})


@clinical_staff_required
@require_POST
def patient_note_create(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_or_404(request, pk)
    form = ClinicalNoteForm(request.POST)
    if form.is_valid():
        note = services.clinical_note_create(
            patient=patient,
            author=request.user,  # type: ignore[arg-type]
            body=form.cleaned_data["body"],
        )
        audit_record(request, clinic=patient.clinic, action=AuditEvent.Action.CREATE, obj=note)
        form = ClinicalNoteForm()
    if request.headers.get("HX-Request"):
        return render(
            request,
            "clinic/includes/clinical_notes.html",
            {"patient": patient, "notes": reads.patient_notes(patient), "note_form": form},
            status=200 if not form.errors else 422,
        )
    if form.errors:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    else:
        messages.success(request, "Note added.")
    return redirect(reverse("patient_detail", args=[patient.pk]) + "#clinical-notes")


@staff_required
def audit_log(request: HttpRequest) -> HttpResponse:
    member = staff_for(request)
    if member.role != StaffMember.Role.ADMIN:
        raise PermissionDenied("The audit log is for clinic admins.")
    clinic = clinic_for(request)
    staff = reads.staff_choices(clinic)
    form = AuditFilterForm(request.GET, staff=staff)
    data = form.cleaned_data if form.is_valid() else {}
    patient = None
    if data.get("patient"):
        # Another clinic's patient id is a 404 here as everywhere.
        patient = get_object_or_404(Patient.objects.for_clinic(clinic), pk=data["patient"])
    events = reads.audit_events(clinic, patient=patient, actor_id=data.get("user"))
    page, query = page_of(request, events, AUDIT_PER_PAGE)
    names = reads.describe_events(list(page))
    rows = [(event, *names.get((event.object_type, event.object_id), ("", None))) for event in page]
    return render(
        request,
        "clinic/audit_log.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "patient": patient,
            "query": query,
        },
    )
