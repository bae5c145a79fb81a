"""peerhub.bulk: a big append with a table's foreign keys checked and its secondary indexes built
once at the end (PostgreSQL), as the full reputation rebuild of an empty ledger uses it. The keys
and indexes come back with the names, rules and validity they had; a run cut short gets them back
at the next rebuild; a row naming a row deleted meanwhile gets what the key's on_delete says; and
when the drop cannot have its lock in time, or runs inside a transaction, nothing is dropped."""

import datetime
import re
from decimal import Decimal
from unittest import mock

import psycopg2
import pytest
from django.db import connection, transaction
from django.utils.translation import gettext_lazy

from peerhub import bulk
from reputation import boards, ledger, services
from reputation.models import ReputationDay, ReputationEvent, ReputationScore
from tests.factories import UserFactory, make_fork, make_solution

LEDGER = ReputationEvent._meta.db_table
BOARD = ReputationDay._meta.db_table


def keys(table: str) -> dict[str, tuple[str, str, bool]]:
    """column -> (name, definition, validated) of the table's foreign keys."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname, c.conname, pg_get_constraintdef(c.oid), c.convalidated "
            "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
            "AND a.attnum = c.conkey[1] WHERE c.conrelid = %s::regclass AND c.contype = 'f'",
            [table],
        )
        return {column: (name, text, ok) for column, name, text, ok in cursor.fetchall()}


# PostgreSQL writes a partial index's condition back with its casts where it inferred them:
# the same condition, created again from that text, reads with its casts placed otherwise.
CASTS = re.compile(r"::(character varying|text|integer|bigint|boolean)(\[\])?")


def indexes(table: str) -> dict[str, str]:
    """name -> definition of the table's indexes (the primary key's and the unique ones too),
    without the casts and parentheses PostgreSQL adds when it writes them back."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = %s",
            [table],
        )
        return {
            name: CASTS.sub("", text).replace("(", "").replace(")", "")
            for name, text in cursor.fetchall()
        }


def scores() -> list[tuple]:
    return sorted(ReputationScore.objects.values_list("user_id", "ledger_sum", "trust_level"))


def lines() -> list[tuple]:
    return sorted(
        ReputationEvent.objects.values_list(
            "fact_key", "seq", "kind", "beneficiary_id", "actor_id", "solution_id",
            "source_solution_id", "amount", "capped", "note",
        )
    )  # fmt: skip


def community():
    """A root, a remix and a remix of it, voted on by verified members."""
    authors = UserFactory.create_batch(3)
    root = make_solution(author=authors[0])
    fork = make_fork(root, authors[1])
    grandchild = make_fork(fork, authors[2])
    for voter in UserFactory.create_batch(4):
        for solution in (root, fork, grandchild):
            services.vote_cast(solution=solution, voter=voter, value=1)
    ledger.sync_everything()


