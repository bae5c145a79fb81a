"""`Idempotency-Key` for API POSTs that move money (pretix's api/middleware.py, per view).

The first answer to a key is stored and replayed for every repeat, error answers included; the
same key with different parameters is refused with 422; a repeat that arrives while the first
request still runs gets 409. Keys expire after 24 hours, as Stripe's do: a repeat after that is
a new request. A first request that never answered (its process was killed) holds its key only
as long as a request may run; then a repeat runs it afresh."""

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.response import Response

from peerhub.api.errors import error_body
from peerhub.exceptions import Conflict, DomainError

from ..models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_LIFETIME = timedelta(hours=24)
# Longer than any request may run (gunicorn's timeout): an unanswered key older than this was
# abandoned by a crashed process.
ABANDONED_AFTER = timedelta(minutes=5)


class KeyReused(DomainError):
    code = "idempotency_key_reused"
    status_code = 422


def _fingerprint(request) -> str:
    try:
        data = dict(request.data.lists()) if hasattr(request.data, "lists") else request.data
    except AttributeError:
        data = request.data
    canonical = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def idempotent(view_method):
    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key or not request.user.is_authenticated:
            return view_method(self, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise DomainError(f"{HEADER} is at most {MAX_KEY_LENGTH} characters.")
        fingerprint = _fingerprint(request)
        now = timezone.now()
        IdempotentRequest.objects.filter(user=request.user, key=key).filter(
            Q(created_at__lt=now - KEY_LIFETIME)
            | Q(status_code__isnull=True, created_at__lt=now - ABANDONED_AFTER)
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    user=request.user, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            record = IdempotentRequest.objects.get(user=request.user, key=key)
            if record.fingerprint != fingerprint:
                raise KeyReused(
                    _("This {header} was used for a different request.").format(header=HEADER)
                ) from None
            if record.status_code is None:
                raise Conflict(
                    _("A request with this {header} is still running.").format(header=HEADER),
                    code="idempotency_busy",
                ) from None
            response = Response(record.body, status=record.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = view_method(self, request, *args, **kwargs)
        except DomainError as error:
            response = Response(
                error_body(status_code=error.status_code, code=error.code, message=error.message),
                status=error.status_code,
                headers=getattr(error, "headers", None),
            )
            if error.status_code == 429:  # "not now" is no answer: a retry later may run it
                record.delete()
                return response
        except Exception:
            record.delete()  # not an answer: let a retry run the request
            raise
        if response.status_code >= 500:
            record.delete()
            return response
        record.status_code = response.status_code
        record.body = response.data
        record.save(update_fields=["status_code", "body"])
        return response

    return wrapper
