"""The .ics invite for an online consult (RFC 5546 iTIP).

One event per consult: UID is the consult's `uid` and never changes, SEQUENCE
goes up on every change, so a calendar replaces the event on a reschedule and
removes it on METHOD:CANCEL. Times are UTC, so no VTIMEZONE is needed and a
calendar shows them on its owner's clock.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from icalendar import Calendar, Event, vCalAddress, vText

from clinic import consult_links
from clinic.emails import absolute_url
from clinic.models import Consult, ConsultType

REQUEST = "REQUEST"
CANCEL = "CANCEL"


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    for key, value in params.items():
        address.params[key.replace("_", "-")] = vText(value)
    return address


def consult_ics(consult: Consult, *, method: str = REQUEST, for_clinician: bool = False) -> bytes:
    """The invite for one side. The patient's copy names the clinician and
    links to the page where they can move or cancel; the clinician's copy links
    to the schedule and, like the notice it comes with, leaves the patient's
    name and address out: email carries the minimum. Neither has the reason."""
    clinic, patient, clinician = consult.clinic, consult.patient, consult.clinician
    cal = Calendar()
    cal.add("prodid", f"-//{settings.SITE_NAME}//Online consult//EN")
    cal.add("version", "2.0")
    cal.add("method", method)

    event = Event()
    event.add("uid", str(consult.uid))
    event.add("sequence", consult.sequence)
    event.add("dtstamp", consult.updated_at)
    event.add("dtstart", consult.starts_at)
    event.add("dtend", consult.ends_at)
    kind = consult.consult_type.name
    if for_clinician:
        event.add("summary", f"Online consult: {kind}")
        page = absolute_url(
            reverse("schedule") + f"?day={consult.starts_at.astimezone(clinic.zone):%Y-%m-%d}"
        )
    else:
        event.add("summary", f"{kind} with {clinician.display_name}, {clinic.name}")
        page = absolute_url(consult_links.consult_path(consult.pk))
    if consult.consult_type.mode == ConsultType.Mode.VIDEO and consult.video_url:
        event.add("location", consult.video_url)
        event.add("url", consult.video_url)
        joining = f"Join the video call: {consult.video_url}"
    else:
        event.add("location", "Phone call")
        joining = "The clinic will phone you." if not for_clinician else "Phone call."
    changing = "Details" if for_clinician else "To change the time or cancel"
    event.add("description", f"{joining}\n\n{changing}: {page}")
    event.add("organizer", _address(clinic.contact_email, clinic.name))
    if patient.email and not for_clinician:
        event.add(
            "attendee",
            _address(
                patient.email,
                patient.full_name,
                role="REQ-PARTICIPANT",
                partstat="NEEDS-ACTION",
                rsvp="FALSE",
            ),
        )
    event.add(
        "attendee",
        _address(
            clinician.user.email,
            clinician.display_name,
            role="REQ-PARTICIPANT",
            partstat="ACCEPTED",
            rsvp="FALSE",
        ),
    )
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    cal.add_component(event)
    return cal.to_ical()
