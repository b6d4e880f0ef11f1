"""Reads for the clinician dashboard, the patient list and the patient page.

Every function here runs a fixed number of queries whatever the size of the
clinic, and each query is bounded by an index: the triage queue by
`intake_queue_idx`, today's consults by `consult_clinician_idx` /
`consult_clinic_idx`, the attention lists by the clinic's *active* plans
(`assignment_clinic_status_idx`) and their recent logs (`sessionlog_one_per_day`),
so years of ended plans and old logs cost nothing. The one count that grows
with the clinic is the dashboard's patient count, an index-only count (about
a millisecond for 10,000 patients).

A clinician's attention lists cover the plans they created unless they ask
for the whole clinic; a clinic admin's cover the whole clinic.

The rules, so a clinician can trust what the lists say:

- Adherence dropped: an active plan with at least ADHERENCE_MIN_SESSIONS
  sessions scheduled over the last ADHERENCE_DAYS full days (today is not
  over yet) and under ADHERENCE_BELOW of them done. "Some of it" counts half,
  and only logs on scheduled days count, as on the plan page
  (`Assignment.adherence`).
- Pain rising: the mean of the last PAIN_RUN pain scores logged on an active
  plan is at least the NPRS minimal important change (2 points) above the
  mean of the PAIN_RUN before them, all within the last PAIN_LOOKBACK_DAYS.
- Plans ending this week: active plans whose last day is within the next
  seven days, today included.
- A patient's clinician: whoever created their active plan; a patient with no
  active plan belongs to the clinician of their latest consult that was not
  cancelled (an upcoming one counts). See `with_clinician`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic.models import (
    AuditEvent,
    Clinic,
    ClinicalNote,
    Consult,
    Patient,
    StaffMember,
    User,
)
from exercises.models import Assignment, Reminder, SessionLog
from triage.models import RISK_RANK, Intake, factor_name, red_flag_name
from triage.scoring import MINIMAL_IMPORTANT_CHANGE

QUEUE_LIMIT = 8
ATTENTION_LIMIT = 6
ADHERENCE_DAYS = 14
ADHERENCE_BELOW = 0.5
ADHERENCE_MIN_SESSIONS = 3
PAIN_RUN = 3
PAIN_RISE = MINIMAL_IMPORTANT_CHANGE["nprs"]
PAIN_LOOKBACK_DAYS = 28
ENDING_DAYS = 7
UNDELIVERED_DAYS = 14
UNDELIVERED_LIMIT = 6
# The failures read to find the newest few patients; past this the count is "N+".
UNDELIVERED_SCAN = 200

CREDIT = {
    SessionLog.Completion.ALL: 1.0,
    SessionLog.Completion.SOME: 0.5,
    SessionLog.Completion.NONE: 0.0,
}
# Consults that happened or will: the statuses the diary shows.
DIARY_STATUSES = [Consult.Status.BOOKED, Consult.Status.COMPLETED, Consult.Status.NO_SHOW]


def clinic_overview(clinic_id: int) -> Clinic:
    """The clinic, with how many patients it has and how many STarT Back items
    have their licensed wording (`startback_worded`): the dashboard loads its
    clinic this way instead of by the foreign key, one round trip for all."""
    from triage.services import worded_items

    # By the clinic's id, not by reference to the outer row, so the count is
    # worked out once with an index-only scan.
    patients = (
        Patient.objects.filter(clinic_id=clinic_id)
        .order_by()
        .values(n=Func(template="COUNT(*)", output_field=IntegerField()))
    )
    return Clinic.objects.annotate(
        patient_count=Subquery(patients, output_field=IntegerField()),
        startback_worded=worded_items("startback"),
    ).get(pk=clinic_id)


def clinic_today(clinic: Clinic, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(clinic.zone).date()


# The triage queue --------------------------------------------------------------

# What a queue row shows: never the answers or scores, which are kilobytes each.
QUEUE_FIELDS = (
    "pk",
    "patient_id",
    "created_at",
    "urgent",
    "risk",
    "red_flags",
    "factors",
    "suggested_program_id",
    "status",
    "patient__first_name",
    "patient__last_name",
    "patient__date_of_birth",
)


def triage_queue(clinic: Clinic, limit: int = QUEUE_LIMIT) -> tuple[list[dict[str, Any]], int]:
    """The most pressing new self-assessments (urgent, then high, medium and
    low risk, oldest first) as rows ready to show, and how many wait in all:
    one query, which never reads the answers or scores (kilobytes each)."""
    rows = list(
        Intake.objects.for_clinic(clinic)
        .unreviewed()
        .urgent_first()
        .annotate(waiting=Window(Count("pk")))
        .values(*QUEUE_FIELDS, "waiting")[:limit]
    )
    now = timezone.now()
    today = clinic_today(clinic, now)
    urls = queue_urls()
    return [queue_row(row, now=now, today=today, urls=urls) for row in rows], (
        rows[0]["waiting"] if rows else 0
    )


def queue_urls() -> dict[str, str | None]:
    from clinic.templatetags.dashboard import book_pattern, url_pattern

    return {
        "intake": url_pattern("intake_detail"),
        "review": url_pattern("intake_review"),
        "assign": url_pattern("assign"),
        "book": book_pattern(),
    }


def queue_row(
    intake: dict[str, Any], *, now: datetime, today: date, urls: dict[str, str | None]
) -> dict[str, Any]:
    """What a queue row shows, worked out here from the row's values: the
    dashboard renders many, and plain values render several times faster than
    lookups through model instances in a template."""
    from clinic.templatetags.dashboard import fill, waited

    patient_id = intake["patient_id"]
    assign = fill(urls["assign"], patient_id)
    if intake["suggested_program_id"]:
        assign += f"?program={intake['suggested_program_id']}"
    born = intake["patient__date_of_birth"]
    age = (
        [f"{today.year - born.year - ((today.month, today.day) < (born.month, born.day))} y"]
        if born
        else []
    )
    return {
        "pk": intake["pk"],
        "name": f"{intake['patient__first_name']} {intake['patient__last_name']}".strip(),
        "about": " · ".join([*age, f"waiting {waited(intake['created_at'], now)}"]),
        "urgent": intake["urgent"],
        "risk": intake["risk"],
        "reviewed": intake["status"] == Intake.Status.REVIEWED,
        "red_flags": ", ".join(red_flag_name(code) for code in intake["red_flags"]),
        "factors": " · ".join(factor_name(code) for code in intake["factors"]),
        "url": fill(urls["intake"], intake["pk"]),
        "review_url": fill(urls["review"], intake["pk"]),
        "assign_url": assign,
        "book_url": fill(urls["book"], patient_id),
    }


def queue_row_for(intake: Intake) -> dict[str, Any]:
    """The queue row of one intake, for the dashboard's in-place review."""
    values = {field: getattr(intake, field) for field in QUEUE_FIELDS if "__" not in field}
    patient = intake.patient
    values.update(
        patient__first_name=patient.first_name,
        patient__last_name=patient.last_name,
        patient__date_of_birth=patient.date_of_birth,
    )
    now = timezone.now()
    return queue_row(values, now=now, today=clinic_today(intake.clinic, now), urls=queue_urls())


