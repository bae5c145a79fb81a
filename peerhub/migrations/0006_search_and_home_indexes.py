"""Indexes for search and the home page at a real community's size (issue 17).

PostgreSQL only (SQLite gets nothing: its tables stay small and its search matches text):
- pg_trgm GIN indexes on the expressions member search filters with (`UPPER(col::text) LIKE
  UPPER('%word%')`, what Django's icontains writes), so it no longer scans every member;
- the latest signatures of a version, newest first, without sorting the whole version.
Built CONCURRENTLY (so outside a transaction) to leave writes running on a live site."""

from django.db import migrations

INDEXES = [
    ("user_username_trgm", "peerhub_user", "gin ((UPPER(username::text)) gin_trgm_ops)"),
    ("user_display_name_trgm", "peerhub_user", "gin ((UPPER(display_name::text)) gin_trgm_ops)"),
    ("user_skills_trgm", "peerhub_user", "gin ((UPPER(skills::text)) gin_trgm_ops)"),
    ("user_bio_trgm", "peerhub_user", "gin ((UPPER(bio::text)) gin_trgm_ops)"),
    (
        "signature_version_signed",
        "peerhub_manifestosignature",
        "btree (version_id, signed_at DESC, id DESC)",
    ),
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, definition in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING {definition}"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("peerhub", "0005_text_limits"), ("challenges", "0005_text_limits")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
