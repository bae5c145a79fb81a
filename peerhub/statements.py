"""Hot statements compiled once (issue 23's simulation, and every review and vote a member
saves): reads of values (`Compiled`) or of whole rows (`CompiledObjects`), and one row's
insert-or-update (`Upsert`).

Building a queryset and compiling it to SQL costs the ORM about as much Python as running it on
the database costs in all: a review's save asked five small questions of one solution, each
rebuilt from nothing. A `Compiled` read is built and compiled once per process, database and
shape (the length of each list of ids it takes); each call then fills the ids into the kept
statement's parameters and runs it, giving the same rows `values_list` gives (the database's
converters applied).

Its arguments are integers or lists of integers (ids), or aware datetimes (a vote's "today"):
they take the places of sentinels that no real id or moment equals, found in the compiled
parameters (a datetime as the database's adapter gives it, and filled in the same way). Anything
else the query needs (a value, a time zone's name) is fixed when it is built and must not depend
on the call. A test compares each kept statement with a fresh compile."""

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from django.db import connections, router
from django.db.models import AutoField, Model, QuerySet, sql
from django.db.models.constants import OnConflict

# Lists of ids longer than this are compiled each time (`Compiled.rows`).
MAX_KEPT_LENGTH = 64

# Far below any id: sentinel k of argument i is _BASE - i * _STRIDE - k.
_BASE = -(10**15)
_STRIDE = 10**6

# Sentinel moments: microseconds into the year 2 (not 1: a database in a time zone west of UTC
# must still be able to hold them), which no stored moment is.
_EPOCH = datetime(2, 1, 1, tzinfo=UTC)
DATETIME = "datetime"  # the shape of a datetime argument

Arg = int | Sequence[int] | datetime


def _sentinel(arg: int, k: int) -> int:
    return _BASE - arg * _STRIDE - k


def _moment(arg: int) -> datetime:
    return _EPOCH + timedelta(microseconds=arg + 1)


def _shape_of(arg) -> int | str | None:
    if isinstance(arg, datetime):
        return DATETIME
    return None if isinstance(arg, int) else len(arg)


class _Statement:
    def __init__(self, queryset: QuerySet, db: str, shape: tuple):
        query = queryset.query
        compiler = query.get_compiler(using=db)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        # Where each argument's values go (a value may be used in several places).
        ops = connections[db].ops
        self.slots: list[tuple[int, int | None, int]] = []
        self.moments: set[int] = set()  # the arguments that are datetimes
        positions: dict = defaultdict(list)
        for i, p in enumerate(self.params):
            if isinstance(p, int | str | datetime):
                positions[p].append(i)
        for arg, length in enumerate(shape):
            if length == DATETIME:
                self.moments.add(arg)
                marks = [(None, ops.adapt_datetimefield_value(_moment(arg)))]
            else:
                marks = [
                    (None if length is None else k, _sentinel(arg, k))
                    for k in range(1 if length is None else length)
                ]
            for k, mark in marks:
                where = positions.get(mark, [])
                if not where:
                    raise ValueError(f"argument {arg} is not among the compiled parameters")
                self.slots += [(arg, k, i) for i in where]
        expressions = [column[0] for column in compiler.select[: compiler.col_count]]
        self.converters = list(compiler.get_converters(expressions).items())
        # Columns the ordering needed beyond those asked for are cut, as the ORM cuts them.
        self.width = compiler.col_count if compiler.has_extra_select else None
        self.flat = queryset._iterable_class.__name__ == "FlatValuesListIterable"

    def run(self, db: str, args: tuple) -> list:
        connection = connections[db]
        if self.moments:
            adapt = connection.ops.adapt_datetimefield_value
            args = tuple(adapt(a) if i in self.moments else a for i, a in enumerate(args))
        params = list(self.params)
        for arg, k, position in self.slots:
            params[position] = args[arg] if k is None else args[arg][k]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.width is not None:
            rows = [row[: self.width] for row in rows]
        if self.converters:
            converted = []
            for row in rows:
                row = list(row)
                for position, (converters, expression) in self.converters:
                    for converter in converters:
                        row[position] = converter(row[position], expression, connection)
                converted.append(row)
            rows = converted
        if self.flat:
            return [row[0] for row in rows]
        return [tuple(row) for row in rows]


