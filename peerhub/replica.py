"""Reads off the primary (issue 17): a router and a middleware that send the reads of a few
read-only views to a streaming replica when DATABASE_REPLICA_URL is set.

The rule, in one place:
- Only a GET or HEAD of a view named in REPLICA_VIEWS may read from the replica; everything
  else (writes, transactions, POST flows, admin, account pages, Celery tasks, management
  commands) uses the primary, because the request context that allows it is never set there.
- API views are read off the replica for anonymous visitors only: a token is authenticated
  inside the view, after this middleware has decided, so a token client's own writes could not
  be seen to pin it.
- Read-your-writes: a request that writes pins its member (and its session) to the primary for
  PEERHUB_REPLICA["pin_seconds"], kept in the cache so every web process sees it. Within one
  request, reads after the first write, and reads inside a transaction, use the primary too.
- The replica is used only while it answers and is at most PEERHUB_REPLICA["max_lag_seconds"]
  behind (checked at most every "check_seconds" per process). A replica that fails in the middle
  of a read makes the view run again on the primary: the views allowed here only read.
"""

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"

# URL names (namespace:name) whose GET only reads: list pages, leaderboards, search, and the
# public detail pages that are read far more than written.
REPLICA_VIEWS = frozenset(
    {
        "home",
        "profile",
        "challenges:list",
        "challenges:detail",
        "challenges:proposal-list",
        "challenges:search",
        "challenges:solution-detail",
        "challenges:solution-lineage",
        "reputation:leaderboard",
        "reputation:rankings",
        "reputation:evolution",
        "reputation:history",
        "marketplace:offer-list",
    }
)
# The API's public reads; used for anonymous visitors only (see above).
REPLICA_API_VIEWS = frozenset(
    {
        "api-challenge-list",
        "api-challenge-detail",
        "api-challenge-proposal-list",
        "api-solution-list",
        "api-solution-detail",
        "api-comment-list",
        "api-search",
        "api-leaderboard",
        "api-rankings",
        "api-challenge-rankings",
        "api-challenge-evolution",
        "api-solution-reviews",
        "api-solution-score",
        "api-offer-list",
        "api-offer-detail",
        "api-user-list",
        "api-user-detail",
        "api-user-reputation",
        "api-manifesto-signatures",
    }
)


def replica_settings() -> dict:
    return {
        "pin_seconds": 15,
        "max_lag_seconds": 5.0,
        "check_seconds": 2.0,
        **getattr(settings, "PEERHUB_REPLICA", {}),
    }


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@dataclass
class RequestRouting:
    """What the router may do for the current request."""

    use_replica: bool = False
    wrote: bool = False
    used: set[str] = field(default_factory=set)


_routing: ContextVar[RequestRouting | None] = ContextVar("peerhub_replica_routing", default=None)


# --- Lag check --------------------------------------------------------------------------------

# Seconds the replica's replay is behind: 0 when it has replayed all it received, else the age
# of the last transaction it replayed. None when it is not streaming from a primary (replication
# broken: its data can be any age). A server that is not in recovery is a primary: no lag.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0.0
    WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
    -- Behind, and nothing replayed since it started: how far is unknown (NULL: not usable).
    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8
END
"""


def replica_lag_seconds(cursor) -> float | None:
    """The replica's lag, asked through a DB-API cursor on the replica."""
    cursor.execute(LAG_SQL)
    lag = cursor.fetchone()[0]
    return None if lag is None else float(lag)


_health = {"checked_at": float("-inf"), "usable": False}


def mark_replica_down() -> None:
    _health.update(checked_at=time.monotonic(), usable=False)


def reset_replica_health() -> None:
    """Forget the last check (tests; a deploy that moves the replica)."""
    _health.update(checked_at=float("-inf"), usable=False)


def replica_usable() -> bool:
    """Whether the replica answers and is within the allowed lag, checked at most every
    check_seconds in this process (a check is one short query on the replica)."""
    conf = replica_settings()
    now = time.monotonic()
    if now - _health["checked_at"] < conf["check_seconds"]:
        return _health["usable"]
    usable = False
    connection = connections[REPLICA]
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                lag = replica_lag_seconds(cursor)
            else:  # a SQLite mirror in development and tests: it answers, and cannot lag
                cursor.execute("SELECT 1")
                lag = 0.0
        usable = lag is not None and lag <= conf["max_lag_seconds"]
        if not usable:
            logger.warning("replica behind (lag %s s): reading from the primary", lag)
    except DatabaseError:
        logger.warning("replica unreachable: reading from the primary", exc_info=True)
        connection.close_if_unusable_or_obsolete()
    _health.update(checked_at=time.monotonic(), usable=usable)
    return usable


