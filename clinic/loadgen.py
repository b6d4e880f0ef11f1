"""A realistic busy clinic, built fast: `python manage.py seed_load --patients N`.

Years of history for N patients: self-assessments scored by the real scoring
code (once per answer profile, then reused as precomputed JSON), exercise
plans with months of session logs, consults, clinical notes and audit rows.
Everything is written with bulk_create in batches, never through the services
(no emails, no per-row queries), so 10,000 patients take seconds.

Used by the dashboard benchmark and by the tests that check the dashboard's
query counts do not grow with the clinic.
"""

from __future__ import annotations

import random
import secrets
import time as clock
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from clinic.models import (
    AuditEvent,
    Clinic,
    ClinicalNote,
    Consult,
    ConsultType,
    Patient,
    StaffMember,
    User,
)
from exercises.models import (
    DOSAGE_FIELDS,
    Assignment,
    AssignmentItem,
    Program,
    ProgramItem,
    SessionLog,
)
from triage import engine, scoring
from triage.models import RISK_RANK, Intake

BATCH = 2000


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    "Aisha Alex Amara Ben Bea Callum Chloe Dan Dev Ella Emeka Erin Farah Finn Gemma Grace "
    "Hamza Hana Isla Ivan Jack Jade Jamal Kai Kate Leo Lena Liam Mai Maya Noah Nia Olga Omar "
    "Pia Priya Quinn Ravi Rosa Ruth Sam Sara Theo Tom Uma Vik Wren Yara Yusuf Zoe Zak"
)
LAST_NAMES = _words(
    "Adeyemi Ahmed Baker Brown Byrne Campbell Carter Chen Clarke Davies Dubois Evans Fischer "
    "Garcia Green Hall Hughes Ibrahim Jones Kaur Kelly Khan Kowalski Lee Lewis Lopez Martin "
    "Morgan Murphy Nair Novak Okafor Patel Rossi Santos Schmidt Shah Singh Smith Taylor "
    "Thomas Turner Walker Ward White Williams Wilson Wright Young Zhang"
)
CLINICIAN_NAMES = [
    ("Hannah", "Price"),
    ("Marcus", "Obi"),
    ("Sofia", "Reyes"),
    ("Declan", "Walsh"),
    ("Meera", "Iyer"),
    ("Jonas", "Berg"),
    ("Ama", "Mensah"),
    ("Luca", "Ferri"),
    ("Rhiannon", "Lloyd"),
    ("Tariq", "Aziz"),
    ("Ingrid", "Holm"),
    ("Kwame", "Asante"),
]
DAY_PATTERNS = [[0, 2, 4], [1, 3, 5], [0, 2, 4, 6], [1, 4], [0, 1, 2, 3, 4], [0, 3, 5]]
NOTE_TEXTS = [
    "Initial assessment done. Explained load management; start the plan gently.",
    "Reviewed technique over video. Bridges much better; progress to single leg next week.",
    "Reports less pain after runs. Keep mileage flat for two more weeks.",
    "Discussed sleep and stress. Lighter training this week, then review.",
    "Flare-up after a hilly long run. Back to the previous week's dosage.",
    "Good progress. Plan to discharge after the next review if it holds.",
]

