from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from clinic.access import client_ip, clinic_for, clinical_staff_required
from clinic.audit import audit_record
from clinic.models import AuditEvent, Clinic
from exercises.models import Exercise
from triage import engine, fhir, links, scoring, services
from triage.forms import AboutForm, ConsentForm, StepForm
from triage.models import Intake

GROUP_NAMES = {
    "cauda_equina": "Possible cauda equina (same-day emergency)",
    "cancer": "Possible cancer",
    "infection": "Possible infection",
    "fracture": "Possible fracture",
}


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    instrument: str | None = None
    part: int | None = None


def steps_for(clinic: Clinic) -> list[Step]:
    """The self-assessment's pages: a few short steps, warning signs early."""
    steps = [Step("about", "About you"), Step("red_flags", "Warning signs", "red_flags")]
    steps.append(Step("pain", "Your pain", "nprs"))
    runner = engine.get_instrument("runner_back")
    for part in sorted({item.step or 1 for item in runner.items}):
        steps.append(Step(f"running-{part}", "You and your running", "runner_back", part))
    startback = engine.get_instrument("startback")
    if engine.is_available_to_patients(startback):
        steps.append(Step("startback", "How it affects you", "startback"))
    steps.append(Step("review", "Check and send"))
    return steps


def _items(step: Step) -> list[Any]:
    instrument = engine.get_instrument(step.instrument)  # type: ignore[arg-type]
    return [i for i in instrument.items if step.part is None or (i.step or 1) == step.part]


def _labels(code: str) -> dict[str, str]:
    installed = engine.instrument_text(code) or {}
    return {
        item.code: installed.get(item.code) or item.text or ""
        for item in engine.get_instrument(code).items
    }


def _state(request: HttpRequest, clinic: Clinic) -> dict[str, Any]:
    state = request.session.get(f"assess:{clinic.slug}")
    if not isinstance(state, dict):
        state = {"about": {}, "answers": {}, "done": []}
    return state


def _save(request: HttpRequest, clinic: Clinic, state: dict[str, Any]) -> None:
    request.session[f"assess:{clinic.slug}"] = state


def assess(request: HttpRequest, clinic_slug: str) -> HttpResponse:
    clinic = get_object_or_404(Clinic, slug=clinic_slug)
    steps = steps_for(clinic)
    return render(request, "triage/assess.html", {"clinic": clinic, "steps": steps})


def assess_step(request: HttpRequest, clinic_slug: str, number: int) -> HttpResponse:
    clinic = get_object_or_404(Clinic, slug=clinic_slug)
    steps = steps_for(clinic)
    if not 1 <= number <= len(steps):
        raise Http404
    step = steps[number - 1]
    state = _state(request, clinic)
    # Pages are answered in order: jump back to the first one still missing.
    for earlier_number, earlier in enumerate(steps[: number - 1], start=1):
        if earlier.key not in state["done"]:
            return redirect("assess_step", clinic_slug=clinic.slug, number=earlier_number)

    data = request.POST if request.method == "POST" else None
    if step.key == "about":
        form: Any = AboutForm(data, initial=state["about"])
    elif step.key == "review":
        form = ConsentForm(data)
    else:
        saved = state["answers"].get(step.instrument, {})
        form = StepForm(
            data,
            items=_form_items(step, saved),
            labels=_labels(step.instrument),
            initial=StepForm.initial_from(saved),
        )

    if request.method == "POST" and form.is_valid():
        if step.key == "about":
            state["about"] = {
                k: v.isoformat() if isinstance(v, date) else v for k, v in form.cleaned_data.items()
            }
        elif step.key == "review":
            return _submit(request, clinic, state, form.cleaned_data)
        else:
            merged = _merge(step, state["answers"].get(step.instrument, {}), form.answers())
            missing = _missing_shown_items(step, merged)
            for code in missing:
                form.add_error(code, "Please answer this question.")
            if missing:
                return _render_step(request, clinic, steps, number, form)
            state["answers"][step.instrument] = merged
        if step.key not in state["done"]:
            state["done"].append(step.key)
        _save(request, clinic, state)
        return redirect("assess_step", clinic_slug=clinic.slug, number=number + 1)
    return _render_step(request, clinic, steps, number, form)


