"""Every message the product sends: one function per message.

Each renders templates/emails/<name>-subject.txt, <name>-body.txt and
<name>-body.html, and always carries the plain-text alternative. Emails carry
the minimum: no diagnosis, no answers, no clinical notes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

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
