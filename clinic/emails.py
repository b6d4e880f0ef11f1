"""Every message the product sends: one function per message.

Each renders templates/emails/<name>-subject.txt, <name>-body.txt and
<name>-body.html, and always carries the plain-text alternative. Emails carry
the minimum: no diagnosis, no answers, no clinical notes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import NoReverseMatch

from clinic.models import LoginLink, User


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def build_message(
    name: str, *, to: str, context: dict[str, Any], headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{name}-subject.txt", context).strip()
    subject = " ".join(subject.splitlines())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers=headers or {})
    message.attach_alternative(html, "text/html")
    return message


def send(messages: list[EmailMultiAlternatives]) -> int:
    """Send over one connection: a batch costs one SMTP handshake, not one each."""
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages) or 0


def login_link(link: LoginLink) -> None:
    send(
        [
            build_message(
                "login-link",
                to=link.user.email,
                context={
                    "user": link.user,
                    "url": absolute_url(link.get_absolute_url()),
                    "minutes": int(LoginLink.lifetime().total_seconds() // 60),
                },
            )
        ]
    )


def password_reset(*, user: User, url: str) -> None:
    send(
        [
            build_message(
                "password-reset",
                to=user.email,
                context={
                    "user": user,
                    "url": url,
                    "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
                },
            )
        ]
    )


def plan(assignment: Any) -> None:
    """The emailed exercise plan: this week's exercises with pictures, a link
    to the plan page and the sessions as a calendar file."""
    from exercises import calendar, links

    patient = assignment.patient
    today = assignment.local_today()
    week = assignment.week_number(max(today, assignment.start_date))
    items = assignment.items_for_week(week, list(assignment.items.select_related("exercise")))
    url = absolute_url(links.plan_path(assignment.pk))
    message = build_message(
        "plan",
        to=patient.email,
        context={
            "patient": patient,
            "clinic": assignment.clinic,
            "assignment": assignment,
            "week": week,
            "items": [
                {"item": item, "picture": absolute_url(item.exercise.email_picture_url)}
                for item in items
            ],
            "url": url,
            "done_url": (
                absolute_url(links.done_path(assignment.pk, today))
                if assignment.is_session_day(today)
                else None
            ),
            "updated": assignment.version > 1,
        },
    )
    message.attach(
        "exercise-plan.ics",
        calendar.plan_ics(assignment, plan_url=url),
        "text/calendar; method=PUBLISH; charset=utf-8",
    )
    send([message])


def _reminder_message_id(reminder: Any) -> str:
    # The same id on every attempt: a resend after a crash (see
    # exercises/reminders.py) is the same message to mail systems that dedupe.
    return f"<reminder-{reminder.pk}@{urlsplit(settings.SITE_URL).hostname}>"


def exercise_reminder(reminder: Any, *, items: list[Any]) -> EmailMultiAlternatives:
    """The day's exercises with their dosage, a one-tap "done", the plan, and a
    one-click unsubscribe (RFC 8058) that pauses this plan's reminders. Built,
    not sent: the reminder engine sends a batch over one connection and
    records each message as the server accepts it."""
    from exercises import links

    assignment_id = reminder.assignment_id
    unsubscribe = absolute_url(links.unsubscribe_path(assignment_id))
    return build_message(
        "exercise-reminder",
        to=reminder.patient.email,
        context={
            "patient": reminder.patient,
            "clinic": reminder.clinic,
            "day": reminder.day,
            "items": items,
            "done_url": absolute_url(links.done_path(assignment_id, reminder.day)),
            "url": absolute_url(links.plan_path(assignment_id)),
            "unsubscribe_url": unsubscribe,
        },
        headers={
            "Message-ID": _reminder_message_id(reminder),
            # No mailto: nothing reads replies to this address.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def consult_reminder(reminder: Any) -> EmailMultiAlternatives:
    """Before a consult: when on the patient's clock, with whom, how to join,
    and where to move or cancel it. Built, not sent, like exercise_reminder."""
    consult, patient = reminder.consult, reminder.patient
    local = consult.starts_at.astimezone(patient.zone)
    return build_message(
        "consult-reminder",
        to=patient.email,
        context={
            "patient": patient,
            "clinic": reminder.clinic,
            "clinician": consult.clinician,
            "when": f"{local:%A %-d %B at %H:%M}",
            "time": f"{local:%H:%M}",
            "zone": f"{local.tzname()}, {patient.time_zone}",
            "soon": reminder.hours_before < 12,
            "video": consult.consult_type.mode == "video",
            "join_url": consult.video_url,
            "manage_url": _consult_manage_url(consult),
        },
        headers={"Message-ID": _reminder_message_id(reminder)},
    )


def _consult_manage_url(consult: Any) -> str:
    """The booking pages' signed link to see, move or cancel the consult, where
    the booking app provides one; otherwise the email names the clinic's contact."""
    try:
        from clinic import consult_links

        return absolute_url(consult_links.consult_path(consult.pk))
    except (ImportError, NoReverseMatch):
        return ""