def _form_items(step: Step, saved: dict[str, Any]) -> list[Any]:
    """This page's questions. One that depends on an answer given on an earlier
    page is asked only when that answer calls for it."""
    items = _items(step)
    here = {item.code for item in items}
    shown = {i.code for i in engine.visible_items(engine.get_instrument(step.instrument), saved)}  # type: ignore[arg-type]
    return [
        item
        for item in items
        if item.condition is None or _condition_source(item) in here or item.code in shown
    ]


def _condition_source(item: Any) -> str:
    cond = item.condition
    return cond.item


def _merge(step: Step, saved: dict[str, Any], fresh: dict[str, Any]) -> dict[str, Any]:
    codes = {item.code for item in _items(step)}
    merged = {k: v for k, v in saved.items() if k not in codes}
    merged.update(fresh)
    # Answers to questions now hidden by a condition are dropped, not kept.
    visible = {
        item.code for item in engine.visible_items(engine.get_instrument(step.instrument), merged)
    }  # type: ignore[arg-type]
    return {k: v for k, v in merged.items() if k in visible}


def _missing_shown_items(step: Step, answers: dict[str, Any]) -> list[str]:
    shown = engine.visible_items(engine.get_instrument(step.instrument), answers)  # type: ignore[arg-type]
    step_codes = {item.code for item in _items(step)}
    return [i.code for i in shown if i.code in step_codes and i.required and i.code not in answers]


def _render_step(
    request: HttpRequest, clinic: Clinic, steps: list[Step], number: int, form: Any
) -> HttpResponse:
    step = steps[number - 1]
    context = {
        "clinic": clinic,
        "steps": steps,
        "step": step,
        "number": number,
        "progress": round(100 * (number - 1) / len(steps)),
        "form": form,
        "conditions": _conditions(step) if step.instrument else {},
    }
    if step.key == "review":
        state = _state(request, clinic)
        context["about"] = state["about"]
    return render(request, "triage/step.html", context, status=400 if form.errors else 200)


def _conditions(step: Step) -> dict[str, str]:
    """For the page script: which item shows which, so hidden questions stay hidden."""
    out = {}
    for item in _items(step):
        if item.condition:
            cond = item.condition
            source = _condition_source(item)
            equals = cond.equals
            value = "yes" if equals is True else "no" if equals is False else str(equals)
            out[item.code] = f"{source}={value}"
    return out


def _submit(
    request: HttpRequest, clinic: Clinic, state: dict[str, Any], consent: dict[str, Any]
) -> HttpResponse:
    about = dict(state["about"])
    about["date_of_birth"] = date.fromisoformat(about["date_of_birth"])
    try:
        intake = services.intake_create(
            clinic=clinic,
            details={**about, **consent},
            answers=state["answers"],
            ip_address=client_ip(request),
        )
    except ValueError as error:
        messages.error(request, f"Something in your answers needs another look: {error}")
        return redirect("assess_step", clinic_slug=clinic.slug, number=2)
    request.session.pop(f"assess:{clinic.slug}", None)
    return redirect("assess_result", token=links.result_token(intake.pk))


