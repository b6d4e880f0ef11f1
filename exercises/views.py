from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from clinic.access import clinic_for, get_patient_or_404, staff_required
from clinic.audit import audit_record
from clinic.emails import absolute_url
from clinic.models import AuditEvent
from clinic.paging import page_of
from exercises import calendar, links, reminders, services
from exercises.forms import (
    AssignForm,
    ExerciseForm,
    LibraryFilterForm,
    PlanScheduleForm,
    ProgramForm,
    ReminderSettingsForm,
    SessionLogForm,
    plan_items_formset,
    program_items_formset,
)
from exercises.models import WEEKDAYS, Assignment, Exercise, Program, ProgramItem

# Access ---------------------------------------------------------------------


def _exercise(request: HttpRequest, pk: int) -> Exercise:
    clinic = clinic_for(request)
    return get_object_or_404(
        Exercise.objects.filter(Q(clinic=clinic) | Q(clinic__isnull=True)), pk=pk
    )


def _program(request: HttpRequest, pk: int) -> Program:
    return get_object_or_404(Program.objects.for_clinic(clinic_for(request)), pk=pk)


def _own_program(request: HttpRequest, pk: int) -> Program:
    return get_object_or_404(Program.objects.filter(clinic=clinic_for(request)), pk=pk)


def _plans_for(request: HttpRequest):  # type: ignore[no-untyped-def]
    if not request.user.is_authenticated:
        return Assignment.objects.none()
    member = request.user.staff_member  # type: ignore[union-attr]
    if member is not None:
        return Assignment.objects.for_clinic(member.clinic)
    return Assignment.objects.filter(patient__user=request.user)


def _plan(request: HttpRequest, pk: int) -> Assignment:
    return get_object_or_404(_plans_for(request).select_related("patient", "clinic"), pk=pk)


def _plan_from_token(token: str) -> Assignment:
    plan_id = links.plan_id_from_token(token)
    if plan_id is None:
        raise Http404("This plan link is not valid any more.")
    return get_object_or_404(Assignment.objects.select_related("patient", "clinic"), pk=plan_id)


# Library --------------------------------------------------------------------


@staff_required
def library(request: HttpRequest) -> HttpResponse:
    clinic = clinic_for(request)
    form = LibraryFilterForm(request.GET or None)
    exercises = form.filter(Exercise.objects.for_clinic(clinic)).prefetch_related("regions")
    page, query = page_of(request, exercises.order_by("name", "pk"), 48)
    hidden = Exercise.objects.filter(hidden_for=clinic).order_by("name").only("pk", "name")
    return render(
        request,
        "exercises/library.html",
        {"form": form, "page": page, "query": query, "hidden": hidden},
    )


@staff_required
def exercise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    clinic = clinic_for(request)
    return render(
        request,
        "exercises/exercise_detail.html",
        {
            "exercise": exercise,
            "is_hidden": exercise.hidden_for.filter(pk=clinic.pk).exists(),
            "can_edit": exercise.clinic_id == clinic.pk,
        },
    )


@staff_required
def exercise_create(request: HttpRequest) -> HttpResponse:
    return _exercise_form(request, Exercise(clinic=clinic_for(request)))


