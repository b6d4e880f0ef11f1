from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.urls import reverse

from clinic import emails
from clinic.booking import zone_names
from clinic.models import Patient, User


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class ResetForm(PasswordResetForm):
    def send_mail(  # type: ignore[override]
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        # Links are built from SITE_URL, never from the Host header of the request.
        path = reverse("password_reset_confirm", args=[context["uid"], context["token"]])
        emails.password_reset(user=context["user"], url=emails.absolute_url(path))


class LoginLinkForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
        help_text="The address your clinic has for you.",
    )


class PatientSearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100)
    clinician = forms.TypedChoiceField(
        label="Clinician", required=False, coerce=int, empty_value=None
    )
    risk = forms.ChoiceField(
        label="Latest self-assessment",
        required=False,
        choices=[
            ("", "Any risk"),
            ("urgent", "Urgent"),
            ("high", "High risk"),
            ("medium", "Medium risk"),
            ("low", "Low risk"),
        ],
    )
    plan = forms.ChoiceField(
        label="Exercise plan",
        required=False,
        choices=[("", "Any plan"), ("yes", "Active plan"), ("no", "No active plan")],
    )

    def __init__(
        self, *args: Any, clinicians: Sequence[Any] = (), clinical: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clinician"].choices = [("", "Any clinician")] + [
            (member.pk, member.display_name) for member in clinicians
        ]
        if not clinical:
            # Risk is clinical content: receptionists neither see nor filter by it.
            del self.fields["risk"]


class ClinicalNoteForm(forms.Form):
    body = forms.CharField(
        label="New note",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Seen by clinic staff only; never sent to the patient.",
    )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write the note first.", code="empty")
        return body


class AuditFilterForm(forms.Form):
    patient = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    user = forms.TypedChoiceField(label="Who", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, staff: Sequence[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "Everyone"), *staff]


class PatientDetailsForm(forms.ModelForm):
    """A patient's details as staff put them right (a mistyped address, a new
    phone number). Consent stays the patient's to give: it is not here."""

    class Meta:
        model = Patient
        fields = ["first_name", "last_name", "email", "phone", "date_of_birth", "time_zone"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"})}
        help_texts = {
            "email": "Plans, reminders and sign-in links go here.",
            "time_zone": "Reminders go at the patient's chosen time on this clock.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"] = forms.ChoiceField(
            label="Time zone",
            choices=[(name, name.replace("_", " ")) for name in sorted(zone_names())],
            help_text=self._meta.help_texts["time_zone"],  # type: ignore[index]
        )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        patient = self.instance
        if not email:
            return email
        others = Patient.objects.filter(clinic_id=patient.clinic_id, email=email)
        if others.exclude(pk=patient.pk).exists():
            raise forms.ValidationError(
                "Another patient of this clinic has this address.", code="taken"
            )
        # A patient with a login signs in at this address too.
        if (
            patient.user_id
            and User.objects.filter(email=email).exclude(pk=patient.user_id).exists()
        ):
            raise forms.ValidationError(
                "This address is already someone else's sign-in.", code="taken_login"
            )
        return email