NO_FLAGS = {item.code: False for item in engine.get_instrument("red_flags").items}
RED_FLAG_PROFILES = [
    # (weight, flags answered yes)
    (85.0, ()),
    (6.0, ("night_pain",)),
    (4.0, ("age_under_20_or_over_50_new_pain", "no_improvement_month")),
    (3.5, ("significant_trauma",)),
    (1.5, ("saddle_numbness",)),  # urgent: possible cauda equina
]
RUNNER_PROFILES = [
    {
        "pain_timing": "only_when_running",
        "pain_location": "one_side",
        "pain_into_leg": False,
        "numbness_or_weakness": False,
        "pain_duration": "two_to_six_weeks",
        "load_jump": False,
        "shoe_km": 300,
        "running_surface": ["road", "trail_or_grass"],
        "glute_test_result": "lower_back_hardest",
        "hip_flexor_test_result": "moves_forward_easily",
        "plank_hold_seconds": 60,
        "sleep": "good",
        "stress": "low",
    },
    {
        "pain_timing": "only_when_running",
        "pain_location": "across_back",
        "pain_into_leg": False,
        "numbness_or_weakness": False,
        "pain_duration": "less_than_two_weeks",
        "load_jump": True,
        "load_jump_detail": ["distance"],
        "shoe_km": 650,
        "running_surface": ["road"],
        "glute_test_result": "about_the_same",
        "hip_flexor_test_result": "moves_forward_easily",
        "plank_hold_seconds": 45,
        "sleep": "ok",
        "stress": "medium",
    },
    {
        "pain_timing": "only_when_running",
        "pain_location": "one_side",
        "pain_into_leg": False,
        "numbness_or_weakness": False,
        "pain_duration": "six_to_twelve_weeks",
        "load_jump": False,
        "shoe_km": 200,
        "running_surface": ["track", "road"],
        "glute_test_result": "glutes_hardest",
        "hip_flexor_test_result": "cannot_move_forward_much",
        "plank_hold_seconds": 20,
        "sleep": "poor",
        "stress": "high",
    },
    {
        "pain_timing": "other_times_too",
        "pain_location": "one_side",
        "pain_into_leg": True,
        "pain_into_leg_how_far": "buttock_or_thigh",
        "numbness_or_weakness": False,
        "pain_duration": "more_than_twelve_weeks",
        "load_jump": False,
        "shoe_km": 100,
        "running_surface": ["treadmill"],
        "glute_test_result": "could_not_do_it",
        "hip_flexor_test_result": "could_not_do_it",
        "sleep": "ok",
        "stress": "medium",
    },
]
STARTBACK_PROFILES = [
    # (weight, items answered yes, bothersomeness) -> low, medium, high risk
    (55.0, ("dressing_slowly",), "slightly"),
    (
        30.0,
        ("referred_leg_pain", "walking_short_distances", "fear_avoidance", "anxiety"),
        "moderately",
    ),
    (
        15.0,
        ("comorbid_shoulder_neck_pain", "fear_avoidance", "anxiety", "catastrophising", "low_mood"),
        "very_much",
    ),
]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _scored(code: str, answers: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(answers as stored, score as stored), by the real validation and scoring."""
    clean = engine.validate_answers(engine.get_instrument(code), answers)
    return _jsonable(clean), scoring.score(code, answers).to_dict()


@dataclass
class Bank:
    """Every answer profile scored once; intakes reuse the dicts."""

    red_flags: list[tuple[float, dict[str, Any], dict[str, Any]]]
    nprs: dict[int, tuple[dict[str, Any], dict[str, Any]]]
    runner: list[tuple[dict[str, Any], dict[str, Any]]]
    startback: list[tuple[float, dict[str, Any], dict[str, Any]]]
    versions: dict[str, str]

    @classmethod
    def build(cls) -> Bank:
        red_flags = []
        for weight, flags in RED_FLAG_PROFILES:
            red_flags.append(
                (weight, *_scored("red_flags", {**NO_FLAGS, **dict.fromkeys(flags, True)}))
            )
        nprs = {
            now: _scored(
                "nprs",
                {"pain_now": now, "pain_worst_week": min(10, now + 2), "pain_average_week": now},
            )
            for now in range(11)
        }
        runner = [_scored("runner_back", answers) for answers in RUNNER_PROFILES]
        startback_items = [item.code for item in engine.get_instrument("startback").items]
        startback = []
        for weight, yes, bother in STARTBACK_PROFILES:
            answers: dict[str, Any] = {code: code in yes for code in startback_items}
            answers["bothersomeness"] = bother
            startback.append((weight, *_scored("startback", answers)))
        versions = {
            code: engine.get_instrument(code).version
            for code in ("red_flags", "nprs", "runner_back", "startback")
        }
        return cls(red_flags, nprs, runner, startback, versions)


@dataclass
class Result:
    clinic: Clinic
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@contextmanager
def _explicit_created_at(*model_classes: type[models.Model]) -> Iterator[None]:
    """History needs past creation times: bulk_create would stamp `now` on
    auto_now_add fields, so they are switched off while the rows are built."""
    fields = [
        f
        for model in model_classes
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now_add", False)
    ]
    for f in fields:
        f.auto_now_add = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True  # type: ignore[attr-defined]


class _Slots:
    """Hourly consult slots per clinician and local day, so booked consults
    never overlap (PostgreSQL's exclusion constraint would refuse them)."""

    def __init__(self) -> None:
        self.taken: set[tuple[int, date, int]] = set()

    def take(
        self, rng: random.Random, clinician_id: int, day: date, hours: list[int]
    ) -> int | None:
        free = [h for h in hours if (clinician_id, day, h) not in self.taken]
        if not free:
            return None
        hour = rng.choice(free)
        self.taken.add((clinician_id, day, hour))
        return hour


class Builder:
    def __init__(
        self,
        *,
        clinic: Clinic,
        patients: int,
        clinicians: int,
        seed: int,
        years: float,
        now: datetime | None = None,
    ) -> None:
        self.clinic = clinic
        self.n_patients = patients
        self.n_clinicians = clinicians
        self.rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
        self.years = years
        self.now = now or timezone.now()
        self.zone = clinic.zone
        self.today = self.now.astimezone(self.zone).date()
        self.bank = Bank.build()
        self.token = secrets.token_hex(3)
        self.slots = _Slots()
        self.counts: dict[str, int] = {}

    # Helpers -----------------------------------------------------------------

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone).astimezone(UTC)

    def weighted(self, options: list[Any]) -> Any:
        return self.rng.choices(options, weights=[o[0] for o in options])[0]

    def save(self, model: type[models.Model], rows: list[Any], batch: int = BATCH) -> list[Any]:
        created = model.objects.bulk_create(rows, batch_size=batch)
        key = model._meta.verbose_name_plural
        self.counts[str(key)] = self.counts.get(str(key), 0) + len(rows)
        return created

    # Steps ---------------------------------------------------------------------

    def staff(self) -> list[StaffMember]:
        password = make_password(None)  # unusable: load clinicians never sign in by password
        domain = f"{self.clinic.slug}.load.example.com"
        for n in range(self.n_clinicians):
            first, last = CLINICIAN_NAMES[n % len(CLINICIAN_NAMES)]
            email = f"physio{n + 1}@{domain}"
            user, _ = User.objects.get_or_create(
                email=email, defaults={"first_name": first, "last_name": last, "password": password}
            )
            StaffMember.objects.get_or_create(
                user=user,
                defaults={
                    "clinic": self.clinic,
                    "role": StaffMember.Role.CLINICIAN,
                    "job_title": "Physiotherapist",
                },
            )
        reception, _ = User.objects.get_or_create(
            email=f"reception@{domain}",
            defaults={"first_name": "Robin", "last_name": "Desk", "password": password},
        )
        StaffMember.objects.get_or_create(
            user=reception,
            defaults={"clinic": self.clinic, "role": StaffMember.Role.RECEPTIONIST},
        )
        pool = list(
            StaffMember.objects.filter(
                clinic=self.clinic, role=StaffMember.Role.CLINICIAN, is_active=True
            ).select_related("user")
        )
        # Booked consults already in the diary keep their hours.
        for consult in Consult.objects.filter(
            clinician__in=pool,
            status=Consult.Status.BOOKED,
            blocked_until__gt=self.local(self.today, 0),
        ):
            start = consult.starts_at.astimezone(self.zone)
            end = consult.blocked_until.astimezone(self.zone)
            moment = start.replace(minute=0, second=0, microsecond=0)
            while moment < end:
                self.slots.taken.add((consult.clinician_id, moment.date(), moment.hour))
                moment += timedelta(hours=1)
        return pool

    def consult_types(self) -> tuple[ConsultType, ConsultType]:
        first, _ = ConsultType.objects.get_or_create(
            clinic=self.clinic,
            name="Initial assessment",
            defaults={"duration_minutes": 45, "buffer_minutes": 10},
        )
        follow, _ = ConsultType.objects.get_or_create(
            clinic=self.clinic,
            name="Follow-up",
            defaults={"duration_minutes": 30, "buffer_minutes": 10},
        )
        return first, follow

    def programs(self) -> tuple[list[Program], dict[str, Program]]:
        programs = list(Program.objects.filter(clinic=None))
        if not programs:
            from exercises.library.loader import load_library

            load_library()
            programs = list(Program.objects.filter(clinic=None))
        return programs, {p.slug: p for p in programs}

    def build(self) -> dict[str, int]:
        pool = self.staff()
        first_type, follow_type = self.consult_types()
        programs, by_slug = self.programs()
        rng = self.rng
        span = int(self.years * 365)

        # Patients, each with one to three episodes of care over the years.
        patients: list[Patient] = []
        episodes: list[list[date]] = []
        for n in range(self.n_patients):
            count = rng.choices([1, 2, 3], weights=[72, 23, 5])[0]
            starts = sorted(self.today - timedelta(days=rng.randint(0, span)) for _ in range(count))
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            created = self.local(starts[0] - timedelta(days=rng.randint(0, 3)), rng.randint(7, 21))
            consent = rng.random() < 0.9
            patients.append(
                Patient(
                    clinic=self.clinic,
                    first_name=first,
                    last_name=last,
                    email=f"{first}.{last}.{self.token}{n}@example.com".lower(),
                    phone=f"07700 9{rng.randint(0, 99999):05d}",
                    date_of_birth=date(
                        rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)
                    ),
                    time_zone=self.clinic.time_zone,
                    consent_email=consent,
                    consent_email_at=created if consent else None,
                    created_at=min(created, self.now),
                )
            )
            episodes.append(starts)
        patients = self.save(Patient, patients)

        intakes: list[Intake] = []
        plans: list[Assignment] = []
        plan_meta: list[tuple[int, str, float]] = []  # (pain at start, trend, adherence)
        consults: list[Consult] = []
        notes: list[ClinicalNote] = []
        audits: list[AuditEvent] = []
        recent_cut = self.now - timedelta(days=4)

        for patient, starts in zip(patients, episodes, strict=True):
            clinician = rng.choice(pool)
            for start in starts:
                _, flag_answers, flag_scores = self.weighted(self.bank.red_flags)
                pain = rng.randint(2, 8)
                nprs_answers, nprs_scores = self.bank.nprs[pain]
                runner_answers, runner_scores = rng.choice(self.bank.runner)
                _, back_answers, back_scores = self.weighted(self.bank.startback)
                at = self.local(start, rng.randint(6, 22), rng.randint(0, 59))
                if at > self.now:
                    at = self.now - timedelta(minutes=rng.randint(1, 600))
                reviewed = at < recent_cut or rng.random() < 0.3
                risk = back_scores["risk"] or ""
                slug = runner_scores["suggested_program_slug"]
                intakes.append(
                    Intake(
                        clinic=self.clinic,
                        patient=patient,
                        created_at=at,
                        answers={
                            "red_flags": flag_answers,
                            "nprs": nprs_answers,
                            "runner_back": runner_answers,
                            "startback": back_answers,
                        },
                        versions=self.bank.versions,
                        scores={
                            "red_flags": flag_scores,
                            "nprs": nprs_scores,
                            "runner_back": runner_scores,
                            "startback": back_scores,
                        },
                        urgent=flag_scores["urgent"],
                        risk=risk,
                        risk_rank=RISK_RANK.get(risk, 0),
                        red_flags=flag_scores["red_flags"],
                        factors=[f["code"] for f in runner_scores["factors"]],
                        suggested_program=by_slug.get(slug) if slug else None,
                        consent_at=at,
                        status=Intake.Status.REVIEWED if reviewed else Intake.Status.NEW,
                        reviewed_by=clinician.user if reviewed else None,
                        reviewed_at=at + timedelta(hours=rng.randint(1, 30)) if reviewed else None,
                    )
                )
                audits.append(
                    AuditEvent(
                        clinic=self.clinic,
                        actor=clinician.user,
                        action=AuditEvent.Action.VIEW,
                        object_type="clinic.patient",
                        object_id=str(patient.pk),
                        ip_address="10.0.0.12",
                        at=min(at + timedelta(hours=2), self.now),
                    )
                )

                # The first consult a few days after the self-assessment.
                first_day = start + timedelta(days=rng.randint(1, 5))
                self.consult(consults, patient, clinician, first_type, first_day)
                if first_day < self.today:
                    notes.append(
                        ClinicalNote(
                            clinic=self.clinic,
                            patient=patient,
                            author=clinician.user,
                            body=rng.choice(NOTE_TEXTS),
                            created_at=self.local(first_day, 18),
                        )
                    )

                # A plan for most; the newest self-assessments are not seen yet.
                plan_start = first_day + timedelta(days=rng.randint(0, 2))
                if plan_start > self.today or rng.random() > 0.85:
                    continue
                program = by_slug.get(slug) if slug and rng.random() < 0.7 else rng.choice(programs)
                assert program is not None
                weeks = rng.choice([4, 6, 8])
                end = plan_start + timedelta(weeks=weeks, days=-1)
                if end < self.today:
                    status = Assignment.Status.ENDED
                else:
                    status = (
                        Assignment.Status.PAUSED
                        if rng.random() < 0.04
                        else Assignment.Status.ACTIVE
                    )
                plans.append(
                    Assignment(
                        clinic=self.clinic,
                        patient=patient,
                        program=program,
                        name=program.name,
                        goal=program.goal,
                        start_date=plan_start,
                        end_date=end,
                        days_of_week=rng.choice(DAY_PATTERNS),
                        reminder_time=time(rng.choice([7, 8, 18])),
                        status=status,
                        created_by=clinician.user,
                        created_at=self.local(plan_start, 9),
                    )
                )
                roll = rng.random()
                trend = "flare" if roll < 0.08 else "drop" if roll < 0.18 else "steady"
                plan_meta.append((pain, trend, rng.uniform(0.45, 0.97)))
                follow_day = plan_start + timedelta(days=rng.randint(14, 21))
                self.consult(consults, patient, clinician, follow_type, follow_day)

                # A repeat self-assessment after some plans.
                repeat_day = end + timedelta(days=rng.randint(0, 10))
                if repeat_day < self.today and rng.random() < 0.4:
                    later = max(0, min(10, pain + rng.choice([-4, -3, -2, -2, -1, 0, 1, 2])))
                    nprs_answers, nprs_scores = self.bank.nprs[later]
                    at = self.local(repeat_day, rng.randint(7, 21))
                    intakes.append(
                        Intake(
                            clinic=self.clinic,
                            patient=patient,
                            created_at=at,
                            answers={
                                "red_flags": self.bank.red_flags[0][1],
                                "nprs": nprs_answers,
                                "runner_back": runner_answers,
                                "startback": back_answers,
                            },
                            versions=self.bank.versions,
                            scores={
                                "red_flags": self.bank.red_flags[0][2],
                                "nprs": nprs_scores,
                                "runner_back": runner_scores,
                                "startback": back_scores,
                            },
                            risk=risk,
                            risk_rank=RISK_RANK.get(risk, 0),
                            factors=[f["code"] for f in runner_scores["factors"]],
                            suggested_program=program,
                            consent_at=at,
                            status=Intake.Status.REVIEWED,
                            reviewed_by=clinician.user,
                            reviewed_at=at + timedelta(hours=5),
                        )
                    )

        self.todays_diary(pool, patients, consults, first_type, follow_type)
        self.save(Intake, intakes, batch=500)
        plans = self.save(Assignment, plans)
        self.plan_items(plans)
        self.logs(plans, plan_meta)
        self.save(Consult, consults)
        self.save(ClinicalNote, notes)
        self.save(AuditEvent, audits)
        return self.counts

    def consult(
        self,
        consults: list[Consult],
        patient: Patient,
        clinician: StaffMember,
        kind: ConsultType,
        day: date,
        hours: list[int] | None = None,
    ) -> None:
        rng = self.rng
        past = day < self.today
        if past:
            hour: int | None = rng.randint(8, 17)
            status = rng.choices(
                [Consult.Status.COMPLETED, Consult.Status.NO_SHOW, Consult.Status.CANCELLED],
                weights=[86, 4, 10],
            )[0]
        else:
            hour = self.slots.take(rng, clinician.pk, day, hours or list(range(8, 18)))
            status = Consult.Status.BOOKED
        if hour is None:
            return
        starts = self.local(day, hour)
        ends = starts + timedelta(minutes=kind.duration_minutes)
        consults.append(
            Consult(
                clinic=self.clinic,
                clinician=clinician,
                patient=patient,
                consult_type=kind,
                starts_at=starts,
                ends_at=ends,
                blocked_until=ends + timedelta(minutes=kind.buffer_minutes),
                status=status,
                video_url=f"https://meet.example.com/{self.clinic.slug}-{secrets.token_hex(6)}",
                created_by=clinician.user,
                created_at=min(starts - timedelta(days=rng.randint(1, 10)), self.now),
                cancelled_at=starts - timedelta(days=1)
                if status == Consult.Status.CANCELLED
                else None,
            )
        )

    def todays_diary(
        self,
        pool: list[StaffMember],
        patients: list[Patient],
        consults: list[Consult],
        first_type: ConsultType,
        follow_type: ConsultType,
    ) -> None:
        """A working day for every clinician: five or six consults today."""
        for clinician in pool:
            for _ in range(self.rng.randint(5, 6)):
                kind = self.rng.choice([first_type, follow_type, follow_type])
                self.consult(
                    consults,
                    self.rng.choice(patients),
                    clinician,
                    kind,
                    self.today,
                    hours=[9, 10, 11, 12, 14, 15, 16, 17],
                )

    def plan_items(self, plans: list[Assignment]) -> None:
        """Each plan gets its own copy of its program's items, as assignment_create
        makes. One INSERT ... SELECT does it inside the database: over a hundred
        thousand rows would otherwise make the round trip through Python."""
        if not plans:
            return
        item, template = AssignmentItem._meta, ProgramItem._meta
        columns = ["exercise_id", *(f for f in DOSAGE_FIELDS)]
        quote = connection.ops.quote_name
        target = ", ".join(quote(c) for c in columns)
        source = ", ".join(f"p.{quote(c)}" for c in columns)
        ids = [plan.pk for plan in plans]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(item.db_table)} (assignment_id, {target}) "  # noqa: S608
                f"SELECT a.id, {source} FROM {quote(Assignment._meta.db_table)} a "
                f"JOIN {quote(template.db_table)} p ON p.program_id = a.program_id "
                "WHERE a.clinic_id = %s AND a.id BETWEEN %s AND %s",
                [self.clinic.pk, min(ids), max(ids)],
            )
            copied = cursor.rowcount
        key = str(item.verbose_name_plural)
        self.counts[key] = self.counts.get(key, 0) + copied

    def logs(self, plans: list[Assignment], meta: list[tuple[int, str, float]]) -> None:
        """Session logs up to yesterday: pain easing with noise for most, a
        flare-up or a drop in adherence over the last fortnight for some."""
        rng = self.rng
        yesterday = self.today - timedelta(days=1)
        credit = (
            [SessionLog.Completion.ALL] * 15
            + [SessionLog.Completion.SOME] * 4
            + [SessionLog.Completion.NONE]
        )
        rows: list[SessionLog] = []
        for plan, (pain, trend, adherence) in zip(plans, meta, strict=True):
            last = min(plan.end_date, yesterday)
            days = plan.session_days(plan.start_date, last) if last >= plan.start_date else []
            total = max(1, (plan.end_date - plan.start_date).days)
            recent = self.today - timedelta(days=14)
            for day in days:
                late = day >= recent and plan.status == Assignment.Status.ACTIVE
                chance = 0.15 if trend == "drop" and late else adherence
                if rng.random() > chance:
                    continue
                progress = (day - plan.start_date).days / total
                level = pain - 3 * progress + rng.uniform(-1, 1)
                if trend == "flare" and late:
                    level = pain + 1 + rng.uniform(0, 1.5)
                rows.append(
                    SessionLog(
                        assignment=plan,
                        date=day,
                        completion=rng.choice(credit),
                        pain=max(0, min(10, round(level))) if rng.random() < 0.9 else None,
                        effort=rng.choice(["easy", "ok", "ok", "hard"]),
                        created_at=self.local(day, 19),
                    )
                )
                if len(rows) >= BATCH * 5:
                    self.save(SessionLog, rows)
                    rows = []
        self.save(SessionLog, rows)


