"""No double booking on PostgreSQL: an exclusion constraint over a clinician's
active consults and the time they block (start to end plus buffer).

SQLite has no exclusion constraints; there the booking service re-checks for
overlaps inside an IMMEDIATE transaction, which holds the database's write lock.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE clinic_consult ADD CONSTRAINT consult_no_overlap
    EXCLUDE USING gist (
        clinician_id WITH =,
        tstzrange(starts_at, blocked_until, '[)') WITH &&
    ) WHERE (status = 'booked');
"""
DROP = "ALTER TABLE clinic_consult DROP CONSTRAINT IF EXISTS consult_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0002_consults")]
    operations = [migrations.RunPython(forwards, backwards)]
