"""Free times for online consults: the slot maths and the reads behind it.

`free_slots` is the pure core: one clinician's weekly hours (wall-clock times in
the clinic's zone), days off and busy spans go in, start instants come out. Hours
become instants day by day, in the clinic's zone, so 09:00 stays 09:00 local
time across a clock change; the steps between slots are real elapsed time.
Everything else here loads those inputs with a fixed number of queries and
shapes the result for a page.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from django.db.models import QuerySet

from clinic.models import Clinic, Consult, ConsultType, StaffMember, TimeOff, WorkingHours

SLOT_STEP = timedelta(minutes=30)
# Staff book follow-ups months ahead; the clinic's limit is for online booking.
STAFF_DAYS_AHEAD = 365
KEY_FORMAT = "%Y%m%dT%H%MZ"


@dataclass(frozen=True)
class Availability:
    """One clinician's time as plain data, ready for `free_slots`."""

    zone: zoneinfo.ZoneInfo
    hours: Sequence[tuple[int, time, time]]  # (weekday 0 = Monday, starts, ends), local
    days_off: Sequence[tuple[date, date]] = ()  # inclusive local dates
    busy: Sequence[tuple[datetime, datetime]] = ()  # [start, blocked until), aware


def instant(day: date, at: time, zone: zoneinfo.ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local date. A time that does
    not exist (skipped by a spring change) lands just after the gap."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def free_slots(
    availability: Availability,
    *,
    duration: timedelta,
    buffer: timedelta,
    start: datetime,
    end: datetime,
    step: timedelta = SLOT_STEP,
) -> list[datetime]:
    """Start instants t, start <= t < end, on a `step` grid from the start of
    each working period, where the consult [t, t + duration) fits inside the
    period and [t, t + duration + buffer) touches no busy span. The buffer may
    run past the end of the hours: it is rest, not work."""
    zone = availability.zone
    periods: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for weekday, starts, ends in availability.hours:
        if ends > starts:
            periods[weekday].append((starts, ends))
    busy = sorted(availability.busy)
    found: set[datetime] = set()
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if not any(first <= day <= final for first, final in availability.days_off):
            for starts, ends in periods.get(day.weekday(), ()):
                opens, closes = instant(day, starts, zone), instant(day, ends, zone)
                at = opens
                while at + duration <= closes:
                    if start <= at < end and not _clashes(at, at + duration + buffer, busy):
                        found.add(at)
                    at += step
        day += timedelta(days=1)
    return sorted(found)


def _clashes(starts: datetime, until: datetime, busy: Sequence[tuple[datetime, datetime]]) -> bool:
    for busy_start, busy_until in busy:
        if busy_start >= until:
            break  # sorted by start: nothing later can overlap
        if busy_until > starts:
            return True
    return False


def booking_window(
    clinic: Clinic, *, now: datetime, by_staff: bool = False
) -> tuple[datetime, datetime]:
    """From now plus the notice period to the end of the clinic's last bookable
    day. Staff book on a patient's behalf without notice and further ahead."""
    notice = timedelta(0) if by_staff else timedelta(hours=clinic.booking_min_notice_hours)
    days = (
        max(clinic.booking_max_days_ahead, STAFF_DAYS_AHEAD)
        if by_staff
        else clinic.booking_max_days_ahead
    )
    last_day = now.astimezone(clinic.zone).date() + timedelta(days=days)
    return now + notice, instant(last_day + timedelta(days=1), time(0), clinic.zone)


# Reads ------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    clinician: StaffMember
    starts_at: datetime
    ends_at: datetime

    @property
    def key(self) -> str:
        return slot_key(self.clinician.pk, self.starts_at)


def slot_key(clinician_id: int, starts_at: datetime) -> str:
    return f"{clinician_id}-{starts_at.astimezone(UTC).strftime(KEY_FORMAT)}"


