"""Whole-page cache for anonymous visitors, and conditional GET (issue 17).

A page is cached only for a visitor who carries no cookie but the CSRF one and no
Authorization header, only for GET/HEAD, only when the view is wrapped with `cached(...)` in a
urls.py, and only when the answer is a plain 200 HTML page that set no cookie, queued no message
and did not touch the session. Everyone else goes straight to the view.

Invalidation is by version: each page depends on scopes ("site", "challenge:<slug>",
"solution:<pk>", "member:<username>", ...), each scope has a version in the `pages` cache, and the
page's key contains the versions read *before* the view ran. A write calls `bump(*scopes)` (the
apps' pagecache modules do, from signals and from the end of background tasks), which gives the
scopes new versions, so the next visitor misses and renders afresh. A version that has vanished
from the cache (eviction, restart) is a miss too, never a match with an old page. The TTL is a
safety net only.

Redis outages (peerhub.redis_cache answers misses and stores nothing while Redis is unreachable):
the pages are rendered fresh and not stored, and the fragments render live. A `bump` that could
not be written must not let an old page out once Redis answers again, with its old keys if it
was only unreachable: so every page and fragment key also holds the "generation", read in the
same MGET as the scope versions, and a process whose bump failed, or which saw the cache fail at
all, sets a new generation at its first successful contact, before it serves anything (and
forgets its process-local pages), so every page misses once. What remains: another process that
saw no failure itself may serve a page cached before the outage, until the failing process's
next request (or, in a Celery worker, its next bump) or the TTL, whichever comes first.

A cached page holds the per-request parts as markers: the CSP nonce and the masked CSRF tokens
are put back fresh on every hit, so no two visitors share a nonce or a token.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    _unmask_cipher_token,
    get_token,
)
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.safestring import SafeString, mark_safe

from . import locales
from .replica import served_from_replica

CACHE_ALIAS = "pages"
# Headers of the view's answer kept with the page; the outer middleware add their own on a hit.
KEPT_HEADERS = ("Content-Type", "Content-Language")
_TOKEN = re.compile(rb"\b[A-Za-z0-9]{64}\b")


def _cache():
    return caches[CACHE_ALIAS]


class _LocalPages:
    """The pages this process served lately, by page key. A key names the scope versions it was
    rendered under, so an entry here can never be stale: only the versions need asking for, which
    is one small MGET instead of fetching and unpickling a page of 100+ kB on every hit."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, dict] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: dict) -> None:
        with self.lock:
            old = self.entries.pop(key, None)  # a page past its moment (keep_until) kept again
            if old is not None:
                self.size -= len(old["content"])
            self.entries[key] = entry
            self.size += len(entry["content"])
            while self.size > self.max_bytes and self.entries:
                _, old = self.entries.popitem(last=False)
                self.size -= len(old["content"])

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


_local = _LocalPages(max_bytes=32 * 1024 * 1024)


def _entry(key: str) -> dict | None:
    entry = _local.get(key)
    if entry is None:
        entry = _cache().get(key)
        if entry is not None and _fresh(entry):
            _local.put(key, entry)
    if entry is not None and not _fresh(entry):
        return None  # the TTL and the page's own moment hold here too
    return entry


def _fresh(entry: dict) -> bool:
    """Within the TTL, and before the moment the page said it would change by itself."""
    now = time.time()
    return now - entry["modified"] < _ttl() and now < entry.get("until", now + 1)


def keep_until(request, moment) -> None:
    """This request's page changes by itself at `moment` (an aware datetime, or None for never)
    with no write that would bump its scopes, e.g. an offer's slot freeing when a reservation
    lapses: a visitor's copy of it is not served from then on."""
    if moment is None:
        return
    until = moment.timestamp()
    request._pagecache_until = min(until, getattr(request, "_pagecache_until", until))


def enabled() -> bool:
    return getattr(settings, "PEERHUB_PAGE_CACHE", False)


