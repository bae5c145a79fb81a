"""Request ids that follow a request into the tasks it queues, JSON logs, and Prometheus
metrics.

- Every request gets an id: the caller's `X-Request-ID` when it is a plain token (a proxy or a
  client's), or a new one; it is answered in `X-Request-ID`, stamped on every log record made
  while the request runs, and sent in the header of every Celery task the request publishes,
  so the worker's log lines for that task carry it too.
- LOG_FORMAT=json (the default with DEBUG off) writes one JSON object per line.
- /metrics answers Prometheus's text format to staff, to the addresses in
  METRICS_ALLOWED_NETWORKS (the loopback by default) or to a bearer METRICS_TOKEN: requests
  and their latency by view, and, read from the database at each scrape, the outbox backlog,
  provider events by state, refunds and payouts by state, and orders by state. With gunicorn's
  several workers set PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode) so the
  request counters add up across them.
"""

import contextlib
import contextvars
import ipaddress
import json
import logging
import re
import time
import uuid

from celery import signals
from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

HEADER = "X-Request-ID"
TASK_HEADER = "peerhub_request_id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

REQUESTS = Counter(
    "peerhub_http_requests_total", "HTTP requests answered", ["method", "view", "status"]
)
LATENCY = Histogram(
    "peerhub_http_request_seconds",
    "Time to answer an HTTP request",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First thing after the proxy middleware: the id exists for everything that logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        rid = incoming if _SAFE_ID.match(incoming) else new_request_id()
        token = request_id.set(rid)
        request.request_id = rid
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = rid
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match and match.view_name else "unmatched"
        if view != "metrics":
            LATENCY.labels(view=view).observe(time.perf_counter() - started)
            REQUESTS.labels(method=request.method, view=view, status=response.status_code).inc()
        return response


class RequestIdFilter(logging.Filter):
    """Stamps `request_id` on every record (empty outside a request or a task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


# --- The id into Celery tasks -----------------------------------------------------------------


@signals.before_task_publish.connect(dispatch_uid="peerhub-request-id-publish")
def _stamp_task(headers=None, **kwargs) -> None:
    rid = request_id.get()
    if rid and headers is not None:
        headers.setdefault(TASK_HEADER, rid)


@signals.task_prerun.connect(dispatch_uid="peerhub-request-id-prerun")
def _task_started(task=None, **kwargs) -> None:
    rid = getattr(task.request, TASK_HEADER, None) or (
        (getattr(task.request, "headers", None) or {}).get(TASK_HEADER)
    )
    task.request.peerhub_request_token = request_id.set(rid or request_id.get() or "")


@signals.task_postrun.connect(dispatch_uid="peerhub-request-id-postrun")
def _task_ended(task=None, **kwargs) -> None:
    token = getattr(task.request, "peerhub_request_token", None)
    if token is not None:
        # ValueError: set in another context (an eager task inside a request).
        with contextlib.suppress(ValueError):
            request_id.reset(token)


# --- /metrics -------------------------------------------------------------------------------


class StateCollector:
    """Gauges read from the database at each scrape: the same figure whichever process asks."""

    def collect(self):
        from django.db.models import Count

        from marketplace.models import Order, Payout, ProviderEvent, Refund

        from .outbox import outbox_backlog

        backlog = GaugeMetricFamily(
            "peerhub_outbox_tasks", "Promised tasks not yet done, by condition", labels=["kind"]
        )
        for kind, value in outbox_backlog().items():
            backlog.add_metric([kind], value)
        yield backlog
        queued = _queue_length()
        if queued is not None:
            yield GaugeMetricFamily(
                "peerhub_celery_queue_messages",
                "Messages waiting in the default Celery queue (tasks published, not yet taken)",
                value=queued,
            )
        for name, model, help_text in (
            ("peerhub_provider_events", ProviderEvent, "Payment provider events by state"),
            ("peerhub_refunds", Refund, "Refunds by state"),
            ("peerhub_payouts", Payout, "Payouts by state"),
            ("peerhub_orders", Order, "Orders by state"),
        ):
            family = GaugeMetricFamily(name, help_text, labels=["state"])
            for row in model.objects.values("state").annotate(n=Count("pk")).order_by():
                family.add_metric([row["state"]], row["n"])
            yield family


def _queue_length() -> int | None:
    """The default queue's length on a Redis broker (a list of that name); None without one."""
    if not settings.REDIS_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    import redis

    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2)
        return int(client.llen(settings.CELERY_TASK_DEFAULT_QUEUE))
    except redis.RedisError:
        return None


def _may_see_metrics(request) -> bool:
    token = settings.PEERHUB_METRICS["token"]
    if token and request.headers.get("Authorization", "") == f"Bearer {token}":
        return True
    if getattr(request.user, "is_staff", False):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.PEERHUB_METRICS["networks"])


def metrics(request):
    if not _may_see_metrics(request):
        return HttpResponseForbidden("Metrics are for staff and the internal network.")
    registry = CollectorRegistry()
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessMetrics())
    registry.register(StateCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def multiprocess_dir() -> str:
    import os

    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


class _ProcessMetrics:
    """This process's request counters (without multiprocess mode)."""

    def collect(self):
        from prometheus_client import REGISTRY

        for family in REGISTRY.collect():
            if family.name.startswith("peerhub_http"):
                yield family