# --- Router -----------------------------------------------------------------------------------


class ReplicaRouter:
    """Reads go to the replica only inside a request the middleware allowed, before that
    request's first write and outside any transaction on the primary; all writes go to the
    primary. Migrations run on the primary only (the replica follows it)."""

    def db_for_read(self, model, **hints):
        routing = _routing.get()
        if routing is None or not routing.use_replica or routing.wrote:
            return None
        if connections["default"].in_atomic_block:
            return None  # a transaction reads what it wrote
        routing.used.add(REPLICA)
        return REPLICA

    def db_for_write(self, model, **hints):
        routing = _routing.get()
        if routing is not None:
            routing.wrote = True
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA


# --- Read-your-writes pins --------------------------------------------------------------------


def pin_keys(request) -> list[str]:
    keys = []
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        keys.append(f"replica-pin:user:{user.pk}")
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        keys.append(f"replica-pin:session:{session.session_key}")
    return keys


def pin_to_primary(keys: list[str]) -> None:
    if not keys:
        return
    try:
        cache.set_many(dict.fromkeys(keys, 1), timeout=replica_settings()["pin_seconds"])
    except Exception:  # the write is done: a cache outage must not turn it into an error
        logger.warning("could not pin %s to the primary", keys, exc_info=True)


def is_pinned(keys: list[str]) -> bool:
    """Whether these keys wrote within pin_seconds; when the cache cannot tell, the primary."""
    if not keys:
        return False
    try:
        return bool(cache.get_many(keys))
    except Exception:
        logger.warning("could not read the replica pins: reading from the primary", exc_info=True)
        return True


def may_read_from_replica(request) -> bool:
    """The one rule: a safe request to an allowed view, by someone not pinned to the primary."""
    if request.method not in {"GET", "HEAD"} or not replica_configured():
        return False
    match = getattr(request, "resolver_match", None)
    name = match.view_name if match else None
    if name in REPLICA_API_VIEWS:
        anonymous = not request.user.is_authenticated and "authorization" not in request.headers
        if not anonymous:
            return False
    elif name not in REPLICA_VIEWS:
        return False
    return not is_pinned(pin_keys(request)) and replica_usable()


class ReplicaMiddleware:
    """Decides per request whether reads may use the replica, pins writers to the primary, and
    runs a view again on the primary when the replica fails under it. Placed last, so that its
    process_exception sees a replica failure before the outage middleware turns it into a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        routing = RequestRouting()
        token = _routing.set(routing)
        request._replica_routing = routing
        keys_before = []
        try:
            response = self.get_response(request)
            keys_before = getattr(request, "_replica_pin_keys", [])
        finally:
            _routing.reset(token)
        if routing.wrote or request.method not in {"GET", "HEAD", "OPTIONS", "TRACE"}:
            # The member as they were and as they are (a login or logout changes both).
            pin_to_primary(sorted({*keys_before, *pin_keys(request)}))
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        request._replica_pin_keys = pin_keys(request)
        routing = request._replica_routing
        routing.use_replica = may_read_from_replica(request)
        return None

    def process_exception(self, request, exception):
        routing = getattr(request, "_replica_routing", None)
        if (
            routing is None
            or REPLICA not in routing.used
            or not isinstance(exception, DatabaseError)
            or not connections[REPLICA].errors_occurred
        ):
            return None
        logger.warning("replica failed during a read: running the view on the primary")
        mark_replica_down()
        connections[REPLICA].close_if_unusable_or_obsolete()
        routing.use_replica = False
        match = request.resolver_match
        return match.func(request, *match.args, **match.kwargs)


def served_from_replica(request) -> bool:
    """Whether this request read anything from the replica. A page cache must not store such a
    page under a version a write has just bumped: the replica may not have replayed that write
    yet, and the stale page would then be served until the next bump."""
    routing = getattr(request, "_replica_routing", None)
    return routing is not None and REPLICA in routing.used