def build(
    *,
    patients: int,
    clinic_slug: str = "load",
    clinicians: int | None = None,
    seed: int = 1,
    years: float = 3.0,
    now: datetime | None = None,
) -> Result:
    """Add `patients` patients with years of history to the clinic `clinic_slug`
    (created if missing). Each run adds new patients."""
    started = clock.perf_counter()
    clinic, _ = Clinic.objects.get_or_create(
        slug=clinic_slug,
        defaults={
            "name": "Load Test Physio" if clinic_slug == "load" else clinic_slug.title(),
            "contact_email": f"hello@{clinic_slug}.load.example.com",
            "time_zone": "Europe/London",
        },
    )
    clinicians = clinicians or max(3, min(12, patients // 1000 + 2))
    with (
        transaction.atomic(),
        _explicit_created_at(Patient, Intake, Assignment, SessionLog, Consult),
    ):
        builder = Builder(
            clinic=clinic,
            patients=patients,
            clinicians=clinicians,
            seed=seed,
            years=years,
            now=now,
        )
        counts = builder.build()
    if connection.vendor == "postgresql":
        # Fresh statistics, so the planner sees the new rows straight away
        # instead of after autovacuum's next pass.
        with connection.cursor() as cursor:
            for model in (Patient, Intake, Assignment, AssignmentItem, SessionLog, Consult):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return Result(clinic=clinic, counts=counts, seconds=clock.perf_counter() - started)