@staff_required
def exercise_edit(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = get_object_or_404(Exercise.objects.filter(clinic=clinic_for(request)), pk=pk)
    return _exercise_form(request, exercise)


def _exercise_form(request: HttpRequest, exercise: Exercise) -> HttpResponse:
    form = ExerciseForm(request.POST or None, request.FILES or None, instance=exercise)
    if request.method == "POST" and form.is_valid():
        exercise = form.save(commit=False)
        if not exercise.slug:
            exercise.slug = services._unique_slug(Exercise, exercise.clinic, exercise.name)  # type: ignore[arg-type]
        exercise.save()
        form.save_m2m()
        messages.success(request, f"Saved {exercise.name}.")
        return redirect(exercise)
    return render(request, "exercises/exercise_form.html", {"form": form, "exercise": exercise})


@staff_required
@require_POST
def exercise_adapt(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    if not exercise.is_shared:
        return redirect("exercise_edit", pk=exercise.pk)
    copy = services.exercise_adapt(exercise=exercise, clinic=clinic_for(request))
    messages.success(
        request, "This is your clinic's own copy: edit it as you like. The shared one is hidden."
    )
    return redirect("exercise_edit", pk=copy.pk)


@staff_required
@require_POST
def exercise_hide(request: HttpRequest, pk: int) -> HttpResponse:
    exercise = _exercise(request, pk)
    if not exercise.is_shared:
        raise Http404
    hidden = request.POST.get("hidden") == "1"
    services.exercise_set_hidden(exercise=exercise, clinic=clinic_for(request), hidden=hidden)
    messages.success(
        request, f"{exercise.name} is {'hidden from' if hidden else 'back in'} your library."
    )
    return redirect(exercise)


# Programs -------------------------------------------------------------------


@staff_required
def program_list(request: HttpRequest) -> HttpResponse:
    programs = Program.objects.for_clinic(clinic_for(request)).prefetch_related("items")
    return render(request, "exercises/program_list.html", {"programs": programs})


def _items_by_week(program: Program | Assignment, items: list) -> list[tuple[int, list]]:  # type: ignore[type-arg]
    weeks = (
        program.duration_weeks
        if isinstance(program, Program)
        else ((program.end_date - program.start_date).days // 7 + 1)
    )
    return [(week, [i for i in items if i.applies_in_week(week)]) for week in range(1, weeks + 1)]


@staff_required
def program_detail(request: HttpRequest, pk: int) -> HttpResponse:
    program = _program(request, pk)
    items = list(program.items.select_related("exercise"))
    return render(
        request,
        "exercises/program_detail.html",
        {
            "program": program,
            "items": items,
            "weeks": _items_by_week(program, items),
            "can_edit": program.clinic_id == clinic_for(request).pk,
        },
    )


@staff_required
def program_create(request: HttpRequest) -> HttpResponse:
    form = ProgramForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        program = form.save(commit=False)
        program.clinic = clinic_for(request)
        program.created_by = request.user  # type: ignore[assignment]
        program.slug = services._unique_slug(Program, program.clinic, program.name)
        program.save()
        messages.success(request, "Program created. Now add exercises.")
        return redirect("program_edit", pk=program.pk)
    return render(request, "exercises/program_form.html", {"form": form})


@staff_required
def program_edit(request: HttpRequest, pk: int) -> HttpResponse:
    program = _own_program(request, pk)
    clinic = clinic_for(request)
    form = ProgramForm(request.POST or None, instance=program)
    formset = program_items_formset(clinic)(
        request.POST or None, instance=program, queryset=program.items.select_related("exercise")
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        with transaction.atomic():
            form.save()
            formset.save()
        messages.success(request, "Program saved.")
        return redirect(program)
    search = LibraryFilterForm(request.GET or None)
    # Without JavaScript the search box reloads this page with ?q=...
    exercises = _search(request) if "q" in request.GET else None
    return render(
        request,
        "exercises/program_edit.html",
        {
            "program": program,
            "form": form,
            "formset": formset,
            "search": search,
            "exercises": exercises,
        },
    )


def _search(request: HttpRequest) -> list[Exercise]:
    form = LibraryFilterForm(request.GET)
    return list(form.filter(Exercise.objects.for_clinic(clinic_for(request))).order_by("name")[:20])


@staff_required
def program_exercise_search(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX: library search results with an Add button, for the builder."""
    program = _own_program(request, pk)
    exercises = _search(request)
    return render(
        request,
        "exercises/includes/search_results.html",
        {"program": program, "exercises": exercises},
    )


@staff_required
@require_POST
def program_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    program = _own_program(request, pk)
    exercise = get_object_or_404(
        Exercise.objects.for_clinic(clinic_for(request)), pk=request.POST.get("exercise")
    )
    last = program.items.order_by("-order").values_list("order", flat=True).first() or 0
    ProgramItem.objects.create(
        program=program,
        exercise=exercise,
        order=last + 1,
        sets=exercise.default_sets,
        reps=exercise.default_reps,
        hold_seconds=exercise.default_hold_seconds,
        per_side=exercise.per_side,
    )
    messages.success(request, f"Added {exercise.name}. Set its dosage below.")
    return redirect("program_edit", pk=program.pk)


@staff_required
@require_POST
def program_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    program = _program(request, pk)
    copy = services.program_duplicate(
        program=program, clinic=clinic_for(request), user=request.user
    )  # type: ignore[arg-type]
    messages.success(request, f"Copied into your clinic's programs as “{copy.name}”.")
    return redirect("program_edit", pk=copy.pk)


# Assigning and editing one patient's plan ----------------------------------


@staff_required
def assign(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient_or_404(request, patient_pk)
    clinic = clinic_for(request)
    initial = {
        "start_date": date.today(),
        "days_of_week": [0, 2, 4],
        "reminder_time": clinic.default_reminder_time,
        "program": request.GET.get("program"),
    }
    form = AssignForm(request.POST or None, clinic=clinic, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        plan = services.assignment_create(
            patient=patient,
            created_by=request.user,  # type: ignore[arg-type]
            program=data["program"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            days_of_week=data["days_of_week"],
            reminder_time=data["reminder_time"],
            notes=data["notes"],
        )
        if patient.consent_email and patient.email:
            messages.success(
                request, f"{plan.name} assigned. {patient.first_name} will get the plan by email."
            )
        else:
            messages.warning(
                request,
                f"{plan.name} assigned. {patient.first_name} has not agreed to email: "
                "share the plan another way.",
            )
        return redirect("plan", pk=plan.pk)
    return render(request, "exercises/assign.html", {"form": form, "patient": patient})


@staff_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    form = PlanScheduleForm(request.POST or None, instance=plan)
    formset = plan_items_formset(clinic_for(request))(
        request.POST or None,
        instance=plan,
        queryset=plan.items.select_related("exercise"),
        prefix="items",
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        with transaction.atomic():
            formset.save()
            changes = {field: form.cleaned_data[field] for field in form.changed_data}
            # One version bump and one email, whether the schedule or the items changed.
            services.assignment_update(assignment=plan, **changes)
        messages.success(request, "Plan saved. The patient gets the updated plan by email.")
        return redirect("plan", pk=plan.pk)
    return render(
        request, "exercises/plan_edit.html", {"plan": plan, "form": form, "formset": formset}
    )


# The patient's plan page ---------------------------------------------------


def _render_plan(request: HttpRequest, plan: Assignment, *, token: str | None) -> HttpResponse:
    today = plan.local_today()
    items = list(
        plan.items.select_related("exercise").prefetch_related(Prefetch("exercise__regions"))
    )
    logs = list(plan.logs.all())
    logged = {log.date: log for log in logs}
    current_week = max(1, plan.week_number(max(today, plan.start_date)))
    week_ahead = [
        {
            "day": day,
            "name": WEEKDAYS[day.weekday()],
            "session": plan.is_session_day(day),
            "log": logged.get(day),
        }
        for day in (today + timedelta(n) for n in range(7))
    ]
    is_staff = request.user.is_authenticated and request.user.staff_member is not None  # type: ignore[union-attr]
    if is_staff:
        audit_record(request, clinic=plan.clinic, action=AuditEvent.Action.VIEW, obj=plan)
    log_url = (
        reverse("plan_link_log", args=[token]) if token else reverse("plan_log", args=[plan.pk])
    )
    return render(
        request,
        "exercises/plan.html",
        {
            "plan": plan,
            "today": today,
            "is_session_day": plan.is_session_day(today),
            "today_items": plan.items_for_week(current_week, items),
            "week": current_week,
            "week_ahead": week_ahead,
            "next_session": next(
                iter(plan.session_days(today + timedelta(1), plan.end_date)), None
            ),
            "today_log": logged.get(today),
            "logs": logs,
            "adherence": plan.adherence(logs, today),
            "form": SessionLogForm(instance=logged.get(today)),
            "log_url": log_url,
            "ics_url": reverse("plan_ics", args=[token or links.plan_token(plan.pk)]),
            "is_staff_view": is_staff,
            "token": token,
            "reminder_form": ReminderSettingsForm(
                initial={
                    "days_of_week": plan.days_of_week,
                    "reminder_time": plan.reminder_time,
                    "reminders_enabled": plan.reminders_enabled,
                }
            ),
            "reminders_url": (
                reverse("plan_link_reminders", args=[token])
                if token
                else reverse("plan_reminders", args=[plan.pk])
            ),
        },
    )


def plan(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    return _render_plan(request, _plan(request, pk), token=None)


def plan_link(request: HttpRequest, token: str) -> HttpResponse:
    return _render_plan(request, _plan_from_token(token), token=token)


def _log(request: HttpRequest, plan: Assignment, back: str) -> HttpResponse:
    if request.user.is_authenticated and request.user.staff_member is not None:  # type: ignore[union-attr]
        raise PermissionDenied("Sessions are logged by the patient.")
    form = SessionLogForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "Please check the session form: "
            + "; ".join(
                f"{form.fields[f].label}: {' '.join(e)}"
                for f, e in form.errors.items()
                if f in form.fields
            ),
        )
        return redirect(back)
    day = plan.local_today()
    if not plan.is_session_day(day) and not plan.start_date <= day <= plan.end_date:
        messages.error(request, "This plan is not running today.")
        return redirect(back)
    services.session_log_record(assignment=plan, day=day, **form.cleaned_data)
    messages.success(request, "Session logged. Well done!")
    return redirect(back)


@require_POST
def plan_log(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        raise PermissionDenied
    plan = _plan(request, pk)
    return _log(request, plan, reverse("plan", args=[plan.pk]))


@require_POST
def plan_link_log(request: HttpRequest, token: str) -> HttpResponse:
    return _log(request, _plan_from_token(token), reverse("plan_link", args=[token]))


def _save_reminders(request: HttpRequest, plan: Assignment, back: str) -> HttpResponse:
    if request.user.is_authenticated and request.user.staff_member is not None:  # type: ignore[union-attr]
        raise PermissionDenied("Reminders are set by the patient.")
    form = ReminderSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "Please check your reminder settings: "
            + "; ".join(" ".join(errors) for errors in form.errors.values()),
        )
        return redirect(f"{back}#reminders")
    plan = reminders.assignment_reminders_update(assignment=plan, **form.cleaned_data)
    if plan.reminders_enabled:
        messages.success(
            request,
            f"Reminders on: {plan.schedule_text.lower()} at {plan.reminder_time:%H:%M}.",
        )
    else:
        messages.success(request, "Reminders paused. Turn them back on here any time.")
    return redirect(back)


@require_POST
def plan_reminders(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        raise PermissionDenied
    plan = _plan(request, pk)
    return _save_reminders(request, plan, reverse("plan", args=[plan.pk]))


@require_POST
def plan_link_reminders(request: HttpRequest, token: str) -> HttpResponse:
    return _save_reminders(request, _plan_from_token(token), reverse("plan_link", args=[token]))


# RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click" from its own
# servers, with no cookie and no CSRF token. The signed token is the
# credential, and pausing reminders is harmless and undone from the plan page.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def reminders_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The email's unsubscribe: GET asks (mail scanners follow links), POST
    pauses this plan's reminders."""
    plan_id = links.unsubscribe_id_from_token(token)
    if plan_id is None:
        raise Http404("This link is not valid any more.")
    plan = get_object_or_404(Assignment.objects.select_related("patient", "clinic"), pk=plan_id)
    if request.method == "POST":
        reminders.assignment_reminders_set(assignment=plan, enabled=False)
    return render(
        request,
        "exercises/reminders_unsubscribe.html",
        {
            "plan": plan,
            "paused": request.method == "POST",
            "plan_url": reverse("plan_link", args=[links.plan_token(plan.pk)]),
        },
    )


def plan_done(request: HttpRequest, token: str) -> HttpResponse:
    """The email's one-click 'done': GET shows a button (mail scanners follow
    links), POST logs the day's session as done."""
    found = links.done_from_token(token)
    if found is None:
        raise Http404("This link is not valid any more.")
    plan_id, day = found
    plan = get_object_or_404(Assignment.objects.select_related("patient", "clinic"), pk=plan_id)
    if not plan.start_date <= day <= plan.end_date:
        raise Http404("That day is outside the plan.")
    if request.method == "POST":
        services.session_log_record(assignment=plan, day=day)
        messages.success(request, f"Logged {day:%A %-d %B} as done. Well done!")
        return redirect("plan_link", token=links.plan_token(plan.pk))
    return render(
        request,
        "exercises/plan_done.html",
        {"plan": plan, "day": day, "token": links.plan_token(plan.pk)},
    )


def plan_ics(request: HttpRequest, token: str) -> HttpResponse:
    plan = _plan_from_token(token)
    body = calendar.plan_ics(plan, plan_url=absolute_url(reverse("plan_link", args=[token])))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="exercise-plan.ics"'
    return response