def parse_slot_key(key: str) -> tuple[int, datetime] | None:
    clinician, _, when = (key or "").partition("-")
    try:
        return int(clinician), datetime.strptime(when, KEY_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def bookable_clinicians(clinic: Clinic) -> QuerySet[StaffMember]:
    """Active clinicians and clinic admins of the clinic with working hours."""
    return (
        StaffMember.objects.filter(clinic=clinic, is_active=True, working_hours__isnull=False)
        .exclude(role=StaffMember.Role.RECEPTIONIST)
        .select_related("user")
        .distinct()
        .order_by("user__first_name", "user__last_name", "pk")
    )


def open_slots(
    *,
    clinic: Clinic,
    consult_type: ConsultType,
    clinicians: Sequence[StaffMember],
    start: datetime,
    end: datetime,
    ignore: Consult | None = None,
    step: timedelta = SLOT_STEP,
) -> list[Slot]:
    """Every clinician's free slots between two instants: three queries
    whatever the number of clinicians or days. `ignore` is a consult being
    moved, which must not block its own new time."""
    ids = [c.pk for c in clinicians]
    duration = timedelta(minutes=consult_type.duration_minutes)
    buffer = timedelta(minutes=consult_type.buffer_minutes)
    zone = clinic.zone
    hours: dict[int, list[tuple[int, time, time]]] = defaultdict(list)
    for clinician_id, weekday, starts, ends in WorkingHours.objects.filter(
        clinician_id__in=ids
    ).values_list("clinician_id", "weekday", "starts", "ends"):
        hours[clinician_id].append((weekday, starts, ends))
    days_off: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for clinician_id, first, final in TimeOff.objects.filter(
        clinician_id__in=ids,
        ends_on__gte=start.astimezone(zone).date(),
        starts_on__lte=end.astimezone(zone).date(),
    ).values_list("clinician_id", "starts_on", "ends_on"):
        days_off[clinician_id].append((first, final))
    busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    consults = (
        Consult.objects.active()
        .filter(clinician_id__in=ids)
        .overlapping(start, end + duration + buffer)
    )
    if ignore is not None:
        consults = consults.exclude(pk=ignore.pk)
    for clinician_id, starts_at, blocked_until in consults.values_list(
        "clinician_id", "starts_at", "blocked_until"
    ):
        busy[clinician_id].append((starts_at, blocked_until))

    slots = []
    for clinician in clinicians:
        availability = Availability(
            zone=zone,
            hours=hours[clinician.pk],
            days_off=days_off[clinician.pk],
            busy=busy[clinician.pk],
        )
        for at in free_slots(
            availability, duration=duration, buffer=buffer, start=start, end=end, step=step
        ):
            slots.append(Slot(clinician=clinician, starts_at=at, ends_at=at + duration))
    return sorted(slots, key=lambda s: (s.starts_at, clinicians.index(s.clinician)))


def is_free(
    *,
    clinic: Clinic,
    consult_type: ConsultType,
    clinician: StaffMember,
    starts_at: datetime,
    now: datetime,
    by_staff: bool = False,
    ignore: Consult | None = None,
) -> bool:
    """Whether a start is one of the clinician's free slots right now."""
    earliest, latest = booking_window(clinic, now=now, by_staff=by_staff)
    if not earliest <= starts_at < latest:
        return False
    return bool(
        open_slots(
            clinic=clinic,
            consult_type=consult_type,
            clinicians=[clinician],
            start=starts_at,
            end=starts_at + timedelta(seconds=1),
            ignore=ignore,
        )
    )


def one_per_time(slots: Iterable[Slot]) -> list[Slot]:
    """For "any clinician": each time once, with the first clinician free then."""
    seen: set[datetime] = set()
    out = []
    for slot in slots:
        if slot.starts_at not in seen:
            seen.add(slot.starts_at)
            out.append(slot)
    return out


# Shaping for pages -------------------------------------------------------------


@dataclass(frozen=True)
class ShownSlot:
    key: str
    label: str  # local wall-clock time, "09:30"
    clinician: str


@dataclass
class SlotDay:
    day: date
    slots: list[ShownSlot] = field(default_factory=list)


def group_by_day(slots: Iterable[Slot], zone: zoneinfo.ZoneInfo) -> list[SlotDay]:
    """Slots by local date in the viewer's zone, in time order."""
    days: dict[date, SlotDay] = {}
    for slot in slots:
        local = slot.starts_at.astimezone(zone)
        day = days.setdefault(local.date(), SlotDay(local.date()))
        day.slots.append(ShownSlot(slot.key, f"{local:%H:%M}", slot.clinician.display_name))
    return [days[d] for d in sorted(days)]


def zone_label(zone: zoneinfo.ZoneInfo, at: datetime) -> str:
    """ "Europe/London time (BST)": the name people recognise and the
    abbreviation their clock shows at that moment, where there is one."""
    name = str(getattr(zone, "key", zone)).replace("_", " ")
    abbreviation = at.astimezone(zone).tzname() or ""
    if not abbreviation or abbreviation.startswith(("+", "-")):
        return f"{name} time"
    return f"{name} time ({abbreviation})"


def format_when(at: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """ "Monday 31 March 2025, 09:00": a consult's time on a person's clock."""
    local = at.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M}"


@cache
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def safe_zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    """A zone from a query string or a browser, or None when it is not one."""
    if not name or name not in zone_names():
        return None
    return zoneinfo.ZoneInfo(name)