@pytest.mark.django_db(transaction=True)
def test_an_empty_ledger_is_rebuilt_with_its_keys_away_and_gets_them_back(postgres):
    community()
    expected, ledger_keys, board_keys = lines(), keys(LEDGER), keys(BOARD)
    expected_scores = scores()
    ledger_indexes, board_indexes = indexes(LEDGER), indexes(BOARD)
    assert set(ledger_keys) == {"beneficiary_id", "actor_id", "solution_id", "source_solution_id"}
    assert set(board_keys) == {"member_id", "challenge_id"}
    assert {"event_beneficiary_time", "event_not_from_votes"} <= set(ledger_indexes)
    assert {"board_member_day", "board_day_member"} <= set(board_indexes)
    ReputationEvent.objects.all()._raw_delete("default")
    ReputationDay.objects.all()._raw_delete("default")
    ReputationScore.objects.update(ledger_sum=0)
    seen = {}
    rebuild, derive, write = ledger.rebuild_set_based, boards._rewrite_changed, boards._write_all

    def watched(**kwargs):
        seen["during"] = keys(LEDGER)
        seen["indexes"] = indexes(LEDGER)
        return rebuild(**kwargs)

    def watched_board(*args):
        seen["board"] = keys(BOARD), indexes(BOARD)
        return derive(*args)

    def watched_write(*args):
        # With no rows stored, every derived row is written at once (no comparison).
        seen["board"] = keys(BOARD), indexes(BOARD)
        return write(*args)

    with (
        mock.patch.object(ledger, "rebuild_set_based", watched),
        mock.patch.object(boards, "_rewrite_changed", side_effect=AssertionError),
        mock.patch.object(boards, "_write_all", watched_write),
    ):
        assert ledger.sync_everything() == len(expected)
    assert seen["during"] == {}  # the lines went in unchecked...
    # ...and unindexed but for the unique key, the primary key and what the load reads...
    by_solution = next(n for n, t in ledger_indexes.items() if t.endswith("btree solution_id"))
    assert set(seen["indexes"]) == {"one_ledger_line_per_step", f"{LEDGER}_pkey", by_solution}
    assert seen["board"] == ({}, {f"{BOARD}_pkey": board_indexes[f"{BOARD}_pkey"]})
    assert keys(LEDGER) == ledger_keys  # ...and the same keys are back, validated
    assert keys(BOARD) == board_keys
    assert indexes(LEDGER) == ledger_indexes  # and the same indexes
    assert indexes(BOARD) == board_indexes
    assert all(ok for _name, _text, ok in ledger_keys.values())
    assert [line[:8] for line in lines()] == [line[:8] for line in expected]
    assert scores() == expected_scores
    # A ledger with lines keeps its keys and indexes through a rebuild.
    with (
        mock.patch.object(ledger, "rebuild_set_based", watched),
        mock.patch.object(boards, "_rewrite_changed", watched_board),
    ):
        assert ledger.sync_everything() == 0
    assert seen["during"] == ledger_keys
    assert seen["indexes"] == ledger_indexes


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_puts_back_the_keys_a_run_cut_short_left_missing_or_unchecked(postgres):
    community()
    before = keys(LEDGER)
    name = before["actor_id"][0]
    with connection.cursor() as cursor:  # what a worker killed inside the load leaves
        cursor.execute(f'ALTER TABLE {LEDGER} DROP CONSTRAINT "{name}"')
        cursor.execute(f'ALTER TABLE {LEDGER} DROP CONSTRAINT "{before["solution_id"][0]}"')
        cursor.execute(
            f'ALTER TABLE {LEDGER} ADD CONSTRAINT "{before["solution_id"][0]}" FOREIGN KEY '
            "(solution_id) REFERENCES challenges_solution (id) DEFERRABLE INITIALLY DEFERRED "
            "NOT VALID"
        )
    assert "actor_id" not in keys(LEDGER) and not keys(LEDGER)["solution_id"][2]
    built = indexes(LEDGER), indexes(BOARD)
    with connection.cursor() as cursor:  # and what one killed after dropping the indexes leaves
        cursor.execute('DROP INDEX "event_beneficiary_time"')
        cursor.execute('DROP INDEX "board_member_day"')
    ledger.sync_everything()
    after = keys(LEDGER)
    assert after["actor_id"][1:] == before["actor_id"][1:]  # the same rule, validated
    assert after["solution_id"] == before["solution_id"]
    assert (indexes(LEDGER), indexes(BOARD)) == built


@pytest.mark.django_db(transaction=True)
def test_a_line_naming_a_row_deleted_meanwhile_gets_what_on_delete_says(postgres):
    community()
    line = ReputationEvent.objects.exclude(actor=None).first()
    gone = 10_000_000
    with bulk.loading(ReputationEvent) as away:
        assert away
        fields = {
            f.attname: getattr(line, f.attname)
            for f in ReputationEvent._meta.concrete_fields
            if not f.primary_key
        }
        orphan = ReputationEvent.objects.create(**{**fields, "seq": 90, "beneficiary_id": gone})
        stray = ReputationEvent.objects.create(**{**fields, "seq": 91, "actor_id": gone})
    assert not ReputationEvent.objects.filter(pk=orphan.pk).exists()  # CASCADE: deleted
    stray.refresh_from_db()
    assert stray.actor_id is None  # SET_NULL: cleared
    assert all(ok for _name, _text, ok in keys(LEDGER).values())


