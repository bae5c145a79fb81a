"""Request ids, JSON logs and /metrics: every answer names its request id, a caller's plain id
is kept and a hostile one replaced, log records carry it, so do the tasks a request queues;
/metrics is for staff and the internal network and counts what matters."""

import json
import logging

import pytest
from django.test import TestCase

from peerhub import observability
from peerhub.models import OutboxTask
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_every_answer_names_its_request_id_and_a_plain_incoming_one_is_kept(client):
    fresh = client.get("/healthz")
    assert len(fresh["X-Request-ID"]) == 32
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-1234-abcd"})
    assert kept["X-Request-ID"] == "lb-1234-abcd"
    hostile = client.get("/healthz", headers={"X-Request-ID": "x\n<script>" * 3})
    assert hostile["X-Request-ID"] != "x\n<script>" * 3 and len(hostile["X-Request-ID"]) == 32


def test_log_records_and_the_tasks_a_request_promises_carry_its_request_id(client):
    """The id is kept on the outbox row, so the task carries it even when the sweep publishes
    it long after the request ended."""
    from celery import signals

    from tests.marketplace.factories import paid_order

    order = paid_order()
    seen = []

    def spy(task=None, **kwargs):
        seen.append((task.name, observability.request_id.get()))

    signals.task_prerun.connect(spy, weak=False, dispatch_uid="test-spy")
    try:
        client.force_login(order.seller)
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client.post(
                f"/marketplace/orders/{order.pk}/messages/",
                {"body": "When do you need it?"},
                headers={"X-Request-ID": "req-abcdef12"},
            )
    finally:
        signals.task_prerun.disconnect(dispatch_uid="test-spy")
    assert response["X-Request-ID"] == "req-abcdef12"
    assert ("peerhub.tasks.deliver_notifications", "req-abcdef12") in seen
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    observability.RequestIdFilter().filter(record)
    assert record.request_id == ""  # outside a request and a task


def test_the_json_formatter_writes_one_object_per_line():
    record = logging.LogRecord("peerhub.x", logging.WARNING, __file__, 1, "a %s", ("b",), None)
    record.request_id = "req-1"
    line = observability.JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "a b" and entry["request_id"] == "req-1"
    assert entry["level"] == "WARNING" and "\n" not in line


def test_metrics_are_for_staff_and_the_internal_network(client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.5").status_code == 403
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.5").status_code == 200


def test_metrics_bearer_token(client, settings):
    settings.PEERHUB_METRICS = {**settings.PEERHUB_METRICS, "token": "s3cret-metrics-token"}
    headers = {"Authorization": "Bearer s3cret-metrics-token"}
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.5", headers=headers).status_code == 200


def test_metrics_count_requests_and_read_the_backlogs(client):
    from peerhub import tasks

    client.get("/healthz")
    OutboxTask.objects.create(
        task=tasks.purge_stale_unverified_accounts.name, next_attempt_at="2030-01-01T00:00Z"
    )
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'peerhub_http_requests_total{method="GET",status="200",view="healthz"}' in text
    assert "peerhub_http_request_seconds_bucket" in text
    assert 'peerhub_outbox_tasks{kind="waiting"} 1.0' in text
    assert "peerhub_provider_events" in text and "peerhub_orders" in text
    from tests.conftest import using_redis

    if using_redis():  # the broker's queue length, read from Redis
        assert "peerhub_celery_queue_messages " in text
