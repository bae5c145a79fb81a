"""Big appends on PostgreSQL with a table's foreign keys checked once, set-based, and its
secondary indexes built once, sorted, at the end.

PostgreSQL checks a foreign key row by row: each new row runs a lookup (and a key-share lock) on
the row it names. Appending 1.4 million ledger lines, which name four rows each, spent 35 of a
rebuild's 96 seconds in those checks at commit. `loading(model)` is what pg_restore does for a
load: it drops the table's foreign keys (each name and rule kept in the model, see `_keys`) and
its secondary indexes (those the model declares, but for the ones the load itself reads:
`keep`), lets the caller append in as many transactions as it likes, then builds the indexes
again (one sorted build each instead of an entry inserted per row), adds the keys back
`NOT VALID` (new rows are checked from then on) and `VALIDATE`s them, one anti-join each, which
locks neither table against writes.

Nothing is ever left unchecked for long: the drop waits at most `LOCK_WAIT` for its lock and
otherwise gives up (the caller appends with the keys in place, as it would have anyway);
`restore(model)` builds any index and adds back any key a run cut short left missing, validates
any key left unchecked, and the callers run it before they start. A row whose referenced row
was deleted while the keys were away gets what the key's `on_delete` would have done to it
(deleted for CASCADE, the column cleared for SET_NULL) before its key is validated. Elsewhere
(SQLite) all of this does nothing: keys there are checked as the database always checks them."""

# ruff: noqa: S608 (SQL built from identifiers of the models, quoted)

import io
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import DatabaseError, connection, models, transaction
from django.utils.functional import Promise

# How long dropping a key may wait for the locks it needs (both tables, for a moment) before the
# append goes on with the keys in place: a long reader must not make every request queue behind
# the drop.
LOCK_WAIT = "2s"


@dataclass(frozen=True)
class _Key:
    column: str
    table: str  # the referenced table
    target: str  # its column
    on_delete: object  # models.CASCADE or models.SET_NULL


def _keys(model) -> list[_Key]:
    """The foreign keys the model declares with a database constraint."""
    keys = []
    for field in model._meta.concrete_fields:
        if field.many_to_one and field.db_constraint:
            on_delete = field.remote_field.on_delete
            if on_delete not in (models.CASCADE, models.SET_NULL):
                raise ValueError(f"{model.__name__}.{field.name}: only CASCADE or SET_NULL keys")
            keys.append(
                _Key(
                    field.column,
                    field.related_model._meta.db_table,
                    field.target_field.column,
                    on_delete,
                )
            )
    return keys


def _present(cursor, table: str) -> dict[str, tuple[str, bool]]:
    """The table's foreign keys in the database: column -> (constraint name, validated)."""
    cursor.execute(
        "SELECT a.attname, c.conname, c.convalidated FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.conrelid = %s::regclass AND c.contype = 'f'",
        [table],
    )
    return {column: (name, validated) for column, name, validated in cursor.fetchall()}


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _indexes(model, keep: tuple[str, ...] = ()) -> dict[str, str]:
    """The secondary indexes `model` declares (its fields' and its Meta's; not the primary
    key's, nor a unique constraint's, which keep a load's rows right), as its migrations
    create them: name -> CREATE INDEX statement; without the own indexes of the fields named
    in `keep`."""
    kept = [[model._meta.get_field(name).column] for name in keep]
    editor = connection.SchemaEditorClass(connection)
    return {
        str(statement.parts["name"]).strip('"'): str(statement)
        for statement in editor._model_indexes_sql(model)
        if statement.parts["columns"].columns not in kept
    }