# Today's diary -------------------------------------------------------------------


def consults_on(clinic: Clinic, day: date, clinician: StaffMember | None) -> list[dict[str, Any]]:
    """The consults of one local day, as rows ready to show: one clinician's,
    or the whole clinic's with who sees each patient."""
    from clinic.templatetags.dashboard import fill, url_pattern

    patient_url = url_pattern("patient_detail")
    zone = clinic.zone
    starts = datetime.combine(day, time.min, tzinfo=zone)
    ends = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    consults = Consult.objects.for_clinic(clinic).filter(
        status__in=DIARY_STATUSES, starts_at__gte=starts, starts_at__lt=ends
    )
    if clinician is not None:
        consults = consults.filter(clinician=clinician)
    fields = [
        "starts_at",
        "ends_at",
        "status",
        "video_url",
        "patient_id",
        "patient__first_name",
        "patient__last_name",
        "consult_type__name",
    ]
    if clinician is None:
        fields += ["clinician__user__first_name", "clinician__user__last_name"]
    labels = dict(Consult.Status.choices)
    now = timezone.now()
    rows = []
    for consult in consults.order_by("starts_at", "pk").values(*fields):
        status = consult["status"]
        who = (
            consult.get("clinician__user__first_name"),
            consult.get("clinician__user__last_name"),
        )
        rows.append(
            {
                "time": consult["starts_at"].astimezone(zone).strftime("%H:%M"),
                "patient": f"{consult['patient__first_name']} {consult['patient__last_name']}",
                "url": fill(patient_url, consult["patient_id"]),
                "type": consult["consult_type__name"],
                "clinician": " ".join(filter(None, who)),
                "status": status,
                "status_label": labels.get(status, status),
                "over": consult["ends_at"] <= now,
                # A call link only while it is still of use.
                "video_url": (
                    consult["video_url"]
                    if status == Consult.Status.BOOKED and consult["ends_at"] > now
                    else ""
                ),
            }
        )
    return rows


