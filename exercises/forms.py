from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.forms import inlineformset_factory

from clinic.models import Clinic
from exercises.models import (
    DOSAGE_FIELDS,
    WEEKDAYS,
    Assignment,
    AssignmentItem,
    Exercise,
    Program,
    ProgramItem,
    Region,
    SessionLog,
)

DAY_CHOICES = [(str(i), name) for i, name in enumerate(WEEKDAYS)]


class LibraryFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    region = forms.ModelChoiceField(
        Region.objects.all(),
        required=False,
        to_field_name="code",
        empty_label="Any region",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    category = forms.ChoiceField(
        choices=[("", "Any category"), *Exercise.Category.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    equipment = forms.ChoiceField(
        choices=[("", "Any equipment"), *Exercise.Equipment.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    difficulty = forms.TypedChoiceField(
        choices=[("", "Any level"), ("1", "Easy"), ("2", "Moderate"), ("3", "Hard")],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def filter(self, queryset: Any) -> Any:
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.search(data["q"])
        if data["region"]:
            queryset = queryset.filter(regions=data["region"])
        if data["category"]:
            queryset = queryset.filter(category=data["category"])
        if data["equipment"]:
            queryset = queryset.filter(equipment=data["equipment"])
        if data["difficulty"]:
            queryset = queryset.filter(difficulty=data["difficulty"])
        return queryset


class LinesField(forms.CharField):
    """A list of sentences edited as one line each."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class ExerciseForm(forms.ModelForm):
    steps = LinesField(help_text="One step per line, in order.")
    cues = LinesField(required=False, help_text="One per line.")
    mistakes = LinesField(required=False, label="Common mistakes", help_text="One per line.")
    safety = LinesField(required=False, label="When to stop", help_text="One per line.")
    video_url = forms.URLField(required=False, assume_scheme="https", label="Video URL")

    class Meta:
        model = Exercise
        fields = [
            "name",
            "summary",
            "steps",
            "cues",
            "mistakes",
            "safety",
            "category",
            "regions",
            "equipment",
            "difficulty",
            "default_sets",
            "default_reps",
            "default_hold_seconds",
            "per_side",
            "rest_seconds",
            "image",
            "video_url",
            "licence",
        ]
        widgets = {"regions": forms.CheckboxSelectMultiple}


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = ["name", "goal", "description", "duration_weeks"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


ITEM_FIELDS = ["exercise", *DOSAGE_FIELDS]
_SMALL = {"class": "form-control form-control-sm"}
ITEM_WIDGETS = {
    "exercise": forms.Select(attrs={"class": "form-select form-select-sm"}),
    "order": forms.NumberInput(attrs={**_SMALL, "min": 0}),
    "sets": forms.NumberInput(attrs={**_SMALL, "min": 1}),
    "reps": forms.NumberInput(attrs={**_SMALL, "min": 1}),
    "hold_seconds": forms.NumberInput(attrs={**_SMALL, "min": 1}),
    "per_side": forms.CheckboxInput(attrs={"class": "form-check-input"}),
    "week_from": forms.NumberInput(attrs={**_SMALL, "min": 1}),
    "week_to": forms.NumberInput(attrs={**_SMALL, "min": 1}),
    "notes": forms.TextInput(attrs=_SMALL),
}


def item_formset(model: type, parent: type, clinic: Clinic) -> Any:
    formset = inlineformset_factory(
        parent, model, fields=ITEM_FIELDS, extra=0, can_delete=True, widgets=ITEM_WIDGETS
    )

    class Scoped(formset):  # type: ignore[misc, valid-type]
        def add_fields(self, form: forms.Form, index: int | None) -> None:
            super().add_fields(form, index)
            form.fields["exercise"].queryset = Exercise.objects.for_clinic(clinic)

    return Scoped


def program_items_formset(clinic: Clinic) -> Any:
    return item_formset(ProgramItem, Program, clinic)


def plan_items_formset(clinic: Clinic) -> Any:
    return item_formset(AssignmentItem, Assignment, clinic)


class ScheduleFields(forms.Form):
    days_of_week = forms.TypedMultipleChoiceField(
        choices=DAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label="Days",
        error_messages={"required": "Pick at least one day of the week."},
    )
    reminder_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}), label="Reminder time"
    )


class AssignForm(ScheduleFields):
    program = forms.ModelChoiceField(Program.objects.none())
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        required=False,
        help_text="Leave empty to follow the program's length.",
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Personal notes for the patient",
    )

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.for_clinic(clinic)

    def clean_start_date(self) -> date:
        start = self.cleaned_data["start_date"]
        if start < date.today() - timedelta(days=7):
            raise forms.ValidationError(
                "Start today or later (at most a week back).", code="too_early"
            )
        return start

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error(
                "end_date",
                forms.ValidationError("The plan ends before it starts.", code="reversed"),
            )
        return data


class PlanScheduleForm(forms.ModelForm):
    days_of_week = ScheduleFields.base_fields["days_of_week"]
    reminder_time = ScheduleFields.base_fields["reminder_time"]

    class Meta:
        model = Assignment
        fields = [
            "name",
            "start_date",
            "end_date",
            "days_of_week",
            "reminder_time",
            "status",
            "notes",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class SessionLogForm(forms.ModelForm):
    pain = forms.TypedChoiceField(
        choices=[("", "Skip")] + [(str(n), str(n)) for n in range(11)],
        coerce=int,
        empty_value=None,
        required=False,
        label="Pain right now (0 = none, 10 = worst imaginable)",
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )

    class Meta:
        model = SessionLog
        fields = ["completion", "pain", "effort", "note"]
        labels = {
            "completion": "How much did you do?",
            "effort": "How hard did it feel?",
            "note": "Anything to tell your physio?",
        }
        widgets = {
            "completion": forms.RadioSelect(attrs={"class": "btn-check"}),
            "effort": forms.RadioSelect(attrs={"class": "btn-check"}),
            "note": forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effort"].choices = [c for c in self.fields["effort"].choices if c[0]]
        self.fields["effort"].required = False


class ReminderSettingsForm(ScheduleFields):
    """The patient's own reminder days and time, on their plan page."""

    reminders_enabled = forms.BooleanField(
        required=False, label="Email me a reminder on exercise days"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days_of_week"].label = "Exercise days"
        self.fields["days_of_week"].widget.attrs["class"] = "form-check-input"
        time_widget = self.fields["reminder_time"].widget
        time_widget.format = "%H:%M"
        time_widget.attrs["class"] = "form-control w-auto"
        self.fields["reminder_time"].help_text = "Your local time."
        self.fields["reminders_enabled"].widget.attrs["class"] = "form-check-input"
