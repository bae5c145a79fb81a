"""The full rebuild's check of the lines that votes do not give (`ledger.
_other_solutions_to_correct_sql`): per solution, what its reviews, forks and accepted upstream
proposals give against what the ledger holds of those kinds. The set-based rebuild derives
those lines (in SQL on PostgreSQL, in Python elsewhere) only for the solutions the check names,
so a check that missed one would leave its ledger wrong.

Each case below changes a fact behind the ledger's back (a queryset update, no sync) or
tampers with a line, then asserts that the set-based rebuild appends exactly what the Python
rebuild appends (everywhere) and that the check names exactly the solution under which the
changed lines are filed (PostgreSQL, where the check runs; skipped elsewhere)."""

from contextlib import contextmanager
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test import override_settings

from challenges import services as challenge_services
from challenges.models import Solution, UpstreamProposal
from reputation import boards, ledger, outliers, trust
from reputation import rules as rules_module
from reputation.models import ReputationDay, ReputationEvent, Review, Vote
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.reputation.test_set_based import START, python_rebuild, snapshot, trust_snapshot

pytestmark = pytest.mark.django_db

Kind = ReputationEvent.Kind


def review(solution, reviewer, mean: str, *, day: int = 0) -> Review:
    at = START + timedelta(days=day)
    return Review.objects.create(
        solution=solution, reviewer=reviewer, comment="Reviewed.", mean_score=Decimal(mean),
        created_at=at, updated_at=at,
    )  # fmt: skip


def world() -> dict:
    """A lineage root ← fork ← grandchild, a second fork of the root by the fork's author (two
    `forked:` lines with one actor and one beneficiary), an unchanged copy of the root, an
    accepted upstream proposal from the fork, reviews that credit the lineage, a low-trust
    reviewer, an outlier review (reputation.outliers) and an upvote (whose capped lineage lines
    the check must leave to the votes'), with the ledger right."""
    a, b, c, d, r1, r2, low = UserFactory.create_batch(7)
    challenge = ChallengeFactory()
    root = make_solution(challenge, a)
    fork = make_fork(root, b)
    grandchild = make_fork(fork, c)
    second = make_fork(root, b)
    copy = make_fork(root, d, changed=False)
    proposal = challenge_services.upstream_propose(fork=fork, by=b, message="Take it")
    challenge_services.upstream_accept(proposal=proposal, by=a)
    trust_snapshot({0}, [low, a, b, c, d, r1, r2])
    review(grandchild, r1, "4.50")  # 6.00; 1.20 to b, 0.24 to a
    review(grandchild, r2, "4.00")  # 4.00; 0.80 to b, 0.16 to a
    review(grandchild, low, "5.00")  # low trust: a noted 0, no lineage credit
    review(copy, r1, "4.00")  # an unchanged fork: a noted 0, and no lineage credit (a copy)
    review(second, c, "5.00")  # 8.00; 1.60 to a
    review(second, d, "1.00", day=1)  # 4 points from the day before: an outlier, a noted 0
    review(fork, r2, "3.00")  # gives nothing, not even a line
    review(root, r2, "1.50")  # -6.00
    Vote.objects.create(solution=grandchild, voter=r1, value=1, created_at=START, updated_at=START)
    python_rebuild()
    return {
        "members": {"a": a, "b": b, "c": c, "d": d, "r1": r1, "r2": r2, "low": low},
        "root": root, "fork": fork, "grandchild": grandchild, "second": second, "copy": copy,
        "proposal": proposal,
    }  # fmt: skip


def lines(key: str):
    return ReputationEvent.objects.filter(fact_key=key)


def review_key(w, solution: str, reviewer: str) -> str:
    return f"review:{w[solution].pk}:{w['members'][reviewer].pk}"


# Each case changes the world and returns the names of the solutions the check must name.


def delete_review_line(w):
    lines(review_key(w, "grandchild", "r1")).delete()
    return "grandchild"


def tamper_review_line(w):
    lines(review_key(w, "root", "r2")).update(amount=Decimal("-5.99"))
    return "root"


def delete_lineage_line_from_a_review(w):
    lines(f"{review_key(w, 'grandchild', 'r2')}:L{w['members']['a'].pk}").delete()
    return "grandchild"


def tamper_lineage_line_from_a_review(w):
    key = f"{review_key(w, 'grandchild', 'r2')}:L{w['members']['b'].pk}"
    lines(key).update(amount=Decimal("0.81"))
    return "grandchild"


def outlier_review_moves_back(w):
    # Rescored near the consensus, its verdict refreshed as the review service does, but the
    # ledger not synced: the review counts now.
    Review.objects.filter(solution=w["second"], reviewer=w["members"]["d"]).update(
        mean_score=Decimal("4.50")
    )
    outliers.reviews_mark_outliers([w["second"].pk])
    return "second"