def _ttl() -> int:
    return getattr(settings, "PEERHUB_PAGE_CACHE_TTL", 600)


# The scope whose version is part of every key: a new one drops every page at once.
GENERATION = "generation"


class _Generation:
    """This process's debt to the cache: `dirty` when a bump failed; `outages` the cache's
    outage count (peerhub.redis_cache) when the generation was last made sure of."""

    def __init__(self):
        self.dirty = False
        self.outages: int | None = None

    def reset(self) -> None:
        self.dirty, self.outages = False, None


_generation = _Generation()


def _settled(cache) -> bool:
    """True when this process may read and store pages: it owes no new generation, or has just
    set one. After an outage it saw, or a bump it could not write, the cache may answer with
    pages made before writes whose bumps were lost: a new generation drops them all."""
    outages = getattr(cache, "outages", 0)
    if _generation.outages is None:
        _generation.outages = outages
    if not _generation.dirty and outages == _generation.outages:
        return True
    if cache.set_many({_vkey(GENERATION): secrets.token_hex(8)}, timeout=None):
        _generation.dirty = True  # still unreachable: nothing is read or stored
        return False
    _generation.dirty = False
    _generation.outages = getattr(cache, "outages", 0)
    _local.clear()
    return True


def _vkey(scope: str) -> str:
    return "v:" + hashlib.blake2b(scope.encode(), digest_size=16).hexdigest()


def bump(*scopes: str) -> None:
    """New versions for these scopes: every cached page that depends on one of them is gone.
    Done at once and again after the surrounding transaction commits, so that a page rendered
    from the old rows in between cannot stay under the new version."""
    scopes = tuple(s for s in scopes if s)
    if not scopes:
        return
    _set_versions(scopes)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _set_versions(scopes), robust=True)


def _set_versions(scopes) -> None:
    cache = _cache()
    token = secrets.token_hex(8)
    if not _settled(cache) or cache.set_many({_vkey(s): token for s in scopes}, timeout=None):
        # Not written (Redis is unreachable): the pages of these scopes still answer to their
        # old versions, so this process owes a new generation.
        _generation.dirty = True


@dataclass(frozen=True)
class PageSpec:
    scopes: tuple[str, ...]
    query: frozenset[str]
    api: bool = False  # a JSON answer, which may vary with the Accept header

    def scopes_for(self, kwargs: dict) -> list[str]:
        return [s.format(**kwargs) for s in self.scopes]