# Needs attention -------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    patient_id: int
    patient_name: str
    plan_id: int
    plan_name: str
    detail: str
    sort: float
    url: str = ""


@dataclass
class Attention:
    adherence: list[Flag] = field(default_factory=list)
    pain: list[Flag] = field(default_factory=list)
    ending: list[Flag] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    more: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.adherence or self.pain or self.ending)


def _weekday_count(start: date, end: date, weekdays: set[int]) -> int:
    """How many days from start to end (inclusive) fall on these weekdays."""
    if end < start:
        return 0
    days = (end - start).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * len(weekdays)
    first = start.weekday()
    count += sum(1 for n in range(rest) if (first + n) % 7 in weekdays)
    return count


def _attention_rows(
    *, clinic_id: int, created_by_id: int | None, logs_from: date, today: date, ends_from: date
) -> list[tuple[Any, ...]]:
    """A row per recent log, newest first per plan, and one with no log for a
    plan without any (a plan nobody touched is the first to need attention).

    Plain SQL: this runs on every dashboard view, and building it through the
    ORM (a filtered relation, a cast, eleven columns) cost more than running
    it. Standard SQL only, so it runs on SQLite as on PostgreSQL; the days of
    the week come as text, parsed once per plan rather than once per row."""
    quote = connection.ops.quote_name
    plan, patient, log = (
        quote(model._meta.db_table) for model in (Assignment, Patient, SessionLog)
    )
    mine = "AND a.created_by_id = %s" if created_by_id is not None else ""
    sql = (
        "SELECT a.id, a.name, a.start_date, a.end_date, CAST(a.days_of_week AS TEXT),"  # noqa: S608
        " a.patient_id, p.first_name, p.last_name, l.date, l.completion, l.pain"
        f" FROM {plan} a JOIN {patient} p ON p.id = a.patient_id"
        f" LEFT JOIN {log} l ON l.assignment_id = a.id AND l.date >= %s AND l.date <= %s"
        f" WHERE a.clinic_id = %s AND a.status = %s AND a.end_date >= %s {mine}"
        " ORDER BY a.id, l.date DESC"
    )
    params: list[Any] = [logs_from, today, clinic_id, Assignment.Status.ACTIVE.value, ends_from]
    if created_by_id is not None:
        params.append(created_by_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def needs_attention(
    clinic: Clinic, *, today: date, created_by: User | None = None, limit: int = ATTENTION_LIMIT
) -> Attention:
    """Active plans whose adherence dropped or whose pain rose, and plans
    ending this week: one query, over the clinic's active plans only (or
    those `created_by` one clinician) and their logs of the last few weeks."""
    window_start = today - timedelta(days=ADHERENCE_DAYS)
    window_end = today - timedelta(days=1)
    lookback = today - timedelta(days=PAIN_LOOKBACK_DAYS)
    ending_by = today + timedelta(days=ENDING_DAYS - 1)

    rows = _attention_rows(
        clinic_id=clinic.pk,
        created_by_id=created_by.pk if created_by is not None else None,
        logs_from=min(lookback, window_start),
        today=today,
        ends_from=window_start,
    )
    plan_rows: dict[int, tuple[Any, ...]] = {}
    by_plan: dict[int, list[tuple[date, str, int | None]]] = defaultdict(list)
    for *plan, day, completion, pain in rows:
        if plan[0] not in plan_rows:
            plan[4] = json.loads(plan[4])
            plan_rows[plan[0]] = tuple(plan)
        if day is not None:
            by_plan[plan[0]].append((day, completion, pain))

    from clinic.templatetags.dashboard import fill, url_pattern

    patient_url = url_pattern("patient_detail")
    found = Attention()
    for plan_id, name, start, end, days_of_week, patient_id, first, last in plan_rows.values():
        patient = f"{first} {last}".strip()
        url = fill(patient_url, patient_id)
        weekdays = set(days_of_week)
        plan_logs = by_plan.get(plan_id, [])

        scheduled = _weekday_count(max(start, window_start), min(end, window_end), weekdays)
        if scheduled >= ADHERENCE_MIN_SESSIONS:
            done = sum(
                CREDIT.get(completion, 0.0)
                for day, completion, _ in plan_logs
                if window_start <= day <= window_end
                and start <= day <= end
                and day.weekday() in weekdays
            )
            rate = done / scheduled
            if rate < ADHERENCE_BELOW:
                found.adherence.append(
                    Flag(
                        patient_id,
                        patient,
                        plan_id,
                        name,
                        f"{done:g} of {scheduled} sessions in {ADHERENCE_DAYS} days ({rate:.0%})",
                        rate,
                        url,
                    )
                )

        pains = [pain for day, _, pain in plan_logs if pain is not None and day >= lookback]
        if len(pains) >= 2 * PAIN_RUN:
            recent = sum(pains[:PAIN_RUN]) / PAIN_RUN
            before = sum(pains[PAIN_RUN : 2 * PAIN_RUN]) / PAIN_RUN
            if recent - before >= PAIN_RISE:
                found.pain.append(
                    Flag(
                        patient_id,
                        patient,
                        plan_id,
                        name,
                        f"pain {before:.1f} → {recent:.1f} over the last {2 * PAIN_RUN} logs",
                        before - recent,
                        url,
                    )
                )

        if today <= end <= ending_by:
            found.ending.append(
                Flag(
                    patient_id,
                    patient,
                    plan_id,
                    name,
                    "ends today" if end == today else f"ends {end:%a} {end.day} {end:%b}",
                    (end - today).days,
                    url,
                )
            )

    for key in ("adherence", "pain", "ending"):
        flags = sorted(getattr(found, key), key=lambda f: (f.sort, f.patient_name))
        found.counts[key] = len(flags)
        found.more[key] = max(0, len(flags) - limit)
        setattr(found, key, flags[:limit])
    return found


# Reminders not delivered ----------------------------------------------------------


def undelivered_reminders(
    clinic: Clinic, *, now: datetime, clinical: bool, limit: int = UNDELIVERED_LIMIT
) -> tuple[list[dict[str, Any]], int, bool]:
    """Patients whose reminder emails the mail server refused for good (a bad
    address, say) in the last UNDELIVERED_DAYS, newest first, one row each;
    how many patients in all, and whether there may be more (the newest
    UNDELIVERED_SCAN failures were read). A patient drops off once a later
    reminder goes through. One query, by the partial index on failed reminders.

    Reception sees the address and the error (putting an address right is
    their work) but not whether it was an exercise reminder: that says the
    patient has a plan, which is clinical."""
    from clinic.templatetags.dashboard import fill, url_pattern

    rows = (
        Reminder.objects.for_clinic(clinic)
        .undelivered(now - timedelta(days=UNDELIVERED_DAYS))
        .order_by("-due_at", "-pk")
        .values(
            "patient_id",
            "patient__first_name",
            "patient__last_name",
            "patient__email",
            "kind",
            "due_at",
            "last_error",
        )[:UNDELIVERED_SCAN]
    )
    patient_url = url_pattern("patient_detail")
    kinds = {
        Reminder.Kind.EXERCISE: "exercise reminder" if clinical else "reminder",
        Reminder.Kind.CONSULT_24H: "consult reminder",
        Reminder.Kind.CONSULT_1H: "consult reminder",
    }
    zone = clinic.zone
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row["patient_id"] in found:
            continue
        found[row["patient_id"]] = {
            "patient": f"{row['patient__first_name']} {row['patient__last_name']}".strip(),
            "url": fill(patient_url, row["patient_id"]),
            "email": row["patient__email"],
            "what": kinds[row["kind"]],
            "when": row["due_at"].astimezone(zone),
            # "address: 550 ...": the address is shown above it.
            "error": row["last_error"].removeprefix(f"{row['patient__email']}: "),
        }
    return list(found.values())[:limit], len(found), len(rows) == UNDELIVERED_SCAN


# The patient list -------------------------------------------------------------


def with_clinician(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Annotate `clinician_user_id`: the creator of the patient's active plan,
    else the clinician of their latest consult that was not cancelled."""
    plan_by = (
        Assignment.objects.filter(patient=OuterRef("pk"), status=Assignment.Status.ACTIVE)
        .order_by("-start_date", "-pk")
        .values("created_by_id")[:1]
    )
    consult_by = (
        Consult.objects.filter(patient=OuterRef("pk"), status__in=DIARY_STATUSES)
        .order_by("-starts_at", "-pk")
        .values("clinician__user_id")[:1]
    )
    return patients.annotate(
        clinician_user_id=Coalesce(
            Subquery(plan_by), Subquery(consult_by), output_field=BigIntegerField()
        )
    )


def with_summary(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Annotate the latest self-assessment's risk and urgency and whether an
    active plan is running: one correlated lookup each, by index."""
    latest = Intake.objects.filter(patient=OuterRef("pk")).order_by("-created_at", "-pk")
    return with_clinician(patients).annotate(
        latest_risk=Subquery(latest.values("risk")[:1]),
        latest_urgent=Subquery(latest.values("urgent")[:1]),
        has_active_plan=Exists(
            Assignment.objects.filter(patient=OuterRef("pk"), status=Assignment.Status.ACTIVE)
        ),
    )


def filter_patients(
    patients: QuerySet[Patient],
    *,
    clinic: Clinic,
    query: str = "",
    clinician: StaffMember | None = None,
    risk: str = "",
    active_plan: str = "",
) -> QuerySet[Patient]:
    """The patient list's search and filters. Each filter first narrows the
    clinic to a candidate set an index finds (that clinician's plans and
    consults, the intakes of that risk, the active plans), so the exact
    per-patient rule only runs on those candidates, not on every patient."""
    patients = with_summary(patients.search(query))
    if clinician is not None:
        patients = patients.filter(
            Q(
                pk__in=Assignment.objects.filter(
                    created_by_id=clinician.user_id, status=Assignment.Status.ACTIVE
                ).values("patient_id")
            )
            | Q(
                pk__in=Consult.objects.filter(
                    clinician=clinician, status__in=DIARY_STATUSES
                ).values("patient_id")
            ),
            clinician_user_id=clinician.user_id,
        )
    # Urgency and risk rank are columns of the queue index, so the clinic's
    # candidates come from the index, not from its bulky rows.
    if risk == "urgent":
        patients = patients.filter(
            pk__in=Intake.objects.for_clinic(clinic).filter(urgent=True).values("patient_id"),
            latest_urgent=True,
        )
    elif risk in RISK_RANK:
        patients = patients.filter(
            pk__in=Intake.objects.for_clinic(clinic)
            .filter(risk_rank=RISK_RANK[risk])
            .values("patient_id"),
            latest_risk=risk,
        )
    if active_plan == "yes":
        patients = patients.filter(
            pk__in=Assignment.objects.for_clinic(clinic).active().values("patient_id")
        )
    elif active_plan == "no":
        patients = patients.filter(has_active_plan=False)
    return patients.order_by("last_name", "first_name", "pk")


def clinic_clinicians(clinic: Clinic) -> list[StaffMember]:
    return list(
        StaffMember.objects.filter(clinic=clinic, is_active=True)
        .exclude(role=StaffMember.Role.RECEPTIONIST)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "pk")
    )


# The patient page ----------------------------------------------------------------


@dataclass
class IntakeRow:
    intake: Intake
    changes: list[Any]
    previous: Intake | None

    @property
    def scores(self) -> list[str]:
        """The headline of each scale answered, in the clinic's usual shorthand."""
        scores = self.intake.scores
        out = []
        if (nprs := scores.get("nprs")) and nprs.get("total") is not None:
            out.append(f"Pain {nprs['total']:g}/10")
        if (odi := scores.get("odi")) and odi.get("total") is not None:
            out.append(f"ODI {odi['total']:g}%" + (f" ({odi['band']})" if odi.get("band") else ""))
        if (rmdq := scores.get("rmdq")) and rmdq.get("total") is not None:
            out.append(f"RMDQ {rmdq['total']:g}/24")
        if (back := scores.get("startback")) and back.get("total") is not None:
            risk = f" ({back['risk']} risk)" if back.get("risk") else ""
            out.append(f"STarT Back {back['total']:g}/9{risk}")
        return out


def patient_intakes(patient: Patient) -> list[IntakeRow]:
    """Every self-assessment, newest first, each with its change since the one before."""
    intakes = list(
        Intake.objects.filter(patient=patient).defer("answers").order_by("-created_at", "-pk")
    )
    rows = []
    for n, intake in enumerate(intakes):
        previous = intakes[n + 1] if n + 1 < len(intakes) else None
        rows.append(IntakeRow(intake, intake.changes_since(previous) if previous else [], previous))
    return rows


@dataclass
class PlanRow:
    plan: Assignment
    adherence: dict[str, Any]
    logs: list[SessionLog]


def patient_plans(patient: Patient, today: date) -> list[PlanRow]:
    """Plans, newest first, with their logs and adherence: two queries."""
    plans = list(Assignment.objects.for_patient(patient).order_by("-start_date", "-pk"))
    logs: dict[int, list[SessionLog]] = defaultdict(list)
    for log in SessionLog.objects.filter(assignment__patient=patient).order_by("date"):
        logs[log.assignment_id].append(log)
    rows = []
    for plan in plans:
        plan.patient = patient  # no query per plan for the patient's time zone
        rows.append(PlanRow(plan, plan.adherence(logs[plan.pk], today), logs[plan.pk]))
    return rows


def patient_consults(patient: Patient, limit: int = 30) -> list[Consult]:
    return list(
        Consult.objects.filter(patient=patient)
        .select_related("consult_type", "clinician__user")
        .order_by("-starts_at", "-pk")[:limit]
    )


def patient_notes(patient: Patient, limit: int = 50) -> list[ClinicalNote]:
    return list(
        ClinicalNote.objects.for_patient(patient)
        .select_related("author")
        .order_by("-created_at", "-pk")[:limit]
    )


# The audit log ---------------------------------------------------------------


def audit_events(
    clinic: Clinic, *, patient: Patient | None = None, actor_id: int | None = None
) -> QuerySet[AuditEvent]:
    """The clinic's audit trail, newest first; for one patient it takes in
    their self-assessments, plans and notes as well as the patient record."""
    events = AuditEvent.objects.for_clinic(clinic)
    if patient is not None:
        related = Q(object_type="clinic.patient", object_id=str(patient.pk))
        for label, ids in (
            ("triage.intake", Intake.objects.filter(patient=patient).values_list("pk", flat=True)),
            (
                "exercises.assignment",
                Assignment.objects.filter(patient=patient).values_list("pk", flat=True),
            ),
            (
                "clinic.clinicalnote",
                ClinicalNote.objects.filter(patient=patient).values_list("pk", flat=True),
            ),
        ):
            ids = [str(pk) for pk in ids]
            if ids:
                related |= Q(object_type=label, object_id__in=ids)
        events = events.filter(related)
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    return events.select_related("actor").order_by("-at", "-pk")


def describe_events(events: list[AuditEvent]) -> dict[tuple[str, str], tuple[str, int | None]]:
    """A readable name, and the patient it concerns, for each event's object:
    one query per kind of object on the page, not one per row."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        wanted[event.object_type].add(event.object_id)
    names: dict[tuple[str, str], tuple[str, int | None]] = {}

    def ints(values: set[str]) -> list[int]:
        return [int(v) for v in values if v.isdigit()]

    if wanted.get("clinic.patient"):
        for pk, first, last in Patient.objects.filter(
            pk__in=ints(wanted["clinic.patient"])
        ).values_list("pk", "first_name", "last_name"):
            names["clinic.patient", str(pk)] = (f"{first} {last}", pk)
    for label, model, noun in (
        ("triage.intake", Intake, "Self-assessment"),
        ("exercises.assignment", Assignment, "Plan"),
        ("clinic.clinicalnote", ClinicalNote, "Note"),
    ):
        if wanted.get(label):
            for pk, patient_id, first, last in model.objects.filter(  # type: ignore[attr-defined]
                pk__in=ints(wanted[label])
            ).values_list("pk", "patient_id", "patient__first_name", "patient__last_name"):
                names[label, str(pk)] = (f"{noun} of {first} {last}", patient_id)
    return names


def staff_choices(clinic: Clinic) -> list[tuple[int, str]]:
    return [
        (member.user_id, member.display_name)
        for member in StaffMember.objects.filter(clinic=clinic)
        .select_related("user")
        .order_by("user__first_name", "user__last_name")
    ]
