"""The ledger's touches (issue 17): on PostgreSQL, triggers on the facts the ledger's lines derive
from write a row into `reputation_ledgertouch` in the statement that changed them, so that the
nightly rebuild checks only what changed since its last run (reputation.touches). One statement-
level trigger per table and operation, reading the statement's rows from its transition tables
(a bulk COPY of a million votes writes one touch per solution, not per vote).

What each table's change names (where `_desired_and_notes` files the lines it gives):
- a vote or a review: its solution;
- a solution: itself and its descendants (its author, status or place in a lineage changed,
  which lineage credit reads), and its parent (whose `forked:` lines it gives); an update that
  changes only its counters, title, revision or search text names nothing;
- an upstream proposal: the solution proposed to and the fork;
- an email address: its member (verified voters and reviewers only give lines);
- a ledger line changed or deleted (only appending should ever happen): everything (an emptied
  ledger is derived whole anyway).

Elsewhere (SQLite) there are no triggers and the nightly rebuild checks everything."""

# ruff: noqa: S608 (the statements are built from this module's constants only)

import django.utils.timezone
from django.db import migrations, models

TOUCH = "reputation_ledgertouch"

# Solution columns that no line reads: a change of these alone names nothing.
SOLUTION_IGNORED = (
    "title", "revision_count", "fork_count", "descendant_count", "comment_count", "updated_at",
    "current_revision_id", "search_vector", "hidden_reason", "language",
)  # fmt: skip


def _each(touch: str, column: str) -> str:
    """A body that names, in the touch's column `touch`, each distinct `column` of the rows the
    statement wrote and of those it replaced or deleted."""
    return f"""
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO {TOUCH} ({touch}) SELECT DISTINCT {column} FROM new_rows;
        END IF;
        IF TG_OP <> 'INSERT' THEN
            INSERT INTO {TOUCH} ({touch}) SELECT DISTINCT {column} FROM old_rows;
        END IF;"""


# (table, function body): each body may read `new_rows` (INSERT, UPDATE) and `old_rows`
# (UPDATE, DELETE); `TG_OP` says which statement fired it.
_IGNORED = "ARRAY[" + ", ".join(f"'{c}'" for c in SOLUTION_IGNORED) + "]"
FUNCTIONS = {
    "reputation_vote": _each("solution_id", "solution_id"),
    "reputation_review": _each("solution_id", "solution_id"),
    "challenges_solution": f"""
        IF TG_OP = 'INSERT' THEN
            INSERT INTO {TOUCH} (solution_id)
            SELECT id FROM new_rows UNION SELECT parent_id FROM new_rows
            WHERE parent_id IS NOT NULL;
        ELSIF TG_OP = 'UPDATE' THEN
            INSERT INTO {TOUCH} (solution_id, lineage)
            SELECT c.id, c.lineage FROM (
                SELECT n.id, o.parent_id AS was, n.parent_id AS now FROM new_rows n
                JOIN old_rows o ON o.id = n.id
                WHERE to_jsonb(n) - {_IGNORED}::text[] IS DISTINCT FROM
                    to_jsonb(o) - {_IGNORED}::text[]
            ) changed CROSS JOIN LATERAL (
                VALUES (changed.id, true), (changed.was, false), (changed.now, false)
            ) c (id, lineage)
            WHERE c.id IS NOT NULL;
        ELSE
            INSERT INTO {TOUCH} (solution_id, lineage)
            SELECT id, true FROM old_rows UNION SELECT parent_id, false FROM old_rows
            WHERE parent_id IS NOT NULL;
        END IF;""",
    "challenges_upstreamproposal": f"""
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO {TOUCH} (solution_id)
            SELECT parent_id FROM new_rows UNION SELECT fork_id FROM new_rows;
        END IF;
        IF TG_OP <> 'INSERT' THEN
            INSERT INTO {TOUCH} (solution_id)
            SELECT parent_id FROM old_rows UNION SELECT fork_id FROM old_rows;
        END IF;""",
    "account_emailaddress": _each("member_id", "user_id"),
    "reputation_reputationevent": f"""
        INSERT INTO {TOUCH} (whole) VALUES (true);""",
}


def _function(table: str) -> str:
    return f"reputation_touch_{table}"


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, body in FUNCTIONS.items():
        function = _function(table)
        schema_editor.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f"{body}\n        RETURN NULL;\n    END $$"
        )
        if table == "reputation_reputationevent":
            # Appending is what the ledger does: only a change or a deletion names everything.
            # (An emptied ledger is derived whole anyway: `ledger.sync_everything`.)
            events = [("UPDATE", ""), ("DELETE", "")]
        else:
            events = [
                ("INSERT", "NEW TABLE AS new_rows"),
                ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                ("DELETE", "OLD TABLE AS old_rows"),
            ]
        for event, tables in events:
            referencing = f" REFERENCING {tables}" if tables else ""
            schema_editor.execute(
                f"CREATE TRIGGER {function}_{event.lower()} AFTER {event} ON {table}"
                f"{referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in FUNCTIONS:
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {_function(table)}() CASCADE")


class Migration(migrations.Migration):
    dependencies = [
        ("account", "0009_emailaddress_unique_primary_email"),
        ("challenges", "0020_visitor_check_indexes"),
        ("reputation", "0022_score_is_copy"),
    ]

    operations = [
        migrations.CreateModel(
            name="LedgerTouch",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("solution_id", models.BigIntegerField(null=True)),
                ("member_id", models.BigIntegerField(null=True)),
                ("lineage", models.BooleanField(db_default=False, default=False)),
                ("whole", models.BooleanField(db_default=False, default=False)),
            ],
        ),
        migrations.CreateModel(
            name="LedgerCheck",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("ran_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("whole", models.BooleanField()),
                ("reason", models.CharField(blank=True, default="", max_length=200)),
                ("rules", models.CharField(max_length=64)),
                ("snapshot_id", models.BigIntegerField(null=True)),
                ("last_line_id", models.BigIntegerField()),
                ("solutions", models.PositiveIntegerField(default=0)),
                ("appended", models.PositiveIntegerField(default=0)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["whole", "ran_at"], name="ledger_check_whole_time")
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