def _indexes_present(cursor, table: str) -> dict[str, str]:
    """The table's indexes in the database: name -> its definition (`pg_get_indexdef`)."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() AND tablename = %s",
        [table],
    )
    return dict(cursor.fetchall())


# The definitions of the indexes a load of this process took away, as the database had them
# (a migration may have written one differently from how the model would now): table -> name
# -> CREATE INDEX. An index whose load died with its process is built from the model.
_dropped: dict[str, dict[str, str]] = {}
# And the names of the foreign keys it took away: table -> column -> constraint name, so that
# a `restore` on any connection of the process (another thread's: see `loading`) adds each
# back under its former name.
_dropped_keys: dict[str, dict[str, str]] = {}


def restore_indexes(model) -> None:
    """Every secondary index `model` declares is in the database: a missing one (taken away by
    a load, `loading`) is built now, as it was. In a transaction its build holds the table
    against writes until the commit; the rows read after it use it."""
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    dropped = _dropped.get(table, {})
    with connection.cursor() as cursor:
        present = _indexes_present(cursor, table)
        for name, create in _indexes(model).items():
            if name not in present:
                cursor.execute(dropped.get(name, create))


@contextmanager
def loading(model, *, keep: tuple[str, ...] = ()):
    """Inside, `model`'s table has no foreign keys and none of its secondary indexes but the
    own indexes of the fields named in `keep` (PostgreSQL); on the way out, even after an
    error, the indexes are built again and the keys are back, every row checked against them.
    Yields whether they were taken away (False elsewhere, inside a transaction, whose lock on
    the tables would last as long as the append, or when their lock could not be had in
    time). Once the append is done, the caller may `restore(model)` before the way out, on any
    connection (another thread's, beside other work); the way out then finds it all back."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield False
        return
    restore(model)
    table = model._meta.db_table
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
            present = _present(cursor, table)
            for key in _keys(model):
                if key.column in present:
                    name = present[key.column][0]
                    cursor.execute(f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {_quote(name)}")
                    _dropped_keys.setdefault(table, {})[key.column] = name
            indexes = _indexes_present(cursor, table)
            for name in _indexes(model, keep):
                if name in indexes:
                    cursor.execute(f"DROP INDEX {_quote(name)}")
                    _dropped.setdefault(table, {})[name] = indexes[name]
    except DatabaseError:  # the lock was not to be had: append with the keys in place
        yield False
        return
    try:
        yield True
    finally:
        restore(model)


def restore(model) -> None:
    """Every foreign key and secondary index `model` declares is in the database, and every
    key checked: a missing index is built, a missing key added (under the name it had when a
    load of this process took it away), an unchecked one validated, after the rows naming a
    row that no longer exists got what the key's `on_delete` says."""
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    names = _dropped_keys.get(table, {})
    with transaction.atomic(), connection.cursor() as cursor:
        restore_indexes(model)
        present = _present(cursor, table)
        for key in _keys(model):
            if key.column not in present:
                name = names.get(key.column) or f"{table}_{key.column}_fk"[:63]
                cursor.execute(
                    f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(name)} "
                    f"FOREIGN KEY ({_quote(key.column)}) "
                    f"REFERENCES {_quote(key.table)} ({_quote(key.target)}) "
                    "DEFERRABLE INITIALLY DEFERRED NOT VALID"
                )
        unchecked = {
            column: name for column, (name, validated) in _present(cursor, table).items()
            if not validated
        }  # fmt: skip
    for key in _keys(model):
        if key.column in unchecked:
            _validate(table, key, unchecked[key.column])


def _validate(table: str, key: _Key, name: str) -> None:
    """VALIDATE the key; should a row name a row gone meanwhile, first do to it what the key's
    `on_delete` does, then validate."""
    validate = f"ALTER TABLE {_quote(table)} VALIDATE CONSTRAINT {_quote(name)}"
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(validate)
        return
    except DatabaseError:
        pass
    column, target = _quote(key.column), _quote(key.target)
    orphan = (
        f"{column} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {_quote(key.table)} r WHERE r.{target} = {_quote(table)}.{column})"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if key.on_delete is models.CASCADE:
            cursor.execute(f"DELETE FROM {_quote(table)} WHERE {orphan}")
        else:
            cursor.execute(f"UPDATE {_quote(table)} SET {column} = NULL WHERE {orphan}")
        cursor.execute(validate)


def append(model, objects) -> None:
    """Insert `objects`, unsaved instances of `model` with every column set, as `bulk_create`
    does but without giving them their ids; on PostgreSQL through one `COPY`. A rebuild of an
    empty ledger appends some 400,000 lines derived in Python, and Django building an INSERT's
    SQL and parameters for them (every field of every row prepared in turn) took longer than
    PostgreSQL took to write them."""
    objects = list(objects)
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects)
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    buffer = io.StringIO()
    for obj in objects:
        buffer.write("\t".join(_copy_text(getattr(obj, field.attname)) for field in fields))
        buffer.write("\n")
    buffer.seek(0)
    columns = ", ".join(_quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {_quote(model._meta.db_table)} ({columns}) FROM STDIN", buffer)


# COPY's text format: a backslash starts an escape, a tab ends a column, a newline a row.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """One column of a row in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str | Promise):
        return str(value).translate(_COPY_ESCAPES)
    if isinstance(value, date):  # and datetime: aware ones carry their offset
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    raise TypeError(f"no COPY text for {type(value).__name__}")
