from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.services import demo_users_ensure
from races.demo import demo_data_seed


class Command(BaseCommand):
    help = (
        "Fill the database with synthetic demo racing data and the demo logins. "
        "Deterministic for a seed and a day; safe and quick to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=7, help="Random seed (default 7).")
        parser.add_argument(
            "--days-ahead",
            type=int,
            default=3,
            help="Declared races from today to this many days ahead (default 3).",
        )
        parser.add_argument(
            "--history-days",
            type=int,
            default=120,
            help="Days of results before today (default 120).",
        )

        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Run even with DJANGO_DEBUG off. The demo logins have published passwords.",
        )

    def handle(
        self,
        *args,
        seed: int,
        days_ahead: int,
        history_days: int,
        allow_without_debug: bool,
        **options,
    ) -> None:
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError(
                "seed_demo creates logins with published passwords, so it runs only with "
                "DJANGO_DEBUG=true (or --allow-without-debug on a machine no one else reaches)"
            )
        if days_ahead < 0 or history_days < 0:
            raise CommandError("--days-ahead and --history-days cannot be negative")
        today = timezone.localdate()
        report = demo_data_seed(
            seed=seed, today=today, days_ahead=days_ahead, history_days=history_days
        )
        logins = demo_users_ensure()

        self.stdout.write(f"Demo data for {today:%Y-%m-%d}, seed {seed}:")
        for label, count in (
            ("racecourses", report.racecourses),
            ("horses", report.horses),
            ("jockeys", report.jockeys),
            ("trainers", report.trainers),
            ("races with results", report.result_races),
            ("declared races", report.declared_races),
            ("runners", report.runners),
        ):
            self.stdout.write(f"  {label}: {count}")
        self.stdout.write(
            f"  rows written: {report.created} created, {report.updated} updated, "
            f"{report.deleted} deleted"
        )
        for username, password in logins:
            role = username.removeprefix("demo-")
            self.stdout.write(f"Demo {role} login: {username} / {password}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