def cached(scopes, query=(), *, api=False):
    """Mark a view as cacheable for anonymous visitors. `scopes` are format strings filled from
    the URL's kwargs (e.g. "challenge:{slug}"); "site" is always added. `query` lists the query
    parameters the page reads: a request with any other one is not cached. `api` marks an API
    view: its JSON answers are stored too, one per Accept header (DRF renders by it)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            return view(request, *args, **kwargs)

        wrapper.pagecache = PageSpec(("site", *scopes), frozenset(query), api)
        return wrapper

    return decorate


def cached_route(patterns, name: str, scopes, query=()) -> list:
    """`patterns` (a DRF router's urls) with the route `name` wrapped as `cached(scopes,
    query=query, api=True)`: a viewset's list shares its route with create, and only its GET
    is ever cached (see _anonymous)."""
    from django.urls import URLPattern

    found = [p for p in patterns if isinstance(p, URLPattern) and p.name == name]
    if len(found) != 1:
        raise LookupError(f"no single route named {name!r}")
    return [
        URLPattern(
            p.pattern, cached(scopes, query=query, api=True)(p.callback), p.default_args, name
        )
        if p is found[0]
        else p
        for p in patterns
    ]


def _anonymous(request) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if "HTTP_AUTHORIZATION" in request.META or "HTTP_HX_REQUEST" in request.META:
        return False
    return all(name in _page_cookies() for name in request.COOKIES)


def _page_cookies() -> frozenset[str]:
    """Cookies an anonymous page may be served from cache with: the CSRF token (put back fresh
    on every hit), the chosen language and the browser's time zone (both part of the page's
    key)."""
    return frozenset(
        (settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME, locales.TIME_ZONE_COOKIE)
    )


def _versions(scopes: list[str]) -> list[str]:
    """The generation and the scopes' versions, creating any that are missing (before the view
    runs); all empty, so nothing is read nor stored, while the cache cannot be trusted."""
    cache = _cache()
    scopes = [GENERATION, *scopes]
    if not _settled(cache):
        return [""] * len(scopes)
    keys = [_vkey(s) for s in scopes]
    found = cache.get_many(keys)
    missing = [k for k in keys if k not in found]
    if missing:
        for key in missing:
            cache.add(key, secrets.token_hex(8), timeout=None)
        found = cache.get_many(keys)
    return [str(found.get(k, "")) for k in keys]


def _page_key(request, spec: PageSpec, versions: list[str]) -> str | None:
    names = set(request.GET.keys())
    if not names <= spec.query:
        return None
    query = "&".join(f"{n}={v}" for n in sorted(names) for v in request.GET.getlist(n))
    # The language and time zone the page is rendered in (LocaleMiddleware and
    # peerhub.locales ran before): one page per language and zone.
    language = translation.get_language() or ""
    zone = timezone.get_current_timezone_name()
    accept = request.META.get("HTTP_ACCEPT", "") if spec.api else ""
    raw = "\n".join([request.path, query, language, zone, accept, *versions])
    return "p:" + hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()


def _etag(entry: dict, secret: str | None) -> str:
    tail = hashlib.blake2b((secret or "").encode(), digest_size=4).hexdigest()
    return f'"{entry["hash"]}-{tail}"'


def _answer_headers(response, etag: str, modified: float) -> None:
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(modified)
    # The page carries this visitor's CSRF token: browsers may keep it, shared caches may not.
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("Accept-Language", "Cookie"))


_CSRF_INDEX = {c: i for i, c in enumerate(CSRF_ALLOWED_CHARS)}


def _random_chars(length: int) -> str:
    """Like get_random_string, from one urandom read instead of one per character (a third of
    a hit's time went there). Bytes of 248 and over are dropped so every character is as
    likely: 248 is the largest multiple of 62 below 256."""
    chars: list[str] = []
    while len(chars) < length:
        for byte in secrets.token_bytes(2 * length):
            if byte < 248:
                chars.append(CSRF_ALLOWED_CHARS[byte % len(CSRF_ALLOWED_CHARS)])
                if len(chars) == length:
                    break
    return "".join(chars)


def _csrf_token(request) -> str:
    """The masked CSRF token for this visitor's secret, as django.middleware.csrf.get_token
    makes it (same cipher); a visitor without a valid cookie gets a new secret, which the CSRF
    middleware then sets. A known cookie is not re-sent on every hit (get_token would, only to
    renew its expiry), so a returning visitor's cached page carries no Set-Cookie."""
    if settings.CSRF_USE_SESSIONS:
        return get_token(request)
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = _random_chars(CSRF_SECRET_LENGTH)
        request.META.update({"CSRF_COOKIE": secret, "CSRF_COOKIE_NEEDS_UPDATE": True})
    mask = _random_chars(CSRF_SECRET_LENGTH)
    size = len(CSRF_ALLOWED_CHARS)
    cipher = "".join(
        CSRF_ALLOWED_CHARS[(_CSRF_INDEX[x] + _CSRF_INDEX[y]) % size]
        for x, y in zip(secret, mask, strict=True)
    )
    return mask + cipher


def _replay(request, entry: dict):
    content = entry["content"]
    secret = request.META.get("CSRF_COOKIE") if entry["csrf"] else None
    etag = _etag(entry, secret)
    meta = request.META
    asks = "HTTP_IF_NONE_MATCH" in meta or "HTTP_IF_MODIFIED_SINCE" in meta
    # A visitor without a CSRF cookie is new: whatever they hold is not their page.
    if asks and (secret or not entry["csrf"]):
        not_modified = get_conditional_response(
            request, etag=etag, last_modified=int(entry["modified"])
        )
        if not_modified is not None:
            _hit_headers(not_modified, etag, entry)
            return not_modified
    if entry["csrf"]:
        token = _csrf_token(request)
        if secret is None:
            secret = request.META.get("CSRF_COOKIE")
            etag = _etag(entry, secret)
        content = content.replace(entry["csrf"], token.encode())
    if entry["nonce"]:
        nonce = getattr(request, "_csp_nonce", None)
        if nonce is None:
            return None
        content = content.replace(entry["nonce"], str(nonce).encode())
    response = HttpResponse(content, status=entry["status"])
    for name, value in entry["headers"].items():
        response.headers[name] = value
    response.headers["X-Page-Cache"] = "hit"
    _hit_headers(response, etag, entry)
    return response


def _hit_headers(response, etag: str, entry: dict) -> None:
    """_answer_headers, set directly: nothing else has set these on a hit."""
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(entry["modified"])
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = (
        "Accept, Accept-Language, Cookie" if entry.get("api") else "Accept-Language, Cookie"
    )


def _storable(request, response) -> bool:
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return False
    if response.cookies or response.has_header("Set-Cookie"):
        return False
    kinds = ("text/html", "application/json") if getattr(request, "_pagecache_api", False) else ()
    if not response.get("Content-Type", "").startswith(kinds or "text/html"):
        return False
    if served_from_replica(request):
        # The replica may not have replayed the write that bumped this version yet: storing
        # its page under the new version would serve the old content until the next bump.
        return False
    control = response.get("Cache-Control", "")
    if "private" in control or "no-store" in control:
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return False
    storage = getattr(request, "_messages", None)
    return not (storage is not None and getattr(storage, "_queued_messages", None))


def _marker(content: bytes) -> bytes:
    while True:
        marker = f"@@pc{secrets.token_hex(10)}@@".encode()
        if marker not in content:
            return marker


def _store(request, response, key: str) -> None:
    content = response.content
    csrf = b""
    # Only a token the page got from get_token unmasks to this request's secret.
    secret = request.META.get("CSRF_COOKIE")
    if secret:
        csrf = _marker(content)
        content = _TOKEN.sub(
            lambda m: csrf if _unmask_cipher_token(m.group().decode()) == secret else m.group(),
            content,
        )
    nonce = b""
    request_nonce = getattr(request, "_csp_nonce", None)
    if request_nonce:  # evaluated while rendering
        nonce = _marker(content)
        content = content.replace(str(request_nonce).encode(), nonce)
    entry = {
        "content": content,
        "status": response.status_code,
        "headers": {h: response[h] for h in KEPT_HEADERS if response.has_header(h)},
        "api": getattr(request, "_pagecache_api", False),
        "csrf": csrf,
        "nonce": nonce,
        "hash": hashlib.blake2b(content, digest_size=12).hexdigest(),
        "modified": time.time(),
    }
    until = getattr(request, "_pagecache_until", None)
    if until is not None:
        if until <= entry["modified"]:
            return
        entry["until"] = until
    _cache().set(key, entry, timeout=_ttl())
    _local.put(key, entry)
    _answer_headers(response, _etag(entry, secret), entry["modified"])
    response.headers["X-Page-Cache"] = "miss"


def _conditional(request, response):
    """ETag on API answers; 304 when the client already has this one. The ETag comes from the
    body, which is the requester's own view, so it is right per user; signed-in answers are
    private and vary by Cookie and Authorization so no shared cache hands them to someone else."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        patch_cache_control(response, private=True)
    if response.streaming or response.has_header("ETag"):
        return response
    if not request.path.startswith("/api/"):
        return response
    patch_vary_headers(response, ("Cookie", "Authorization"))
    etag = f'"{hashlib.blake2b(response.content, digest_size=16).hexdigest()}"'
    response.headers["ETag"] = etag
    return get_conditional_response(request, etag=etag, response=response)


class PageCacheMiddleware:
    """Last in MIDDLEWARE: a hit answers from process_view, so the answer still goes out through
    every other middleware (security headers, the CSP header with this request's nonce, the CSRF
    cookie), exactly as a rendered page would."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        key = getattr(request, "_pagecache_key", None)
        if key and response.get("X-Page-Cache") != "hit" and _storable(request, response):
            _store(request, response, key)
            return response
        return _conditional(request, response)

    def process_view(self, request, view_func, view_args, view_kwargs):
        spec = getattr(view_func, "pagecache", None)
        if spec is None or not enabled() or not _anonymous(request):
            return None
        versions = _versions(spec.scopes_for(view_kwargs))
        key = _page_key(request, spec, versions)
        if key is None or not all(versions):
            return None
        request._pagecache_key = key
        request._pagecache_api = spec.api
        entry = _entry(key)
        return _replay(request, entry) if entry else None


# --- Fragments: the parts of members' pages that many members see alike ---------------------

FRAGMENT_CSRF = "@@pagecache-fragment-csrf@@"


class Fragments:
    """Parts of a page that many members see alike (a challenge's solution rows; its discussion
    as seen by members who may reply but wrote none of it), kept under the versions of the
    page's scopes exactly like the visitors' pages: a write that bumps a scope makes them miss.
    The variant a part is kept under names everything else it shows (the ids of its rows, the
    member's permissions, its relative times); the language and the time zone are added. A part
    renders with FRAGMENT_CSRF for its CSRF token, which each use replaces with the member's own.
    Off, so every part renders live, where the page cache is off."""

    def __init__(self, request, scopes):
        self.request = request
        self.versions: list[str] | None = None
        if enabled():
            versions = _versions(["site", *scopes])
            if all(versions):
                self.versions = versions

    def _key(self, name: str, variant) -> str:
        language = translation.get_language() or ""
        zone = timezone.get_current_timezone_name()
        raw = "\n".join([name, language, zone, repr(variant), *self.versions])
        return "f:" + hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()

    @property
    def on(self) -> bool:
        return self.versions is not None

    def _kept(self, key: str, make, keep=None):
        entry = _entry(key)
        if entry is not None:
            return entry["content"]
        content = make()
        if not served_from_replica(self.request) and (keep is None or keep()):
            entry = {"content": content, "modified": time.time()}
            _cache().set(key, entry, timeout=_ttl())
            _local.put(key, entry)
        return content

    def value(self, name: str, variant, compute, *, keep=None):
        """Data many members read alike (a search's results), kept like a part: `compute()`'s
        answer, which must pickle, or the kept copy. Off, it is computed every time. With
        `keep`, only an answer for which `keep(answer)` holds is kept (one that cannot change
        until a write bumps the versions)."""
        if self.versions is None:
            return compute()
        answer = []

        def make() -> bytes:
            answer.append(compute())
            return pickle.dumps(answer[0])

        check = None if keep is None else (lambda: keep(answer[0]))
        content = self._kept(self._key(name, variant), make, check)
        return answer[0] if answer else pickle.loads(content)  # noqa: S301  (our own cache)

    def get(self, name: str, variant, render) -> SafeString:
        """The part `name` for `variant`: from the cache, or `render()` (a string) kept."""
        if self.versions is None:
            return mark_safe(render())  # noqa: S308  (rendered by a template, which escapes)
        content = self._kept(self._key(name, variant), lambda: str(render()))
        if FRAGMENT_CSRF in content:
            content = content.replace(FRAGMENT_CSRF, get_token(self.request))
        return mark_safe(content)  # noqa: S308  (rendered by a template, which escapes)


# --- Wiring: the apps' pagecache modules say which writes and which tasks bump what ----------

_TASK_SCOPES: dict = {}


def on_save_and_delete(model, scopes_for) -> None:
    """Bump `scopes_for(instance)` whenever a `model` row is saved or deleted."""
    from django.db.models.signals import post_delete, post_save

    def receiver(sender, instance, raw=False, **kwargs):
        # Off, no page is kept to go stale: the scopes' queries are not worth asking.
        if not raw and enabled():
            bump(*scopes_for(instance))

    uid = f"pagecache-{model._meta.label_lower}"
    post_save.connect(receiver, sender=model, weak=False, dispatch_uid=uid + "-save")
    post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=uid + "-delete")


def on_m2m_change(through, scopes_for) -> None:
    """Bump `scopes_for(instance)` when rows of the many-to-many table `through` are added,
    removed or cleared (`instance` is the side the change was made from)."""
    from django.db.models.signals import m2m_changed

    def receiver(sender, instance, action, **kwargs):
        if action in ("post_add", "post_remove", "post_clear") and enabled():
            bump(*scopes_for(instance))

    uid = f"pagecache-m2m-{through._meta.label_lower}"
    m2m_changed.connect(receiver, sender=through, weak=False, dispatch_uid=uid)


def after_task(task_name: str, scopes_for) -> None:
    """Bump `scopes_for(args, kwargs, retval)` when the task `task_name` has finished: background
    work that changes boards and rankings with bulk statements sends no model signal."""
    _TASK_SCOPES[task_name] = scopes_for
    from celery.signals import task_postrun

    task_postrun.connect(_task_finished, weak=False, dispatch_uid="pagecache-task-finished")


def _task_finished(sender=None, task=None, args=None, kwargs=None, retval=None, state=None, **_):
    scopes_for = _TASK_SCOPES.get(getattr(task, "name", None))
    if scopes_for is not None and state == "SUCCESS" and enabled():
        bump(*scopes_for(tuple(args or ()), dict(kwargs or {}), retval))


def connect_site() -> None:
    """The site's own models (peerhub.models)."""
    from .models import (
        Activity,
        Follow,
        ManifestoSignature,
        ManifestoTranslation,
        ManifestoVersion,
        User,
        Value,
    )

    def member(user) -> list[str]:
        # A member's name shows on every page; a login only moves last_login; a new member
        # shows nowhere yet but in the counts and lists (what bumping every page on each
        # sign-up would drop).
        fields = getattr(user, "_pagecache_update_fields", None)
        new, user._pagecache_new = getattr(user, "_pagecache_new", False), False
        if new:
            return [f"member:{user.username}", "lists"]
        return [f"member:{user.username}", *(["site"] if fields != {"last_login"} else [])]

    from django.db.models.signals import pre_save

    def remember_fields(sender, instance, update_fields=None, **kwargs):
        instance._pagecache_update_fields = set(update_fields) if update_fields else None
        instance._pagecache_new = instance._state.adding

    pre_save.connect(remember_fields, sender=User, weak=False, dispatch_uid="pagecache-user-pre")
    on_save_and_delete(User, member)
    on_save_and_delete(ManifestoSignature, lambda s: [f"member:{s.user.username}", "lists"])
    on_save_and_delete(ManifestoVersion, lambda v: ["site"])
    # The home page shows the reader's translation of the preamble (issue 22).
    on_save_and_delete(ManifestoTranslation, lambda t: ["site"])
    on_save_and_delete(Value, lambda v: ["site"])
    # The home page's recent activity.
    on_save_and_delete(Activity, lambda a: ["lists"])
    # The follow button's count on the followed challenge's, solution's or member's page.
    from .following import follow_page_scopes

    on_save_and_delete(Follow, follow_page_scopes)
    # A verified address makes a profile public and a member count on the home page (issue 18).
    from allauth.account.models import EmailAddress

    on_save_and_delete(EmailAddress, lambda a: [f"member:{a.user.username}", "lists"])
