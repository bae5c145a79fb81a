"""peerhub.cores: jobs side by side on connections of their own on PostgreSQL outside a
transaction, one after another on the caller's connection everywhere else, the same results in
the same order either way."""

import threading

import pytest
from django.db import connection, transaction
from django.test import override_settings

from peerhub import cores


def backend() -> tuple[int, object]:
    """The thread a job ran on and the database session it used."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_backend_pid()")
            session = cursor.fetchone()[0]
        else:
            session = id(connection.connection)
    return threading.get_ident(), session


@pytest.mark.django_db
def test_inside_a_transaction_the_jobs_run_in_turn_on_the_callers_connection():
    assert connection.in_atomic_block
    here = backend()
    assert not cores.possible()
    assert cores.side_by_side(backend, backend, lambda: 3) == [here, here, 3]


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_outside_a_transaction_each_job_has_a_connection_of_its_own(postgres):
    here = backend()
    assert cores.possible()
    first, second = cores.side_by_side(backend, backend)
    assert here[1] not in (first[1], second[1])
    assert first[1] != second[1]
    assert here[0] not in (first[0], second[0])
    with transaction.atomic():
        assert not cores.possible()


@pytest.mark.django_db(transaction=True)
def test_jobs_run_at_once_up_to_the_setting(postgres):
    running, most, guard = [0], [0], threading.Lock()
    both_in = threading.Barrier(2, timeout=10)

    def job(n):
        def run():
            with guard:
                running[0] += 1
                most[0] = max(most[0], running[0])
            if n < 2:
                both_in.wait()  # the first two meet, so they ran at the same time
            with connection.cursor() as cursor:
                cursor.execute("SELECT %s", [n])
                value = cursor.fetchone()[0]
            with guard:
                running[0] -= 1
            return value

        return run

    with override_settings(PEERHUB_SIDE_BY_SIDE=2):
        assert cores.side_by_side(*(job(n) for n in range(5))) == [0, 1, 2, 3, 4]
    assert most[0] == 2
    with override_settings(PEERHUB_SIDE_BY_SIDE=1):
        assert not cores.possible()
        assert cores.side_by_side(job(7), job(8)) == [7, 8]


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_fails_the_call_once_every_job_has_stopped(postgres):
    failed, finished = threading.Event(), []

    def other():
        assert failed.wait(timeout=10)  # runs on after the failure
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        finished.append("other")

    def failing():
        failed.set()
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        cores.side_by_side(failing, other)
    assert finished == ["other"]