def assess_result(request: HttpRequest, token: str) -> HttpResponse:
    intake_id = links.intake_id_from_token(token)
    if intake_id is None:
        raise Http404("This result link has expired.")
    intake = get_object_or_404(
        Intake.objects.select_related("clinic", "patient", "suggested_program"), pk=intake_id
    )
    factors = (intake.scores.get("runner_back") or {}).get("factors") or []
    slugs = {slug for factor in factors for slug in factor.get("exercise_slugs", [])}
    exercises = {e.slug: e for e in Exercise.objects.filter(clinic=None, slug__in=slugs)}
    for factor in factors:
        factor["exercises"] = [
            exercises[s] for s in factor.get("exercise_slugs", []) if s in exercises
        ]
    return render(
        request,
        "triage/result.html",
        {
            "intake": intake,
            "clinic": intake.clinic,
            "factors": factors,
            "nprs": intake.scores.get("nprs"),
        },
    )


# Staff -----------------------------------------------------------------------


def _intake(request: HttpRequest, pk: int) -> Intake:
    return get_object_or_404(
        Intake.objects.for_clinic(clinic_for(request)).select_related("patient", "reviewed_by"),
        pk=pk,
    )


@clinical_staff_required
def intake_detail(request: HttpRequest, pk: int) -> HttpResponse:
    intake = _intake(request, pk)
    audit_record(request, clinic=intake.clinic, action=AuditEvent.Action.VIEW, obj=intake)
    sections = []
    for code, values in intake.answers.items():
        instrument = engine.get_instrument(code)
        labels = _labels(code)
        rows = [
            (labels.get(item.code) or item.code, _display(item, values[item.code]))
            for item in instrument.items
            if item.code in values
        ]
        sections.append(
            {"instrument": instrument, "rows": rows, "score": intake.scores.get(code, {})}
        )
    previous = (
        Intake.objects.filter(patient=intake.patient, created_at__lt=intake.created_at)
        .order_by("-created_at")
        .first()
    )
    flag_labels = _labels("red_flags")
    flags = [
        (GROUP_NAMES.get(group, group), [flag_labels.get(code) or code for code in codes])
        for group, codes in intake.red_flag_groups.items()
        if codes
    ]
    return render(
        request,
        "triage/intake_detail.html",
        {
            "intake": intake,
            "sections": sections,
            "previous": previous,
            "changes": intake.changes_since(previous) if previous else [],
            "flags": flags,
        },
    )


def _display(item: Any, value: Any) -> str:
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    labels = {c.code: c.label for c in item.choices or []}
    if isinstance(value, list):
        return ", ".join(labels.get(v, str(v)) for v in value)
    return labels.get(value, str(value))


@clinical_staff_required
@require_POST
def intake_review(request: HttpRequest, pk: int) -> HttpResponse:
    intake = services.intake_mark_reviewed(intake=_intake(request, pk), user=request.user)
    from_queue = request.POST.get("from") == "queue"
    if request.headers.get("HX-Request"):
        if from_queue:
            # The dashboard swaps the queue row in place.
            from clinic.dashboard import queue_row_for

            return render(
                request, "clinic/includes/queue_rows.html", {"queue": [queue_row_for(intake)]}
            )
        return render(request, "triage/includes/review_status.html", {"intake": intake})
    messages.success(request, f"Marked {intake.patient.full_name}'s self-assessment as reviewed.")
    return redirect("dashboard" if from_queue else intake)


@clinical_staff_required
def intake_fhir(request: HttpRequest, pk: int) -> JsonResponse:
    intake = _intake(request, pk)
    audit_record(
        request,
        clinic=intake.clinic,
        action=AuditEvent.Action.EXPORT,
        obj=intake,
        summary="FHIR QuestionnaireResponse",
    )
    bundle = [
        fhir.questionnaire_response(
            instrument=engine.get_instrument(code),
            answers=values,
            score=scoring.score(code, values),
            patient_reference=f"Patient/{intake.patient_id}",
            authored=intake.created_at,
        )
        for code, values in intake.answers.items()
    ]
    response = JsonResponse(
        bundle[0]
        if len(bundle) == 1
        else {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in bundle],
        },
        json_dumps_params={"indent": 2},
    )
    response["Content-Disposition"] = f'attachment; filename="intake-{intake.pk}.json"'
    return response
