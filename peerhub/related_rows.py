"""Small related lists read inside their parent's row (issue 17).

A page that shows one object with a handful of short lists (a challenge's criteria, tags, values
and organisers) would otherwise run one prefetch query per list. `related_rows` turns a correlated
queryset into one JSON column of the parent's query (json_agg on PostgreSQL, json_group_array on
SQLite), and `attach_related` puts the rows where `obj.<name>.all()` reads them, as a prefetch
would: the rows are the database's, read in the same statement, so nothing can be stale.
Only for short lists of plain fields (numbers and text)."""

import json
from collections.abc import Callable

from django.db.models import Aggregate, Model, QuerySet, Subquery, TextField, Value
from django.db.models.functions import JSONObject


class _JSONRows(Aggregate):
    function = "JSON_GROUP_ARRAY"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = super().as_sql(compiler, connection, function="JSON_AGG", **extra_context)
        return f"({sql})::text", params


def related_rows(queryset: QuerySet, *fields: str) -> Subquery:
    """`queryset` (filtered on OuterRef) as one JSON array of {field: value} objects."""
    return Subquery(
        queryset.order_by()
        .annotate(_all=Value(1))
        .values("_all")
        .annotate(_rows=_JSONRows(JSONObject(**{name: name for name in fields})))
        .values("_rows")
    )


def attach_related(obj: Model, name: str, model: type[Model], text: str | None, *, key: Callable):
    """Make `obj.<name>.all()` answer `model` objects built from `text` (from related_rows),
    sorted by `key` (the model's own ordering), without a query. The fields not read are
    deferred, as with `.only()`: reading one loads it, never a default in its place."""
    db = obj._state.db
    objects = sorted((_from_row(model, db, row) for row in json.loads(text or "[]")), key=key)
    queryset = getattr(obj, name).all()
    queryset._result_cache = objects
    queryset._prefetch_done = True
    if not hasattr(obj, "_prefetched_objects_cache"):
        obj._prefetched_objects_cache = {}
    obj._prefetched_objects_cache[name] = queryset


def _from_row(model: type[Model], db: str | None, row: dict) -> Model:
    names = [f.attname for f in model._meta.concrete_fields if f.attname in row]
    return model.from_db(db, names, [row[name] for name in names])