class Compiled:
    """`build(*args)` returns a `values_list` queryset of `model`; `rows(*args)` runs it as
    `list(build(*args))` would, from a statement compiled once per database and shape. Locking
    reads (`select_for_update`) must be compiled inside a transaction, as they must run in one.
    """

    def __init__(self, model: type[Model], build: Callable[..., QuerySet], *, write=False):
        self.model = model
        self.build = build
        # A locking read goes where writes go, as QuerySet.db sends it.
        self.write = write
        self._statements: dict[tuple, _Statement] = {}
        self._lock = threading.Lock()

    def statement(self, db: str, shape: tuple) -> _Statement:
        key = (db, shape)
        statement = self._statements.get(key)
        if statement is None:
            with self._lock:
                statement = self._statements.get(key)
                if statement is None:
                    sentinels = [
                        _moment(arg)
                        if length == DATETIME
                        else _sentinel(arg, 0)
                        if length is None
                        else [_sentinel(arg, k) for k in range(length)]
                        for arg, length in enumerate(shape)
                    ]
                    queryset = self.build(*sentinels).using(db)
                    statement = _Statement(queryset, db, shape)
                    self._statements[key] = statement
        return statement

    def rows(self, *args: Arg) -> list:
        args = tuple(arg if isinstance(arg, int | datetime) else list(arg) for arg in args)
        if any(isinstance(arg, list) and not arg for arg in args):
            return list(self.build(*args))  # an empty list: the ORM knows the answer is none
        if any(isinstance(arg, list) and len(arg) > MAX_KEPT_LENGTH for arg in args):
            # A long list (a rebuild's thousands of ids): compiling is small beside running
            # it, and a statement kept per length would be kept for nothing.
            return list(self.build(*args))
        shape = tuple(_shape_of(arg) for arg in args)
        db = self.db()
        return self.statement(db, shape).run(db, args)

    def db(self) -> str:
        """Where the read goes: a locking read where writes go, as QuerySet.db sends it."""
        return (router.db_for_write if self.write else router.db_for_read)(self.model) or "default"


class CompiledObjects(Compiled):
    """A compiled read of whole rows: `build(*args)` returns a queryset of `model` (its filters,
    lock and order), and `objects(*args)` gives the model's instances, as iterating the
    queryset would, read as a values_list of every concrete column."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet], *, write=False):
        self.attnames = [field.attname for field in model._meta.concrete_fields]
        super().__init__(model, lambda *args: build(*args).values_list(*self.attnames), write=write)

    def objects(self, *args: Arg) -> list[Model]:
        db = self.db()
        return [self.model.from_db(db, self.attnames, row) for row in self.rows(*args)]


class Upsert:
    """`bulk_create([row], update_conflicts=True, unique_fields=…, update_fields=…)` for one new
    row (no primary key yet), its statement compiled once per database: the row is inserted,
    or the row its unique fields name is updated, in one statement, and the row gets its
    primary key (from `RETURNING`, where the database has it). A vote's and a review's insert
    (reputation.services). Sends no signal, as bulk_create sends none. A test compares the kept
    statement with the ORM's own."""

    def __init__(self, model: type[Model], *, unique_fields: list[str], update_fields: list[str]):
        self.model = model
        self.unique_fields = unique_fields
        self.update_fields = update_fields
        self._statements: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def fields(self) -> list:
        """The columns bulk_create inserts for a row without a primary key."""
        return [
            f
            for f in self.model._meta.concrete_fields
            if not f.generated and not isinstance(f, AutoField)
        ]

    def compile(self, db: str, row: Model) -> tuple[str, list]:
        """The ORM's statement and parameters for this row, as bulk_create builds them."""
        opts = self.model._meta
        query = sql.InsertQuery(
            self.model,
            on_conflict=OnConflict.UPDATE,
            update_fields=[opts.get_field(name) for name in self.update_fields],
            unique_fields=[opts.get_field(name) for name in self.unique_fields],
        )
        query.insert_values(self.fields(), [row])
        compiler = query.get_compiler(using=db)
        compiler.returning_fields = self._returning(db)
        ((statement, params),) = compiler.as_sql()
        return statement, list(params)

    def _returning(self, db: str):
        if connections[db].features.can_return_rows_from_bulk_insert:
            return self.model._meta.db_returning_fields
        return None

    def _converters(self, db: str) -> list[tuple]:
        """For each returned column: its field, column and the converters the ORM applies."""
        connection, table = connections[db], self.model._meta.db_table
        converters = []
        for field in self._returning(db) or []:
            column = field.get_col(table)
            found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            converters.append((field, column, found))
        return converters

    def _statement(self, db: str, row: Model) -> tuple:
        statement = self._statements.get(db)
        if statement is None:
            with self._lock:
                statement = self._statements.get(db)
                if statement is None:
                    text, params = self.compile(db, row)
                    fields = self.fields()
                    if len(params) != len(fields):  # a column with a placeholder of its own
                        raise ValueError(f"{self.model.__name__}: not one parameter a column")
                    statement = (text, fields, self._converters(db))
                    self._statements[db] = statement
        return statement

    def save(self, row: Model) -> Model:
        if row.pk is not None:
            raise ValueError("Upsert inserts rows without a primary key")
        row._prepare_related_fields_for_save(operation_name="bulk_create")
        db = router.db_for_write(self.model, instance=row) or "default"
        text, fields, returning = self._statement(db, row)
        connection = connections[db]
        params = [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
        with connection.cursor() as cursor:
            cursor.execute(text, params)
            if returning:
                for value, (field, column, converters) in zip(
                    cursor.fetchone(), returning, strict=True
                ):
                    for converter in converters:
                        value = converter(value, column, connection)
                    setattr(row, field.attname, value)
        row._state.adding = False
        row._state.db = db
        return row
