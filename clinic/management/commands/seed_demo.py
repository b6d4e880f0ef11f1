"""Demo data for trying the product: `python manage.py seed_demo`.

Idempotent: running it again updates the same rows and resets the demo
passwords, so the printed logins always work.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from clinic.models import Clinic, Patient, StaffMember, User

DEMO_LOGINS = [
    # email, password, first, last, role (None = patient)
    ("physio@example.com", "backstride-physio", "Alex", "Morgan", StaffMember.Role.CLINICIAN),
    (
        "reception@example.com",
        "backstride-reception",
        "Robin",
        "Hale",
        StaffMember.Role.RECEPTIONIST,
    ),
    ("admin@example.com", "backstride-admin", "Casey", "Shaw", StaffMember.Role.ADMIN),
    ("patient@example.com", "backstride-patient", "Jamie", "Rivers", None),
]

MORE_PATIENTS = [
    ("Priya", "Nair", "priya.nair@example.com", date(1988, 4, 12)),
    ("Tom", "Okafor", "tom.okafor@example.com", date(1979, 9, 30)),
    ("Maria", "Lopez", "maria.lopez@example.com", date(1995, 1, 5)),
    ("Ben", "Carter", "ben.carter@example.com", date(1969, 11, 21)),
]

CLINIC_ADMIN_PERMISSIONS = [
    ("clinic", "view_clinic"),
    ("clinic", "change_clinic"),
    ("clinic", "view_staffmember"),
    ("clinic", "add_staffmember"),
    ("clinic", "change_staffmember"),
    ("clinic", "view_patient"),
    ("clinic", "add_patient"),
    ("clinic", "change_patient"),
    ("clinic", "view_auditevent"),
    ("clinic", "view_user"),
]


class Command(BaseCommand):
    help = "Create or refresh the demo clinic, its staff and patients."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG=0.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates accounts with published passwords; refusing with DEBUG=0. "
                "Use --force if this really is a demo site."
            )
        from exercises.library.loader import load_library

        load_library()
        with transaction.atomic():
            self.seed()
            self.seed_plan()
            self.seed_consults()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in at /accounts/login/ with:"))
        for email, password, *_rest in DEMO_LOGINS:
            self.stdout.write(f"  {email:<24} {password}")

    def seed(self) -> None:
        clinic, _ = Clinic.objects.update_or_create(
            slug="demo",
            defaults={
                "name": "Riverside Running Physio",
                "time_zone": "Europe/London",
                "contact_email": "hello@riverside-physio.example.com",
                "phone": "020 7946 0000",
                "address": "12 Towpath Lane\nLondon SE1 9ZZ",
            },
        )
        other, _ = Clinic.objects.update_or_create(
            slug="northside",
            defaults={
                "name": "Northside Sports Physio",
                "time_zone": "Europe/Dublin",
                "contact_email": "team@northside-physio.example.com",
                "address": "4 Harbour Road\nDublin 1",
            },
        )
        admins, _ = Group.objects.get_or_create(name="Clinic admins")
        admins.permissions.set(
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in CLINIC_ADMIN_PERMISSIONS
        )

        for email, password, first, last, role in DEMO_LOGINS:
            user = self.user(email, password, first, last, is_staff=role == StaffMember.Role.ADMIN)
            if role is None:
                Patient.objects.update_or_create(
                    clinic=clinic,
                    email=email,
                    defaults={
                        "first_name": first,
                        "last_name": last,
                        "user": user,
                        "date_of_birth": date(1990, 6, 15),
                        "time_zone": "Europe/London",
                        "consent_email": True,
                    },
                )
                continue
            StaffMember.objects.update_or_create(
                user=user,
                defaults={
                    "clinic": clinic,
                    "role": role,
                    "is_active": True,
                    "job_title": "Physiotherapist" if role == StaffMember.Role.CLINICIAN else "",
                },
            )
            if role == StaffMember.Role.ADMIN:
                user.groups.add(admins)

        for first, last, email, dob in MORE_PATIENTS:
            Patient.objects.update_or_create(
                clinic=clinic,
                email=email,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "date_of_birth": dob,
                    "consent_email": True,
                },
            )

        # A second clinic, so tenant isolation can be seen in the demo too.
        north = self.user(
            "physio@northside.example.com", "backstride-north", "Niamh", "Byrne", is_staff=False
        )
        StaffMember.objects.update_or_create(
            user=north,
            defaults={
                "clinic": other,
                "role": StaffMember.Role.CLINICIAN,
                "job_title": "Physiotherapist",
            },
        )
        Patient.objects.update_or_create(
            clinic=other,
            email="sean.kelly@example.com",
            defaults={
                "first_name": "Seán",
                "last_name": "Kelly",
                "date_of_birth": date(1984, 3, 2),
            },
        )

    def seed_plan(self) -> None:
        """Priya is three weeks into the runner's starter, so the plan page and
        adherence have something to show."""
        from exercises.models import Assignment, Program
        from exercises.services import assignment_create, session_log_record

        priya = Patient.objects.get(clinic__slug="demo", email="priya.nair@example.com")
        if Assignment.objects.filter(patient=priya).exists():
            return
        physio = User.objects.get(email="physio@example.com")
        today = timezone.localdate()
        plan = assignment_create(
            patient=priya,
            program=Program.objects.get(slug="runners-low-back-starter", clinic=None),
            start_date=today - timedelta(days=18),
            days_of_week=[0, 2, 4, 6],
            reminder_time=time(7, 0),
            created_by=physio,
            notes="Little and often. Keep the bridges slow.",
            notify=False,
        )
        # Her reminder two session days ago bounced: the dashboard shows it.
        from exercises.models import Reminder

        bounced = plan.session_days(plan.start_date, today - timedelta(days=1))[-2]
        Reminder.objects.get_or_create(
            assignment=plan,
            day=bounced,
            defaults={
                "kind": Reminder.Kind.EXERCISE,
                "clinic": plan.clinic,
                "patient": priya,
                "due_at": plan.reminder_at(bounced),
                "send_after": plan.reminder_at(bounced),
                "state": Reminder.State.FAILED,
                "attempts": 1,
                "last_error": f"{priya.email}: 550 5.1.1 Mailbox unavailable",
            },
        )
        pain = 6
        for n, day in enumerate(plan.session_days(plan.start_date, today - timedelta(days=1))):
            if n % 5 == 3:
                continue  # a missed day, as in real life
            pain = max(1, pain - (n % 2))
            session_log_record(
                assignment=plan,
                day=day,
                completion="all" if n % 4 else "some",
                pain=pain,
                effort="ok" if n % 3 else "hard",
            )

    def seed_consults(self) -> None:
        """Online consults: two kinds, the demo physio's weekday hours, and a
        booked consult for Jamie and for Priya so the schedule has something."""
        from clinic import booking
        from clinic.consult_services import consult_book
        from clinic.models import Consult, ConsultType, WorkingHours

        clinic = Clinic.objects.get(slug="demo")
        kinds = {}
        for name, minutes in (("Initial assessment", 45), ("Follow-up", 30)):
            kinds[name], _ = ConsultType.objects.update_or_create(
                clinic=clinic,
                name=name,
                defaults={"duration_minutes": minutes, "buffer_minutes": 15, "is_active": True},
            )
        physio = StaffMember.objects.get(user__email="physio@example.com")
        if not WorkingHours.objects.filter(clinician=physio).exists():
            WorkingHours.objects.bulk_create(
                WorkingHours(clinician=physio, weekday=day, starts=starts, ends=ends)
                for day in range(5)
                for starts, ends in ((time(9, 0), time(13, 0)), (time(14, 0), time(17, 30)))
            )
        now = timezone.now()
        for email, kind, days_ahead, hour in (
            ("patient@example.com", "Initial assessment", 2, 10),
            ("priya.nair@example.com", "Follow-up", 3, 14),
        ):
            patient = Patient.objects.get(clinic=clinic, email=email)
            if Consult.objects.active().filter(patient=patient, starts_at__gt=now).exists():
                continue
            start, end = booking.booking_window(clinic, now=now, by_staff=True)
            slots = booking.open_slots(
                clinic=clinic,
                consult_type=kinds[kind],
                clinicians=[physio],
                start=max(start, now + timedelta(days=days_ahead)),
                end=end,
            )
            slot = next(
                (s for s in slots if s.starts_at.astimezone(clinic.zone).hour >= hour), None
            )
            if slot is None:
                continue
            consult_book(
                clinic=clinic,
                consult_type=kinds[kind],
                clinician=physio,
                starts_at=slot.starts_at,
                patient=patient,
                by_staff=True,
                notify=False,
                now=now,
            )

    def user(self, email: str, password: str, first: str, last: str, *, is_staff: bool) -> User:
        user = User.objects.filter(email=email).first() or User(email=email)
        user.first_name, user.last_name, user.is_staff, user.is_active = first, last, is_staff, True
        user.set_password(password)
        user.save()
        return user
