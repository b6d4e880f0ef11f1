"""Writes with side effects: `<noun>_<verb>`, keyword-only, atomic."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from clinic.models import ClinicalNote, LoginLink, Patient, User


@transaction.atomic
def login_link_create(*, email: str, ip_address: str | None = None) -> LoginLink | None:
    """A one-time sign-in link for the person with this address, if there is one.

    Staff sign in with a password; links are for patients. A patient without a
    login yet gets one, with no usable password, so the link is how they start.
    Returns None when the address is unknown: the caller says the same thing
    either way, so the form does not reveal who is a patient.
    """
    from clinic import tasks

    email = email.strip().lower()
    patients = Patient.objects.filter(email=email).select_related("user")
    if not patients:
        return None
    user = next((p.user for p in patients if p.user is not None), None)
    if user is None:
        user = User.objects.filter(email=email).first() or User.objects.create_user(email=email)
        first = patients[0]
        user.first_name, user.last_name = first.first_name, first.last_name
        user.save(update_fields=["first_name", "last_name"])
    if user.staff_member is not None or not user.is_active:
        return None
    Patient.objects.filter(email=email, user__isnull=True).update(user=user)
    link = LoginLink.objects.create(
        user=user, expires_at=timezone.now() + LoginLink.lifetime(), requested_from=ip_address
    )
    tasks.send_login_link.delay_on_commit(link.pk)
    return link


def login_link_use(*, token: str) -> User | None:
    """Spend a sign-in link: the user it signs in, or None when it is bad,
    expired or already used. The conditional UPDATE makes it single use even
    when two requests race."""
    link_id = LoginLink.id_from_token(token)
    if link_id is None:
        return None
    now = timezone.now()
    spent = LoginLink.objects.usable().filter(pk=link_id).update(used_at=now)
    if spent != 1:
        return None
    user = User.objects.get(login_links__pk=link_id)
    return user if user.is_active else None


@transaction.atomic
def clinical_note_create(*, patient: Patient, author: User, body: str) -> ClinicalNote:
    """A staff-only note on a patient, stamped with its author and time. Notes
    are never emailed and never edited: a correction is a new note."""
    note = ClinicalNote(clinic=patient.clinic, patient=patient, author=author, body=body.strip())
    note.full_clean()
    note.save()
    return note


@transaction.atomic
def patient_update(*, patient: Patient, fields: dict[str, object]) -> list[str]:
    """Put right a patient's details (validated by `PatientDetailsForm`).
    Returns the names of the fields that changed. A patient with a login signs
    in at their new address too. Reminders already rendered for the old
    address are rendered again: their content key names the address."""
    changed = [name for name, value in fields.items() if getattr(patient, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(patient, name, fields[name])
    patient.save()
    user = patient.user
    if "email" in changed and patient.email and user is not None and user.staff_member is None:
        user.email = patient.email
        user.save(update_fields=["email"])
    return changed