def swap_two_review_lines(w):
    """Two keys' amounts swapped: the sum stays, the checksum weighted by key does not."""
    lines(review_key(w, "grandchild", "r1")).update(amount=Decimal("4.00"))
    lines(review_key(w, "grandchild", "r2")).update(amount=Decimal("6.00"))
    return "grandchild"


def delete_forked_line(w):
    lines(f"forked:{w['fork'].pk}").delete()
    return "root"


def swap_the_forked_lines_of_one_forker(w):
    """One fork's line taken back and the other's doubled: the sum stays, and so would a
    checksum weighted by (kind, actor, beneficiary), which both keys share: the fork's id
    tells them apart."""
    lines(f"forked:{w['fork'].pk}").update(amount=Decimal(0))
    lines(f"forked:{w['second'].pk}").update(amount=Decimal(10))
    return "root"


def delete_upstream_line(w):
    lines(f"upstream:{w['proposal'].pk}").delete()
    return "root"


def tamper_upstream_line(w):
    lines(f"upstream:{w['proposal'].pk}").update(amount=Decimal(14))
    return "root"


def delete_noted_line_of_a_low_trust_review(w):
    """Sums cannot see it (0 either way): the key's absence names the solution."""
    lines(review_key(w, "grandchild", "low")).delete()
    return "grandchild"


def delete_noted_line_of_a_review_of_an_unchanged_fork(w):
    lines(review_key(w, "copy", "r1")).delete()
    return "copy"


def rescore_a_review(w):
    Review.objects.filter(solution=w["grandchild"], reviewer=w["members"]["r2"]).update(
        mean_score=Decimal("2.25")
    )
    return "grandchild"


def rescore_a_review_to_nothing(w):
    Review.objects.filter(solution=w["root"], reviewer=w["members"]["r2"]).update(
        mean_score=Decimal("3.00")
    )
    return "root"


def new_review(w):
    review(w["second"], w["members"]["r1"], "3.75")
    return "second"


def reviewer_turns_low_trust(w):
    """r2's reviews of the grandchild and the root turn into noted lines of 0; of the fork,
    which gave nothing, into nothing still."""
    m = w["members"]
    trust_snapshot({0}, [m["r2"], m["a"], m["b"], m["c"], m["d"], m["r1"], m["low"]])
    return "grandchild", "root"


def fork_turns_unchanged(w):
    # Its reviews' lines, and its parent's `forked:` line (a copy earns its parent none).
    Solution.objects.filter(pk=w["grandchild"].pk).update(unchanged_fork=True)
    return ["fork", "grandchild"]


def unchanged_copy_changes(w):
    # Its review's lines, and its parent's `forked:` line (given once it is more than a copy).
    Solution.objects.filter(pk=w["copy"].pk).update(unchanged_fork=False)
    return ["root", "copy"]


def fork_unpublished(w):
    Solution.objects.filter(pk=w["second"].pk).update(published_at=None)
    return "root"


def proposal_declined_after_all(w):
    UpstreamProposal.objects.filter(pk=w["proposal"].pk).update(
        status=UpstreamProposal.Status.DECLINED, decline_reason="Changed my mind."
    )
    return "root"


CASES = [
    delete_review_line,
    tamper_review_line,
    delete_lineage_line_from_a_review,
    tamper_lineage_line_from_a_review,
    outlier_review_moves_back,
    swap_two_review_lines,
    delete_forked_line,
    swap_the_forked_lines_of_one_forker,
    delete_upstream_line,
    tamper_upstream_line,
    delete_noted_line_of_a_low_trust_review,
    delete_noted_line_of_a_review_of_an_unchanged_fork,
    rescore_a_review,
    rescore_a_review_to_nothing,
    new_review,
    reviewer_turns_low_trust,
    fork_turns_unchanged,
    unchanged_copy_changes,
    fork_unpublished,
    proposal_declined_after_all,
]


