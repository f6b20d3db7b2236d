"""Django's `migrate`, one at a time per PostgreSQL database.

App Platform runs the pre-deploy migrate job once per deploy, but two deploys close together (or
an operator's manual run beside the job) start two at once. Unserialised, both see the same
unapplied migrations and race to create the same tables and rows, and one of them fails the
deploy. A session-level advisory lock makes the second wait, then find nothing left to do.
"""

from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections

# Any constant shared by every HRP process; advisory locks are scoped to their database.
MIGRATE_LOCK_ID = 4_801_290_514


class Command(MigrateCommand):
    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            return super().handle(*args, **options)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATE_LOCK_ID])
            if not cursor.fetchone()[0]:
                self.stdout.write("Another migrate is running on this database; waiting for it.")
                cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK_ID])
        try:
            return super().handle(*args, **options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_ID])