def intake_confirmation(intake: Any) -> None:
    """To the patient: we have their answers, and where their result is. The
    answers themselves stay off email."""
    from triage import links

    send(
        [
            build_message(
                "intake-confirmation",
                to=intake.patient.email,
                context={
                    "patient": intake.patient,
                    "clinic": intake.clinic,
                    "urgent": intake.urgent,
                    "url": absolute_url(links.result_path(intake.pk)),
                },
            )
        ]
    )


def urgent_intake_alert(intake: Any) -> None:
    """To the clinic's address and its clinicians, at once: an intake with a
    warning sign. No name, no answers: the link opens it for signed-in staff."""
    from clinic.models import StaffMember

    clinicians = StaffMember.objects.filter(
        clinic=intake.clinic,
        is_active=True,
        role__in=[StaffMember.Role.CLINICIAN, StaffMember.Role.ADMIN],
    ).values_list("user__email", flat=True)
    recipients = sorted({intake.clinic.contact_email, *clinicians} - {""})
    send(
        [
            build_message(
                "urgent-intake",
                to=to,
                context={
                    "clinic": intake.clinic,
                    "intake": intake,
                    "url": absolute_url(intake.get_absolute_url()),
                },
                headers={"X-Priority": "1", "Importance": "high"},
            )
            for to in recipients
        ]
    )


# Online consults ---------------------------------------------------------------


def _consult_messages(consult: Any, patient_template: str, *, event: str, method: str) -> list[Any]:
    """The patient's message and the clinician's notice about one change, each
    with the calendar file for its reader. Times are on each reader's clock.
    No reason, no clinical details: when, with whom, how to join."""
    from django.urls import reverse

    from clinic import booking, consult_calendar, consult_links

    clinic, patient, clinician = consult.clinic, consult.patient, consult.clinician
    content_type = f"text/calendar; method={method}; charset=utf-8"
    common = {
        "consult": consult,
        "clinic": clinic,
        "clinician": clinician,
        "kind": consult.consult_type.name,
        "minutes": consult.consult_type.duration_minutes,
        "video": consult.consult_type.mode == "video",
    }
    messages = []
    if patient.email:
        message = build_message(
            patient_template,
            to=patient.email,
            context={
                **common,
                "patient": patient,
                "when": booking.format_when(consult.starts_at, patient.zone),
                "zone": booking.zone_label(patient.zone, consult.starts_at),
                "url": absolute_url(consult_links.consult_path(consult.pk)),
                "book_url": absolute_url(reverse("book", args=[clinic.slug])),
            },
        )
        message.attach(
            "consult.ics", consult_calendar.consult_ics(consult, method=method), content_type
        )
        messages.append(message)
    day = consult.starts_at.astimezone(clinic.zone)
    notice = build_message(
        "consult-clinician",
        to=clinician.user.email,
        context={
            **common,
            "event": event,
            "when": booking.format_when(consult.starts_at, clinic.zone),
            "zone": booking.zone_label(clinic.zone, consult.starts_at),
            "url": absolute_url(f"{reverse('schedule')}?day={day:%Y-%m-%d}"),
        },
    )
    notice.attach(
        "consult.ics",
        consult_calendar.consult_ics(consult, method=method, for_clinician=True),
        content_type,
    )
    messages.append(notice)
    return messages


def consult_booked(consult: Any) -> None:
    """To the patient: the confirmation with the invite; to the clinician: a notice."""
    send(_consult_messages(consult, "consult-booked", event="booked", method="REQUEST"))


def consult_rescheduled(consult: Any) -> None:
    """Both sides: the new time, and the invite with a higher SEQUENCE."""
    send(_consult_messages(consult, "consult-rescheduled", event="rescheduled", method="REQUEST"))


def consult_cancelled(consult: Any) -> None:
    """Both sides: the consult is off, and METHOD:CANCEL for the calendars."""
    send(_consult_messages(consult, "consult-cancelled", event="cancelled", method="CANCEL"))