@pytest.mark.django_db(transaction=True)
def test_the_keys_stay_when_their_lock_is_not_to_be_had_in_time(postgres):
    before, built = keys(LEDGER), indexes(LEDGER)
    params = connection.get_connection_params()
    reader = psycopg2.connect(**params)
    try:
        with reader.cursor() as cursor:  # a long reader of the ledger, in its transaction
            cursor.execute("SELECT COUNT(*) FROM reputation_reputationevent")
        with (
            mock.patch.object(bulk, "LOCK_WAIT", "50ms"),
            bulk.loading(ReputationEvent) as away,
        ):
            assert not away
            assert keys(LEDGER) == before
            assert indexes(LEDGER) == built
    finally:
        reader.close()
    assert keys(LEDGER) == before


@pytest.mark.django_db
def test_nothing_is_dropped_inside_a_transaction():
    """Inside one, the drop's lock would last until its end: the append keeps its keys (and on
    SQLite there is nothing to drop)."""
    with transaction.atomic(), bulk.loading(ReputationEvent) as away:
        assert not away


@pytest.mark.django_db(transaction=True)
def test_a_fanned_out_rebuild_puts_back_a_missing_key_and_index_too(postgres):
    from reputation import partitions

    community()
    before, built = keys(BOARD), indexes(BOARD)
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE {BOARD} DROP CONSTRAINT "{before["member_id"][0]}"')
        cursor.execute('DROP INDEX "board_day_member"')
    assert "member_id" not in keys(BOARD)
    partitions.run_inline(partitions.REPUTATION, 2)
    after = keys(BOARD)
    assert after["member_id"][1:] == before["member_id"][1:]  # the same rule, validated
    assert after["challenge_id"] == before["challenge_id"]
    assert indexes(BOARD) == built


@pytest.mark.django_db(transaction=True)
def test_append_writes_what_bulk_create_writes(postgres):
    """Through COPY: text with tabs, newlines, carriage returns and backslashes, nulls, booleans,
    amounts and times with their offset come back as bulk_create stores them."""
    community()
    template = ReputationEvent.objects.exclude(actor=None).first()
    fields = {
        f.attname: getattr(template, f.attname)
        for f in ReputationEvent._meta.concrete_fields
        if not f.primary_key
    }
    moment = template.fact_at.astimezone(datetime.timezone(datetime.timedelta(hours=-5)))
    rows = [
        {"note": "tab\there\nnewline\r\\N back\\slash", "amount": Decimal("-12.50")},
        {"note": "", "actor_id": None, "capped": True, "fact_at": moment},
        {"note": gettext_lazy("serial voting"), "solution_id": None, "amount": Decimal("3")},
    ]

    columns = [name for name in fields if name != "fact_key"]

    def stored(prefix: str) -> list[dict]:
        values = ReputationEvent.objects.filter(fact_key__startswith=prefix).order_by("seq")
        return list(values.values(*columns))

    def built(prefix: str) -> list[ReputationEvent]:
        return [
            ReputationEvent(**{**fields, **row, "fact_key": f"{prefix}:x", "seq": 10 + n})
            for n, row in enumerate(rows)
        ]

    ReputationEvent.objects.bulk_create(built("django"))
    bulk.append(ReputationEvent, built("copy"))
    assert stored("copy:") == stored("django:")
    assert stored("copy:")[0]["note"] == rows[0]["note"]
    bulk.append(ReputationEvent, [])  # nothing to write: no statement


def test_append_refuses_a_value_it_cannot_write():
    with pytest.raises(TypeError):
        bulk._copy_text(object())
