"""Forms for booking online consults. The slot is checked against the slots
the page offered a moment ago; the booking service checks again under lock."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from django import forms

from clinic import booking

TAKEN = "Sorry, that time was just taken. Please pick another time."


class SlotForm(forms.Form):
    """A choice among the slots on the page, as "<clinician id>-<UTC time>"."""

    slot = forms.CharField(
        max_length=40,
        error_messages={"required": "Please pick a time."},
    )

    def __init__(self, *args: Any, slot_keys: Collection[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slot_keys = set(slot_keys)

    def clean_slot(self) -> tuple[int, datetime]:
        key = self.cleaned_data["slot"]
        parsed = booking.parse_slot_key(key)
        if parsed is None:
            raise forms.ValidationError("Please pick a time.", code="invalid")
        if key not in self.slot_keys:
            raise forms.ValidationError(TAKEN, code="slot_taken")
        return parsed


class BookingForm(SlotForm):
    """A visitor or patient books: the slot and who they are."""

    first_name = forms.CharField(
        max_length=80, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        max_length=80, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    email = forms.EmailField(
        label="Email address",
        help_text="We send the confirmation and the link to join here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label="Phone number",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    reason = forms.CharField(
        label="What would you like to talk about?",
        required=False,
        max_length=1000,
        help_text="Optional. Only your physio sees this; it is never emailed.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, phone_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if phone_required:
            self.fields["phone"].required = True
            self.fields["phone"].help_text = "The clinic phones you on this number."
        else:
            self.fields["phone"].help_text = "Optional, in case the video call fails."

    def clean_first_name(self) -> str:
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self) -> str:
        return self.cleaned_data["last_name"].strip()

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class StaffBookingForm(SlotForm):
    """Staff book on a patient's behalf: the patient is known."""

    reason = forms.CharField(
        label="Reason for the consult",
        required=False,
        max_length=1000,
        help_text="Optional. Shown to clinicians only; never emailed.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class OutcomeForm(forms.Form):
    status = forms.ChoiceField(choices=[("completed", "Completed"), ("no_show", "No-show")])
