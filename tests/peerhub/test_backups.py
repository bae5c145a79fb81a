"""A backup can be restored: members, solutions, votes, the reputation ledger and the money
ledger come back exactly as they were, and the audits pass on the restored database. On
PostgreSQL through pg_dump/pg_restore (the full-stack run), on SQLite through its backup API."""

import pytest
from django.core.management import call_command
from django.db import connection

from marketplace import ledger as money
from marketplace.models import LedgerEntry, Order
from peerhub.models import User
from reputation import ledger as reputation_ledger
from reputation import services as reputation_services
from reputation.models import ReputationEvent, Vote
from tests.factories import UserFactory, make_solution
from tests.marketplace.factories import delivered_order

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot() -> dict:
    return {
        "users": sorted(User.objects.values_list("username", flat=True)),
        "votes": sorted(Vote.objects.values_list("solution_id", "voter_id", "value")),
        "reputation": sorted(ReputationEvent.objects.values_list("fact_key", "amount")),
        "money": sorted(LedgerEntry.objects.values_list("transaction__key", "amount")),
        "orders": sorted(Order.objects.values_list("pk", "state")),
    }


@pytest.mark.services
def test_a_backup_restores_everything_and_the_audits_pass(tmp_path, postgres):
    """On PostgreSQL (SQLite's test database lives in memory: its path is the next test's)."""
    solution = make_solution()
    reputation_services.vote_cast(voter=UserFactory(), solution=solution, value=Vote.UP)
    order = delivered_order()
    from marketplace import services

    services.order_accept(order=order, by=order.buyer)
    before = snapshot()
    backup = tmp_path / "peerhub.dump"
    call_command("backup_database", str(backup))
    assert backup.stat().st_size > 0

    # A disaster: members and their money gone.
    Vote.objects.all().delete()
    UserFactory(username="after-the-backup")
    connection.close()
    call_command("restore_database", str(backup), "--yes")

    assert snapshot() == before
    assert money.audit() == []
    assert reputation_ledger.sync_everything() == 0


def test_sqlite_backup_roundtrip(tmp_path, settings):
    """The embedded default's path: sqlite3's backup API, both ways, on a file database."""
    import sqlite3

    from peerhub import backups

    live = tmp_path / "live.sqlite3"
    db = sqlite3.connect(live)
    db.execute("create table t (x)")
    db.execute("insert into t values (1), (2)")
    db.commit()
    db.close()
    database = {**connection.settings_dict, "ENGINE": "django.db.backends.sqlite3", "NAME": live}
    from unittest import mock

    with mock.patch.object(backups, "_database", return_value=database):
        backups.backup(tmp_path / "copy.sqlite3")
        db = sqlite3.connect(live)
        db.execute("delete from t")
        db.commit()
        db.close()
        backups.restore(tmp_path / "copy.sqlite3")
    db = sqlite3.connect(live)
    assert db.execute("select count(*) from t").fetchone() == (2,)
    db.close()
    assert not (tmp_path / "copy.sqlite3.partial").exists()


def test_restoring_asks_for_yes(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--yes"):
        call_command("restore_database", str(tmp_path / "x.dump"))
