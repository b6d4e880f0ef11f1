"""Forms for the self-assessment, built from the instruments' items."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

YES_NO = [("yes", "Yes"), ("no", "No")]


def _to_bool(value: str) -> bool:
    return value == "yes"


def item_field(item: Any, label: str) -> forms.Field:
    """One form field for one questionnaire item. Conditional items are never
    required here: the engine drops them when hidden and checks them when shown."""
    required = bool(item.required) and item.condition is None
    common: dict[str, Any] = {"label": label, "required": required, "help_text": item.help or ""}
    choices = [(c.code, c.label) for c in item.choices or []]
    radio = forms.RadioSelect(attrs={"class": "form-check-input"})
    match item.type:
        case "boolean":
            return forms.TypedChoiceField(choices=YES_NO, coerce=_to_bool, widget=radio, **common)
        case "single_choice":
            return forms.ChoiceField(choices=choices, widget=radio, **common)
        case "multiple_choice":
            return forms.MultipleChoiceField(
                choices=choices, widget=forms.CheckboxSelectMultiple, **common
            )
        case "scale_0_10":
            scale = [(str(n), str(n)) for n in range(11)]
            return forms.TypedChoiceField(
                choices=scale,
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "btn-check"}),
                **common,
            )
        case "number":
            return forms.IntegerField(min_value=item.min, max_value=item.max, **common)
        case "date":
            return forms.DateField(
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common
            )
        case _:
            return forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, **common
            )


class StepForm(forms.Form):
    def __init__(self, *args: Any, items: list[Any], labels: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[item.code] = item_field(
                item, labels.get(item.code) or item.text or item.code
            )

    def answers(self) -> dict[str, Any]:
        """Cleaned answers ready for the session: blanks dropped, dates as text."""
        out: dict[str, Any] = {}
        for code, value in self.cleaned_data.items():
            if value in (None, "", []):
                continue
            out[code] = value.isoformat() if isinstance(value, date) else value
        return out

    @staticmethod
    def initial_from(answers: dict[str, Any]) -> dict[str, Any]:
        return {k: ("yes" if v is True else "no" if v is False else v) for k, v in answers.items()}


class AboutForm(forms.Form):
    first_name = forms.CharField(
        max_length=80,
        label="First name",
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        max_length=80,
        label="Last name",
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We send your result here.",
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )

    def clean_date_of_birth(self) -> date:
        dob = self.cleaned_data["date_of_birth"]
        today = date.today()
        if dob >= today:
            raise forms.ValidationError("Your date of birth must be in the past.", code="future")
        if dob.year < today.year - 120:
            raise forms.ValidationError(
                "Please check the year of your date of birth.", code="too_old"
            )
        return dob


class ConsentForm(forms.Form):
    consent_store = forms.BooleanField(
        label="I agree that the clinic stores my answers to care for me.",
        error_messages={
            "required": "We can only send your answers to the clinic if you agree to storing them."
        },
    )
    consent_email = forms.BooleanField(
        required=False, label="Email me my exercise plan and reminders if the clinic gives me one."
    )
