"""Big appends on PostgreSQL with a table's foreign keys checked once, set-based, at the end.

PostgreSQL checks a foreign key row by row: each new row runs a lookup (and a key-share lock) on
the row it names. Appending 1.4 million ledger lines, which name four rows each, spent 35 of a
rebuild's 96 seconds in those checks at commit. `foreign_keys_checked_at_end(model)` is what
pg_restore does for a load: it drops the table's foreign keys (each name and rule kept in the
model, see `_keys`), lets the caller append in as many transactions as it likes, then adds them
back `NOT VALID` (new rows are checked from then on) and `VALIDATE`s them, one anti-join each,
which locks neither table against writes.

Nothing is ever left unchecked for long: the drop waits at most `LOCK_WAIT` for its lock and
otherwise gives up (the caller appends with the keys in place, as it would have anyway);
`restore(model)` adds back any key a run cut short left missing and validates any left unchecked,
and the callers run it before they start. A row whose referenced row was deleted while the keys
were away gets what the key's `on_delete` would have done to it (deleted for CASCADE, the
column cleared for SET_NULL) before its key is validated. Elsewhere (SQLite) all of this does
nothing: keys there are checked as the database always checks them."""

# ruff: noqa: S608 (SQL built from identifiers of the models, quoted)

from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DatabaseError, connection, models, transaction

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


@contextmanager
def foreign_keys_checked_at_end(model):
    """Inside, `model`'s table has no foreign keys (PostgreSQL); on the way out, even after an
    error, they are back and every row has been checked against them. Yields whether the keys
    were taken away (False elsewhere, inside a transaction, whose lock on the tables would last
    as long as the append, or when their lock could not be had in time)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield False
        return
    restore(model)
    table = model._meta.db_table
    names: dict[str, str] = {}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
            present = _present(cursor, table)
            for key in _keys(model):
                if key.column in present:
                    name = present[key.column][0]
                    cursor.execute(f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {_quote(name)}")
                    names[key.column] = name
    except DatabaseError:  # the lock was not to be had: append with the keys in place
        yield False
        return
    try:
        yield True
    finally:
        restore(model, names=names)


def restore(model, *, names: dict[str, str] | None = None) -> None:
    """Every foreign key `model` declares is in the database and checked: a missing one is
    added (under its former name when `names` knows it), an unchecked one validated, after the
    rows naming a row that no longer exists got what the key's `on_delete` says."""
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    names = names or {}
    with transaction.atomic(), connection.cursor() as cursor:
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
