from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.urls import reverse

from clinic import emails


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
