"""Long database jobs run side by side, each on a connection of its own (issue 17).

A statement runs on one core of the database server (parallel plans aside, which the rebuild's
big statements mostly cannot use); a job made of independent statements (the nightly rebuild's
checks, the batches of an empty ledger's rebuild) leaves the other cores idle. `side_by_side`
runs such jobs on threads, each with its own connection and so its own transactions, and the
server runs their statements on as many cores. The Python threads mostly wait on the server.

Only on PostgreSQL and outside any transaction: a job on another connection would not see what
the caller's open transaction wrote, nor could the caller roll back what the job commits.
Elsewhere (SQLite, a test's transaction, a rebuild inside `transaction.atomic`) the jobs run one
after another on the caller's connection, which gives the same result: jobs passed here must not
depend on each other's order."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection, connections


def at_most() -> int:
    """How many connections a job may use side by side (settings.PEERHUB_SIDE_BY_SIDE): the
    database server's cores it may take at once; 1 runs everything on the caller's."""
    return max(1, int(getattr(settings, "PEERHUB_SIDE_BY_SIDE", 2)))


def possible() -> bool:
    """Whether jobs given now would run side by side."""
    return at_most() > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block


def side_by_side(*jobs: Callable[[], object]) -> list:
    """Run the jobs (callables without arguments), side by side when `possible()`, at most
    `at_most()` at once, and return their results in their order. An exception in
    a job is raised here once every job has stopped."""
    if len(jobs) < 2 or not possible():
        return [job() for job in jobs]

    def run(job):
        try:
            return job()
        finally:
            connections.close_all()  # this thread's own connections

    with ThreadPoolExecutor(max_workers=min(len(jobs), at_most())) as pool:
        futures = [pool.submit(run, job) for job in jobs]
    return [future.result() for future in futures]
