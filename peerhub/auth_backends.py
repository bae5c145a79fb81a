"""The signed-in member loaded once per request, with what every page asks about them.

Each page asks whether the member has a verified address, their trust level, whether they hold
Premium and a few permissions. Asked lazily, that was one query each. `get_user` here loads the
member in one query annotated with those answers, stored under the attribute names the apps'
own selectors already use as their per-request cache (`_peerhub_verified`, …), so the selectors
stay the one place for each rule and answer from the row.

Apps contribute without peerhub importing them: an AppConfig may define
`request_user_annotations()` returning {attribute: expression} (see peerhub.hooks).

The model permissions: a member with no direct permission and no group has none (Django's
ModelBackend would still run two queries to find that out), so the backends' caches are primed
empty for them. Superusers and members with permissions or groups take Django's usual path."""

import threading

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth import backends
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Exists, OuterRef

from .models import User

_HAS_PERMISSIONS = "_peerhub_has_model_permissions"


def request_user_annotations() -> dict:
    """Every app's annotations for the request's user, peerhub's own first."""
    annotations = {
        "_peerhub_verified": Exists(
            EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
        ),
        _HAS_PERMISSIONS: Exists(User.user_permissions.through.objects.filter(user=OuterRef("pk")))
        | Exists(User.groups.through.objects.filter(user=OuterRef("pk"))),
    }
    for config in apps.get_app_configs():
        provider = getattr(config, "request_user_annotations", None)
        if provider is not None:
            annotations.update(provider())
    return annotations


# A member id no row has: where it lands in the compiled statement's parameters is where each
# request's id goes.
_NO_MEMBER = -730_193_751


class _LoadStatement:
    """The member's load compiled once per process and database: building the annotated query
    and compiling it to SQL took 4-5 ms of every signed-in request (about 1 ms to run). Its
    parameters must not depend on the request or the clock (the hook's contract; a test compares
    the kept statement with a fresh one), so only the member's id changes between requests."""

    def __init__(self, db: str):
        query = (
            User._default_manager.db_manager(db)
            .annotate(**request_user_annotations())
            .filter(pk=_NO_MEMBER)
            .query
        )
        compiler = query.get_compiler(using=db)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        (self.id_at,) = [i for i, p in enumerate(self.params) if p == _NO_MEMBER]
        select, klass_info = compiler.select, compiler.klass_info
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.fields = slice(first, last)
        self.field_names = [column[0].target.attname for column in select[first:last]]
        self.annotations = dict(compiler.annotation_col_map)
        self.converters = list(
            compiler.get_converters([column[0] for column in select[: compiler.col_count]]).items()
        )

    def load(self, db: str, user_id) -> User | None:
        params = list(self.params)
        params[self.id_at] = user_id
        connection = connections[db]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        row = list(row)
        for position, (converters, expression) in self.converters:
            for converter in converters:
                row[position] = converter(row[position], expression, connection)
        user = User.from_db(db, self.field_names, row[self.fields])
        for name, position in self.annotations.items():
            setattr(user, name, row[position])
        return user


_statements: dict[str, _LoadStatement] = {}
_statements_lock = threading.Lock()


def load_statement(db: str) -> _LoadStatement:
    statement = _statements.get(db)
    if statement is None:
        with _statements_lock:
            statement = _statements.get(db) or _LoadStatement(db)
            _statements[db] = statement
    return statement


def request_user_load(user_id) -> User | None:
    """The member with every app's per-request answers, in one query."""
    try:
        user_id = User._meta.pk.to_python(user_id)
    except (ValidationError, ValueError, TypeError):  # a session holding no member id
        return None
    if user_id is None:
        return None
    db = router.db_for_read(User)
    user = load_statement(db).load(db, user_id)
    if user is None:
        return None
    if not user.is_superuser and not getattr(user, _HAS_PERMISSIONS):
        user._user_perm_cache = set()
        user._group_perm_cache = set()
    return user


class _RequestUserMixin:
    def get_user(self, user_id):
        user = request_user_load(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_RequestUserMixin, backends.ModelBackend):
    """Django's ModelBackend (username and password), loading the request's user in one query."""


class AuthenticationBackend(_RequestUserMixin, AllauthBackend):
    """allauth's backend (username or e-mail), loading the request's user in one query."""