def named() -> list[int]:
    """The solutions the check names, as the rebuild runs it (the latest trust snapshot)."""
    sql, params = ledger._other_solutions_to_correct_sql(
        rules_module.rules(), trust.latest_snapshot_id()
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def python_lines():
    """What the Python rebuild appends from here, seen and rolled back."""
    with transaction.atomic():
        python_rebuild()
        expected = snapshot()
        transaction.set_rollback(True)
    return expected


def test_the_world_holds_every_kind_of_line_the_check_reads():
    w = world()
    m = w["members"]
    held = snapshot()[1]
    assert held[review_key(w, "grandchild", "r1")] == Decimal("6.00")
    assert held[f"{review_key(w, 'grandchild', 'r1')}:L{m['b'].pk}"] == Decimal("1.20")
    assert held[f"{review_key(w, 'grandchild', 'r1')}:L{m['a'].pk}"] == Decimal("0.24")
    assert held[review_key(w, "grandchild", "low")] == 0
    assert held[review_key(w, "copy", "r1")] == 0
    assert f"{review_key(w, 'copy', 'r1')}:L{m['a'].pk}" not in held
    assert held[review_key(w, "second", "c")] == Decimal("8.00")
    assert held[review_key(w, "second", "d")] == 0  # an outlier
    assert f"{review_key(w, 'second', 'd')}:L{m['a'].pk}" not in held
    assert review_key(w, "fork", "r2") not in held
    assert held[f"forked:{w['fork'].pk}"] == held[f"forked:{w['second'].pk}"] == 5
    assert held[f"upstream:{w['proposal'].pk}"] == 15
    assert held[f"up:{w['grandchild'].pk}:{m['r1'].pk}:L{m['b'].pk}"] == 2


@pytest.mark.parametrize("change", CASES)
def test_set_based_rebuild_corrects_what_the_python_rebuild_corrects(change):
    w = world()
    change(w)
    expected = python_lines()
    appended = ledger.sync_everything(set_based=True)
    assert appended > 0
    assert snapshot() == expected
    assert ledger.sync_everything(set_based=True) == 0


def vote_lines_taken_away(w):
    """Votes changed behind the ledger's back too, so that both checks name solutions."""
    Vote.objects.filter(solution=w["grandchild"]).update(value=-1)
    Vote.objects.create(
        solution=w["root"], voter=w["members"]["r2"], value=1, created_at=START, updated_at=START
    )
    return ["grandchild", "root"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("changes", [CASES[:8], CASES[8:], [vote_lines_taken_away]])
def test_side_by_side_the_rebuild_appends_what_one_connection_appends(postgres, changes):
    """Outside a transaction on PostgreSQL the two checks run side by side and the batches are
    dealt out to two connections (peerhub.cores): the same lines as the Python rebuild, one
    solution per batch so that both connections take batches."""
    w = world()
    for change in changes:
        change(w)
    # A board row wrong behind the boards' back too: mended from the lines the batches wrote.
    row = ReputationDay.objects.filter(member=w["members"]["a"]).order_by("pk").first()
    ReputationDay.objects.filter(pk=row.pk).update(other=row.other + 3)
    expected = python_lines()
    with (
        override_settings(PEERHUB_SIDE_BY_SIDE=2),
        mock.patch.object(ledger.cores, "side_by_side", wraps=ledger.cores.side_by_side) as fanned,
    ):
        assert ledger.sync_everything(batch_size=1, set_based=True) > 0
    assert snapshot() == expected
    # The two checks side by side, then the batches.
    assert [len(call.args) for call in fanned.call_args_list] == [2, 2]
    assert board_rows() == rows_derived_again()
    assert ledger.sync_everything(batch_size=1, set_based=True) == 0


def board_rows() -> list[tuple]:
    """The board rows that count (a row of 0 and 0 counts on no board and is left as it is)."""
    rows = ReputationDay.objects.exclude(gained=0, other=0)
    return sorted(rows.values_list("member_id", "day", "challenge_id", "gained", "other"))


def rows_derived_again() -> list[tuple]:
    """The board rows derived from nothing, seen and rolled back."""
    with transaction.atomic():
        ReputationDay.objects.all().delete()
        boards.rebuild()
        rows = board_rows()
        transaction.set_rollback(True)
    return rows


@pytest.mark.django_db(transaction=True)
def test_the_board_check_runs_beside_and_holds_while_nothing_is_appended(postgres):
    """The nightly rebuild checks the board rows beside its checks of the solutions' lines
    (`boards.check`, on a connection of its own). With nothing to correct in the ledger that
    check is the rows' only one, and the member it names is mended; once the rebuild appends
    lines (which do not keep the rows, as the syncs' do), the rows are checked again after
    them."""
    w = world()

    def damage():
        row = ReputationDay.objects.filter(member=w["members"]["a"]).order_by("pk").first()
        ReputationDay.objects.filter(pk=row.pk).update(other=row.other + 3)

    compare = mock.Mock(wraps=boards._members_to_derive)
    damage()
    with (
        override_settings(PEERHUB_SIDE_BY_SIDE=2),
        mock.patch.object(boards, "_members_to_derive", compare),
    ):
        assert ledger.sync_everything(set_based=True) == 0
        assert compare.call_count == 1
        damage()
        vote_lines_taken_away(w)
        assert ledger.sync_everything(set_based=True) > 0
        assert compare.call_count == 3
    assert board_rows() == rows_derived_again()


@pytest.mark.django_db(transaction=True)
def test_an_empty_ledger_is_derived_whole_without_checks_and_with_fresh_verdicts(postgres):
    """An empty ledger (a first load) needs every solution's lines: none of the checks runs.
    The outlier verdicts, refreshed beside the first batches, are fresh before any batch's
    other lines read them: the same lines as the Python rebuild from nothing, side by side."""
    w = world()
    # A verdict wrong behind the services' back: the rebuild refreshes it before it counts.
    Review.objects.filter(solution=w["second"], reviewer=w["members"]["d"]).update(outlier=False)
    ReputationEvent.objects.all()._raw_delete("default")
    ReputationDay.objects.all()._raw_delete("default")
    expected = python_lines()
    with (
        override_settings(PEERHUB_SIDE_BY_SIDE=2),
        mock.patch.object(ledger, "_solutions_to_correct_sql", side_effect=AssertionError),
        mock.patch.object(ledger, "_other_solutions_to_correct_sql", side_effect=AssertionError),
        mock.patch.object(boards, "_members_to_derive", side_effect=AssertionError),
    ):
        assert ledger.sync_everything(batch_size=1, set_based=True) == len(expected[0])
    assert snapshot() == expected
    assert expected[1][review_key(w, "second", "d")] == 0  # an outlier again
    assert board_rows() == rows_derived_again()
    assert ledger.sync_everything(batch_size=1, set_based=True) == 0


@pytest.mark.parametrize("change", CASES)
def test_the_check_names_exactly_the_solution_whose_lines_changed(postgres, change):
    w = world()
    assert named() == []
    names = change(w)
    assert named() == sorted(w[name].pk for name in ([names] if isinstance(names, str) else names))
    ledger.sync_everything(set_based=True)
    assert named() == []


def test_an_untouched_ledger_is_not_derived_again(postgres):
    """The point of the check: a right ledger's other lines are not derived at all, neither in
    Python nor by the statement that appends them (`ledger._other_lines_sql`)."""
    world()

    @contextmanager
    def derive():
        """The ids each derivation of other lines was given."""
        given = []

        def record(execute, sql, params, many, context):
            if isinstance(params, dict) and "ids" in params:
                given.append(list(params["ids"]))
            return execute(sql, params, many, context)

        with (
            mock.patch.object(ledger, "_desired_and_notes", side_effect=AssertionError),
            connection.execute_wrapper(record),
        ):
            yield given

    with derive() as derived:
        assert ledger.sync_everything(set_based=True) == 0
    assert derived == []
    # One changed review: its solution alone is derived.
    grandchild = Review.objects.filter(mean_score=Decimal("4.50")).get().solution_id
    Review.objects.filter(mean_score=Decimal("4.50")).update(mean_score=Decimal("5.00"))
    with derive() as derived:
        assert ledger.sync_everything(set_based=True) == 3  # the review line and two shares
    assert derived == [[grandchild]]


@pytest.mark.parametrize(
    ("weight", "shares", "mean"),
    [
        ("2.5", ["0.5"], "3.25"),  # 0.625 gives 0.62, not 0.63; its share 0.31
        ("2.5", ["0.5", "0.25"], "2.75"),  # -0.625 gives -0.62, not -0.63
        ("1", ["0.5", "0.3"], "3.25"),  # 0.25 gives a share of 0.12, not 0.13
    ],
)
def test_ties_round_half_to_even_as_the_python_derivation_does(postgres, weight, shares, mean):
    """The Python derivation rounds with Decimal.quantize (half to even), PostgreSQL's ROUND
    half away from zero. Rounded as ROUND rounds, the check would name a right ledger's
    solution every night, and miss a line wrong by exactly that cent."""
    with override_settings(PEERHUB_REPUTATION={"review_weight": weight, "lineage_shares": shares}):
        a, b, reviewer = UserFactory.create_batch(3)
        fork = make_fork(make_solution(author=a), b)
        review(fork, reviewer, mean)
        python_rebuild()
        assert named() == []
        assert ledger.sync_everything(set_based=True) == 0
        # Each line as rounding half away from zero would give it, where that differs.
        raw = (Decimal(mean) - 3) * Decimal(weight)
        amount = raw.quantize(ledger.CENT)
        key = f"review:{fork.pk}:{reviewer.pk}"
        away = {key: raw.quantize(ledger.CENT, rounding=ROUND_HALF_UP)}
        if amount > 0:
            away[f"{key}:L{a.pk}"] = (amount * Decimal(shares[0])).quantize(
                ledger.CENT, rounding=ROUND_HALF_UP
            )
        held = snapshot()[1]
        wrong = {k: v for k, v in away.items() if v != held[k]}
        assert wrong  # each case has a tie
        for k, v in wrong.items():
            with transaction.atomic():
                lines(k).update(amount=v)
                assert named() == [fork.pk]
                assert ledger.sync_everything(set_based=True) == 1
                assert sum(lines(k).values_list("amount", flat=True)) == held[k]
                transaction.set_rollback(True)
