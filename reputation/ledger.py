"""Deriving the reputation ledger from facts, and scores from the ledger.

`desired_events(...)` says what the facts give today: {fact_key: Line}. `sync(...)` compares that
with the sums the ledger holds per key and appends one correction line per difference, so running
it again appends nothing, and a full sync over everything appends nothing when every incremental
sync ran. Scores are a pure function of the ledger: per member and UTC day of the fact, the
positive vote reputation counts up to the daily cap; everything else counts in full; the total
never shows below 1."""

# The set-based rebuild builds its SQL from table names (model meta) and constants only; every
# value is a query parameter.
# ruff: noqa: S608

import json
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from threading import Event, Lock
from typing import NamedTuple

from allauth.account.models import EmailAddress
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from challenges import lineage
from challenges.models import Solution, UpstreamProposal
from peerhub import bulk, cores, hooks
from peerhub.models import ManifestoSignature, User

from . import boards, outliers, touches, trust
from . import rules as rules_module
from .models import ReputationDay, ReputationEvent, ReputationScore, Review, Vote

Kind = ReputationEvent.Kind
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    beneficiary_id: int
    kind: str
    amount: Decimal
    fact_at: datetime
    solution_id: int | None = None
    source_solution_id: int | None = None
    actor_id: int | None = None
    capped: bool = False
    # Why a fact gives nothing (a low-trust voter, an unchanged fork): a line of 0 that shows
    # it in the history.
    note: str = ""


def _verified_ids(user_ids: set[int]) -> set[int]:
    return set(
        EmailAddress.objects.filter(user_id__in=user_ids, verified=True).values_list(
            "user_id", flat=True
        )
    )


def _lineage_lines(
    lines: dict[str, Line],
    *,
    key: str,
    solution: Solution,
    earned: Decimal,
    fact_at: datetime,
    actor_id: int,
    capped: bool,
    links: dict[int, lineage.Link],
    low_trust: set[int],
    rules: rules_module.Rules,
) -> None:
    """A share of what a solution earned flows to the authors of its ancestors, nearest first,
    by the rule of challenges.lineage.lineage_payees, which lineage money follows too: past
    unchanged copies, never to the earner or the actor, a low-trust member or the author of a
    withdrawn ancestor, and at most once per person for one fact. The callers give none for a
    fact about a copy (an unchanged or cosmetic fork): its votes and reviews judge its source's
    work, which its author earns from on the source itself."""
    if earned <= 0:
        return
    payees = lineage.lineage_payees(
        chain=lineage.chain_of(solution, links),
        generations=len(rules.lineage_shares),
        earner_id=solution.author_id,
        actor_id=actor_id,
        barred_author_ids=low_trust,
    )
    for payee in payees:
        share = rules.lineage_shares[payee.generation - 1]
        lines[f"{key}:L{payee.author_id}"] = Line(
            beneficiary_id=payee.author_id,
            kind=Kind.LINEAGE_CREDIT,
            amount=(earned * share).quantize(CENT),
            fact_at=fact_at,
            solution_id=solution.pk,
            source_solution_id=payee.solution_id,
            actor_id=actor_id,
            capped=capped,
        )


def _not_counted(author_id: int, kind: str, vote: Vote, solution_id: int, note: str) -> Line:
    """The line of 0 that a vote counting nothing gives (a low-trust voter, an unchanged fork):
    it shows in the author's history with its reason (and takes back what the vote gave
    before)."""
    return Line(
        author_id, kind, Decimal(0), vote.updated_at, solution_id, None, vote.voter_id, True, note
    )


def desired_for_solutions(solution_ids) -> dict[str, Line]:
    """What the facts about these solutions give today. A handful of queries for any number of
    solutions: the solutions, their ancestors' authors, votes, reviews, forks, upstream."""
    return _desired_and_notes(solution_ids)[0]


def _reversal_note(notes: dict[str, str], key: str) -> str:
    """The note of a vote's key, or of a lineage key derived from it (`<vote key>:L<id>`)."""
    return notes.get(key.split(":L", 1)[0], "")


def _desired_and_notes(
    solution_ids,
    *,
    votes: bool = True,
    voter_id: int | None = None,
    solutions=None,
    snapshot_id: int | None = None,
) -> tuple[dict[str, Line], dict[str, str]]:
    """The desired lines, and {vote key: note} for the votes that give nothing because they were
    judged serial: the corrections that take their lines back say why. With `votes=False` the
    lines that votes give are left to the set-based rebuild (`rebuild_set_based`); with
    `voter_id` only the lines of that member's votes are derived (`sync_vote`). `solutions`
    ({pk: Solution}) saves the query when the caller holds the rows already. Who is low-trust
    comes from the trust snapshot `snapshot_id`, the latest one when None."""
    rules = rules_module.rules()
    if solutions is None:
        solutions = {s.pk: s for s in Solution.objects.filter(pk__in=list(solution_ids))}
    links = lineage.links_by_id({a for s in solutions.values() for a in s.ancestor_ids})
    vote_rows = Vote.objects.filter(solution_id__in=solutions) if votes else Vote.objects.none()
    if voter_id is not None:
        vote_rows = vote_rows.filter(voter_id=voter_id)
    vote_rows = list(vote_rows)
    # What the lines read of a review (not its words: a full rebuild reads 400,000 of them).
    review_rows = Review.objects.filter(solution_id__in=solutions).only(
        "solution_id", "reviewer_id", "mean_score", "created_at", "updated_at", "outlier"
    )
    reviews = [] if voter_id is not None else list(review_rows)
    actors = {v.voter_id for v in vote_rows} | {r.reviewer_id for r in reviews}
    verified = _verified_ids(actors)
    # Low-trust members (the latest trust snapshot) still vote, but mint no reputation, and
    # earn no lineage credit.
    judged = actors | {link.author_id for link in links.values()}
    low_trust = trust.low_trust_ids(judged, snapshot_id=snapshot_id) if judged else set()
    # Members in a voting ring earn nothing from upvotes on their work (lineage credit from
    # them still flows to honest ancestors).
    authors = {s.author_id for s in solutions.values()} if vote_rows else set()
    in_ring = trust.voting_ring_ids(authors, snapshot_id=snapshot_id) if authors else set()
    lines: dict[str, Line] = {}
    notes: dict[str, str] = {}

    for vote in vote_rows:
        solution = solutions[vote.solution_id]
        if vote.voter_id == solution.author_id or vote.voter_id not in verified:
            continue  # no self-votes; unverified accounts carry no weight
        if vote.serial_reversed_at is not None:
            # Judged serial: the author and their ancestors get nothing from it, whatever its
            # value now; a downvoter still pays the cost of a downvote below.
            notes[f"up:{solution.pk}:{vote.voter_id}"] = rules_module.SERIAL_VOTING_NOTE
            notes[f"down:{solution.pk}:{vote.voter_id}"] = rules_module.SERIAL_VOTING_NOTE
        elif vote.voter_id in low_trust:
            notes[f"up:{solution.pk}:{vote.voter_id}"] = rules_module.LOW_TRUST_NOTE
            notes[f"down:{solution.pk}:{vote.voter_id}"] = rules_module.LOW_TRUST_NOTE
        live = vote.serial_reversed_at is None and vote.voter_id not in low_trust
        # Why a vote that counts gives its author nothing; lineage credit still flows.
        unchanged = rules_module.UNCHANGED_FORK_NOTE if solution.unchanged_fork else ""
        if vote.value == Vote.UP:
            if vote.serial_reversed_at is not None:
                continue
            key = f"up:{solution.pk}:{vote.voter_id}"
            if not live or unchanged:
                # A copy's votes judge its source's work: they pay nobody, not even its
                # lineage (the source's author earns from votes on the source itself).
                note = unchanged if live else rules_module.LOW_TRUST_NOTE
                lines[key] = _not_counted(
                    solution.author_id, Kind.UPVOTE_RECEIVED, vote, solution.pk, note
                )
                continue
            if solution.author_id in in_ring:
                lines[key] = _not_counted(
                    solution.author_id, Kind.UPVOTE_RECEIVED, vote, solution.pk,
                    rules_module.VOTING_RING_NOTE,
                )  # fmt: skip
            else:
                lines[key] = Line(
                    solution.author_id, Kind.UPVOTE_RECEIVED, rules.upvote_received,
                    vote.updated_at, solution.pk, None, vote.voter_id, True,
                )  # fmt: skip
            _lineage_lines(
                lines, key=key, solution=solution, earned=rules.upvote_received,
                fact_at=vote.updated_at, actor_id=vote.voter_id, capped=True,
                links=links, low_trust=low_trust, rules=rules,
            )  # fmt: skip
        else:
            if live and not unchanged:
                lines[f"down:{solution.pk}:{vote.voter_id}"] = Line(
                    solution.author_id, Kind.DOWNVOTE_RECEIVED, rules.downvote_received,
                    vote.updated_at, solution.pk, None, vote.voter_id, True,
                )  # fmt: skip
            elif vote.serial_reversed_at is None:
                lines[f"down:{solution.pk}:{vote.voter_id}"] = _not_counted(
                    solution.author_id, Kind.DOWNVOTE_RECEIVED, vote, solution.pk,
                    unchanged if live else rules_module.LOW_TRUST_NOTE,
                )  # fmt: skip
            lines[f"downcast:{solution.pk}:{vote.voter_id}"] = Line(
                vote.voter_id, Kind.DOWNVOTE_CAST, rules.downvote_cast,
                vote.updated_at, solution.pk, None, solution.author_id, False,
            )  # fmt: skip
    if voter_id is not None:
        return lines, notes

    for review in reviews:
        solution = solutions[review.solution_id]
        if review.reviewer_id == solution.author_id or review.reviewer_id not in verified:
            continue
        amount = ((review.mean_score - 3) * rules.review_weight).quantize(CENT)
        if amount == 0:
            continue
        key = f"review:{solution.pk}:{review.reviewer_id}"
        unchanged = solution.unchanged_fork
        # A low-trust reviewer's review, or one far from the reviews before it (an outlier,
        # reputation.outliers), gives a line of 0 that says why, and no lineage credit.
        why = (
            rules_module.LOW_TRUST_NOTE if review.reviewer_id in low_trust
            else rules_module.OUTLIER_REVIEW_NOTE if review.outlier else ""
        )  # fmt: skip
        if why:
            notes[key] = why
            lines[key] = Line(
                solution.author_id, Kind.REVIEW_RECEIVED, Decimal(0), review.created_at,
                solution.pk, None, review.reviewer_id, False, why,
            )  # fmt: skip
            continue
        lines[key] = Line(
            solution.author_id, Kind.REVIEW_RECEIVED, Decimal(0) if unchanged else amount,
            review.created_at, solution.pk, None, review.reviewer_id, False,
            rules_module.UNCHANGED_FORK_NOTE if unchanged else "",
        )  # fmt: skip
        if unchanged:
            continue  # a copy pays its lineage nothing either
        _lineage_lines(
            lines, key=key, solution=solution, earned=amount, fact_at=review.created_at,
            actor_id=review.reviewer_id, capped=False, links=links, low_trust=low_trust,
            rules=rules,
        )  # fmt: skip

    # A fork is credited to its parent's author once it is more than a copy (unchanged_fork:
    # verbatim or cosmetic): forking to copy builds nothing.
    forks = Solution.objects.filter(
        parent_id__in=solutions, published_at__isnull=False, unchanged_fork=False
    )
    for fork in forks.only("pk", "parent_id", "author_id", "created_at"):
        parent = solutions[fork.parent_id]
        if fork.author_id != parent.author_id:
            lines[f"forked:{fork.pk}"] = Line(
                parent.author_id, Kind.FORKED, rules.forked, fork.created_at,
                parent.pk, fork.pk, fork.author_id, False,
            )  # fmt: skip

    accepted = UpstreamProposal.objects.filter(
        parent_id__in=solutions, status=UpstreamProposal.Status.ACCEPTED
    ).select_related("parent")
    for proposal in accepted:
        if proposal.author_id != proposal.parent.author_id:
            lines[f"upstream:{proposal.pk}"] = Line(
                proposal.author_id, Kind.UPSTREAM_ACCEPTED, rules.upstream_accepted,
                proposal.decided_at or proposal.created_at, proposal.parent_id,
                proposal.fork_id, proposal.parent.author_id, False,
            )  # fmt: skip
    return lines, notes


def desired_for_manifesto(user_ids=None) -> dict[str, Line]:
    """+1 once for signing the manifesto, whichever version and however often."""
    amount = rules_module.rules().manifesto_signed
    signatures = ManifestoSignature.objects.values("user_id").annotate(first=Min("signed_at"))
    if user_ids is not None:
        signatures = signatures.filter(user_id__in=list(user_ids))
    return {
        f"manifesto:{row['user_id']}": Line(
            row["user_id"], Kind.MANIFESTO_SIGNED, amount, row["first"]
        )
        for row in signatures
    }


class Held(NamedTuple):
    """What the ledger holds under one key: its sum, last seq, first and last fact times, and
    its first line (whose beneficiary, kind and links every correction repeats)."""

    total: Decimal
    last_seq: int
    first_at: datetime
    last_at: datetime
    info: Line


def _corrections(
    desired: dict[str, Line], held: dict[str, Held], notes: dict[str, str] | None = None
) -> list[ReputationEvent]:
    """One new line per key whose ledger sum differs from what the facts give. `notes` says why
    a key that the facts no longer back is taken back (a reversed vote)."""
    notes = notes or {}
    now = timezone.now()
    new_lines = []
    for key in desired.keys() | held.keys():
        want = desired.get(key)
        have = held.get(key)
        difference = (want.amount if want else Decimal(0)) - (have.total if have else 0)
        # A fact that gives nothing for a stated reason still shows once, as a line of 0.
        if difference == 0 and not (have is None and want is not None and want.note):
            continue
        template = want or have.info
        new_lines.append(
            ReputationEvent(
                beneficiary_id=template.beneficiary_id,
                kind=template.kind,
                fact_key=key,
                seq=(have.last_seq if have else 0) + 1,
                amount=difference,
                # The key counts in the UTC day of its latest line (for the daily cap): a vote
                # cast again later is a fact of that later day, as a rebuild would see it; a
                # reversal stays in the day it reverses.
                fact_at=want.fact_at if want else have.first_at,
                solution_id=template.solution_id,
                source_solution_id=template.source_solution_id,
                actor_id=template.actor_id,
                capped=template.capped,
                note=want.note if want else _reversal_note(notes, key),
                created_at=now,
            )
        )
    return new_lines


@dataclass(frozen=True)
class FactSource:
    """Facts that an app owns and reputation may not import (dependencies point one way): the
    marketplace's reviewed orders. The app's AppConfig offers `reputation_fact_sources()`, a list
    of these; `desired()` derives every line its facts give (for the full rebuild), and the app
    syncs its own facts incrementally with `sync_lines`. `kinds` are the kinds of line it gives,
    so that the rebuild can take back a line whose fact is gone."""

    kinds: tuple[str, ...]
    desired: Callable[[], dict[str, Line]]


@transaction.atomic
def sync_lines(desired: dict[str, Line], keys) -> set[int]:
    """An app's incremental sync of its facts: `desired` are the lines they give today and
    `keys` every key they may hold, given or not. The caller locks the facts' rows, so that two
    syncs of one fact take turns. Returns the members whose score changed."""
    keys = set(keys)
    held = _held(ReputationEvent.objects.filter(fact_key__in=keys))
    return _apply({key: line for key, line in desired.items() if key in keys}, held)


def _append_corrections(
    desired: dict[str, Line], held: dict[str, Held], notes: dict[str, str] | None = None
) -> set[int]:
    """Append the corrections without touching scores (the full rebuild folds them at its end);
    returns the members whose ledger changed."""
    new_lines = _corrections(desired, held, notes)
    bulk.append(ReputationEvent, new_lines)  # through COPY on PostgreSQL
    return {line.beneficiary_id for line in new_lines}


def _held(events) -> dict[str, Held]:
    """For each key among `events`, what the ledger holds under it. One pass over the lines:
    the callers select whole keys (by key, solution, kind or member, which every line of a key
    shares), so each key's first line is among them."""
    totals: dict[str, list] = {}
    rows = events.order_by().values_list(
        "fact_key", "seq", "amount", "fact_at", "beneficiary_id", "kind", "solution_id",
        "source_solution_id", "actor_id", "capped",
    )  # fmt: skip
    for row in rows.iterator(chunk_size=5000):
        key, seq, amount, fact_at = row[:4]
        held = totals.get(key)
        if held is None:
            totals[key] = held = [Decimal(0), 0, fact_at, fact_at, None]
        held[0] += amount
        held[1] = max(held[1], seq)
        held[2] = min(held[2], fact_at)
        held[3] = max(held[3], fact_at)
        if seq == 1:
            beneficiary_id, kind, solution_id, source_id, actor_id, capped = row[4:]
            held[4] = Line(
                beneficiary_id, kind, Decimal(0), fact_at, solution_id, source_id, actor_id, capped
            )
    return {key: Held(*held) for key, held in totals.items()}


# --- Sync: facts → ledger → scores, incrementally ---------------------------------------------


# Above this many member-days, `_apply` folds the touched members whole rather than by day.
MAX_DAYS_BY_DAY = 64


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _apply(desired: dict[str, Line], held: dict[str, Held], notes=None) -> set[int]:
    """Append the corrections and move the scores of the members they touch by what changed:
    the lines that count in full add their amount; for capped lines, the members' days that the
    changed keys counted in before or count in now are folded before and after the append (a
    key counts in the UTC day of its latest line), and the difference is added. A score never
    folded yet (`ledger_sum` null), or all of them when the sync touches many member-days, is
    folded whole. Equals `recompute_scores`, to the cent
    (tests/reputation/test_properties.py)."""
    new_lines = _corrections(desired, held, notes)
    if not new_lines:
        return set()
    touched = {line.beneficiary_id for line in new_lines}
    days: dict[int, set[date]] = defaultdict(set)
    in_full: dict[int, Decimal] = defaultdict(Decimal)
    for line in new_lines:
        if line.capped:
            days[line.beneficiary_id].add(_utc_day(line.fact_at))
            if (have := held.get(line.fact_key)) is not None:
                days[line.beneficiary_id].add(_utc_day(have.last_at))
        else:
            in_full[line.beneficiary_id] += line.amount
    scores = _lock_scores(touched)
    # A sync of many facts at once (a batch of the full rebuild in Python, the serial-voting
    # job) touches many member-days: folding those members whole is one grouped query.
    by_day = sum(len(user_days) for user_days in days.values()) <= MAX_DAYS_BY_DAY
    before = _capped_days(days) if by_day else {}
    ReputationEvent.objects.bulk_create(new_lines)
    boards.ledger_lines_appended(line.pk for line in new_lines)
    after = _capped_days(days) if by_day else {}
    whole = {user_id for user_id, score in scores.items() if score.ledger_sum is None}
    if not by_day:
        whole = set(scores)
    folded = totals_from_ledger(whole) if whole else {}
    for user_id, score in scores.items():
        if user_id in whole:
            score.ledger_sum = folded.get(user_id, Decimal(0))
        else:
            score.ledger_sum += (
                in_full[user_id] + after.get(user_id, Decimal(0)) - before.get(user_id, Decimal(0))
            )
    _write_scores(scores.values())
    return touched


def _lock_scores(user_ids: set[int]) -> dict[int, ReputationScore]:
    """The members' score rows, locked in id order (created when missing), so that two syncs
    moving one member's score take turns (and a full fold waits for them, see `_fold_all`).
    Each row carries `verified` for its trust level."""
    verified = EmailAddress.objects.filter(user_id=OuterRef("user_id"), verified=True)
    rows = ReputationScore.objects.select_for_update(of=("self",)).annotate(
        verified=Exists(verified)
    )
    scores = {s.user_id: s for s in rows.filter(user_id__in=list(user_ids)).order_by("user_id")}
    if missing := user_ids - scores.keys():
        ReputationScore.objects.bulk_create(
            [ReputationScore(user_id=user_id) for user_id in sorted(missing)],
            ignore_conflicts=True,
        )
        scores.update(
            (s.user_id, s) for s in rows.filter(user_id__in=list(missing)).order_by("user_id")
        )
    return scores


def _capped_days(days: dict[int, set[date]]) -> dict[int, Decimal]:
    """Per member, what the capped keys counting in the given UTC days add to the score: per
    day, the positive keys up to the cap, plus the keys that net to zero or less."""
    if not days:
        return {}
    cap = rules_module.rules().daily_vote_cap
    window = Q()
    for user_id, user_days in days.items():
        for day in user_days:
            start = datetime.combine(day, time.min, tzinfo=UTC)
            window |= Q(
                beneficiary_id=user_id, fact_at__gte=start, fact_at__lt=start + timedelta(1)
            )
    keys = ReputationEvent.objects.filter(window, capped=True).values("fact_key")
    per_key = (
        ReputationEvent.objects.filter(
            beneficiary_id__in=list(days), capped=True, fact_key__in=keys
        )
        .values("beneficiary_id", "fact_key")
        .annotate(net=Sum("amount"), day=Max(TruncDate("fact_at", tzinfo=UTC)))
    )
    result: dict[int, Decimal] = defaultdict(Decimal)
    gains: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for row in per_key:
        user_id = row["beneficiary_id"]
        if row["day"] not in days[user_id]:
            continue
        if row["net"] > 0:
            gains[(user_id, row["day"])] += row["net"]
        else:
            result[user_id] += row["net"]
    for (user_id, _day), gained in gains.items():
        result[user_id] += min(cap, gained)
    return result


def _lock_solutions(solution_ids) -> dict[int, Solution]:
    """The solutions' rows, locked in id order, so that two syncs of one solution take turns."""
    return {
        solution.pk: solution
        for solution in Solution.objects.select_for_update(of=("self",))
        .filter(pk__in=list(solution_ids))
        .order_by("pk")
    }


@transaction.atomic
def sync_solutions(solution_ids) -> set[int]:
    """Bring the ledger lines about these solutions in line with their facts, and the scores of
    the members they touch. Returns those members."""
    solutions = _lock_solutions(solution_ids)
    desired, notes = _desired_and_notes(solutions, solutions=solutions)
    held = _held(
        ReputationEvent.objects.filter(solution_id__in=list(solutions), kind__in=SOLUTION_KINDS)
    )
    return _apply(desired, held, notes)


def sync_descendants(solution_id: int, *, batch_size: int = 200) -> set[int]:
    """The lines of every descendant of a solution whose standing in the lineage rule changed
    (withdrawn, or its body became its source's again or differs again): the lineage credit
    its descendants' votes and reviews send up now reaches other authors. One transaction per
    batch, in id order; returns the members touched."""
    path = Solution.objects.filter(pk=solution_id).values_list("path", flat=True).first()
    if not path:
        return set()
    ids = list(
        Solution.objects.filter(path__startswith=path)
        .exclude(pk=solution_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    touched: set[int] = set()
    for start in range(0, len(ids), batch_size):
        touched |= sync_solutions(ids[start : start + batch_size])
    return touched


@transaction.atomic
def sync_vote(solution_id: int, voter_id: int) -> set[int]:
    """The same for one member's vote on one solution: only its keys (received, cast, and the
    lineage credit it gives), which is what a vote, a change of vote or an unvote moves."""
    solutions = _lock_solutions([solution_id])
    if not solutions:
        return set()
    desired, notes = _desired_and_notes(solutions, voter_id=voter_id, solutions=solutions)
    # Its keys, exactly: the lineage keys name the ancestors' authors (any of them, in case the
    # lineage shares once reached further), so that the unique index finds every line.
    vote = f"{solution_id}:{voter_id}"
    keys = [f"up:{vote}", f"down:{vote}", f"downcast:{vote}"]
    keys += [f"up:{vote}:L{author_id}" for author_id in solutions[solution_id].ancestor_author_ids]
    held = _held(ReputationEvent.objects.filter(fact_key__in=keys))
    return _apply(desired, held, notes)


@transaction.atomic
def sync_manifesto(user_ids) -> set[int]:
    """Locks the members' rows: two syncs for one member would append the same (key, seq)."""
    user_ids = list(
        User.objects.select_for_update()
        .filter(pk__in=list(user_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    desired = desired_for_manifesto(user_ids)
    held = _held(
        ReputationEvent.objects.filter(kind=Kind.MANIFESTO_SIGNED, beneficiary_id__in=user_ids)
    )
    return _apply(desired, held)


VOTE_KINDS = (Kind.UPVOTE_RECEIVED, Kind.DOWNVOTE_RECEIVED, Kind.DOWNVOTE_CAST)
VOTE_LINES = Q(kind__in=VOTE_KINDS) | Q(kind=Kind.LINEAGE_CREDIT, capped=True)
# The kinds of line a solution's own facts give (`_desired_and_notes`): a solution's sync holds
# only those, and leaves the lines of other apps' facts about it (a selection, an order) to
# their sources, which would otherwise be taken back and given again.
SOLUTION_KINDS = (
    *VOTE_KINDS,
    Kind.REVIEW_RECEIVED,
    Kind.FORKED,
    Kind.UPSTREAM_ACCEPTED,
    Kind.LINEAGE_CREDIT,
)


def _votes_sql(
    rules: rules_module.Rules, snapshot_id: int | None, where: str, start: str = ""
) -> str:
    """The votes that may give reputation (verified voters, not on their own solution) among
    those `where` selects, each with what deciding its lines needs: low trust (the snapshot
    `snapshot_id`), whether the solution is an unchanged fork, its author, and its ancestors
    and their authors as far as lineage credit reaches (`a1_id`, `a1_author`, ...), reached
    through `parent_id`, which names the same chain as `path`, both set once at the fork.
    `start`, a condition over the solution `s`, limits the walk to the ancestors of the
    solutions it selects (those `where` reads: see `_ancestors_sql`)."""
    vote, solution = Vote._meta.db_table, Solution._meta.db_table
    ancestors, ancestor_cols = _ancestors_sql(len(_shares(rules)), snapshot_id, start)
    low = trust.low_trust_sql("v.voter_id", _snapshot_sql(snapshot_id))
    ring = trust.voting_ring_sql("a0.author_id", _snapshot_sql(snapshot_id))
    return f"""
        SELECT v.solution_id, v.voter_id, v.value, v.updated_at, v.serial_reversed_at,
            {low} AS low, a0.unchanged_fork AS unchanged, {ring} AS ring,
            a0.author_id{ancestor_cols}
        FROM {vote} v JOIN {solution} a0 ON a0.id = v.solution_id{ancestors}
        WHERE {where} AND v.voter_id <> a0.author_id AND {_verified_sql("v.voter_id")}
    """


def _ancestors_sql(generations: int, snapshot_id: int | None, start: str = "") -> tuple[str, str]:
    """The join that reaches a solution's (alias `a0`) credited ancestors as far as lineage
    credit reaches, nearest first, as challenges.lineage.lineage_payees counts them: an
    unchanged copy is no generation (the walk goes on to what it copied). Their columns:
    `a1_id`, `a1_author`, `a1_out` (1 when that ancestor is withdrawn or its author low-trust
    in the snapshot `snapshot_id`: not paid, but it keeps its generation), ...

    One recursive walk up `parent_id` (which names the same chain as `path`, both set once at
    the fork) from every fork, or from those `start` (a condition over the solution `s`)
    selects, stopping once past the last generation: a batch of a rebuild walks from its own
    solutions only, not from every fork of the site again."""
    if not generations:
        return "", ""
    solution = Solution._meta.db_table
    withdrawn = Solution.Status.WITHDRAWN
    step = "CASE WHEN p.unchanged_fork THEN 0 ELSE 1 END"
    low = trust.low_trust_sql("p.author_id", _snapshot_sql(snapshot_id))
    out = f"CASE WHEN p.status = '{withdrawn}' OR {low} THEN 1 ELSE 0 END"
    pivot = "".join(
        f", MAX(CASE WHEN w.generation = {k} THEN p.id END) AS a{k}_id"
        f", MAX(CASE WHEN w.generation = {k} THEN p.author_id END) AS a{k}_author"
        f", MAX(CASE WHEN w.generation = {k} THEN {out} END) AS a{k}_out"
        for k in range(1, generations + 1)
    )
    credited = f"""
        WITH RECURSIVE walk (solution_id, ancestor_id, generation) AS (
            SELECT s.id, s.parent_id, 1 FROM {solution} s
            WHERE s.parent_id IS NOT NULL{f" AND {start}" if start else ""}
            UNION ALL
            SELECT w.solution_id, p.parent_id, w.generation + {step}
            FROM walk w JOIN {solution} p ON p.id = w.ancestor_id
            WHERE p.parent_id IS NOT NULL AND w.generation + {step} <= {int(generations)}
        )
        SELECT w.solution_id{pivot}
        FROM walk w JOIN {solution} p ON p.id = w.ancestor_id
        WHERE NOT p.unchanged_fork
        GROUP BY w.solution_id
    """
    columns = "".join(f", c.a{k}_id, c.a{k}_author, c.a{k}_out" for k in range(1, generations + 1))
    return f" LEFT JOIN ({credited}) c ON c.solution_id = a0.id", columns


def _snapshot_sql(snapshot_id: int | None) -> str:
    """The trust snapshot for `trust.low_trust_sql`: its id, an integer read from the database
    and written into the statement, or NULL (nobody is low-trust)."""
    return "NULL" if snapshot_id is None else str(int(snapshot_id))


def _verified_sql(member: str) -> str:
    """SQL: whether the member in column `member` has a verified address (`_verified_ids`)."""
    email = EmailAddress._meta.db_table
    return f"EXISTS (SELECT 1 FROM {email} e WHERE e.user_id = {member} AND e.verified)"


def _shares(rules: rules_module.Rules) -> list[Decimal]:
    """The lineage shares of a vote (none when an upvote gives nothing)."""
    return list(rules.lineage_shares) if rules.upvote_received > 0 else []


# Over a vote of `_votes_sql` (alias `sv`), the rules of `_desired_and_notes` in SQL, shared by
# the statement that appends vote lines and the one that checks them. A vote is live unless
# judged serial or cast by a low-trust member; its author is credited when it is live and the
# solution is not an unchanged fork; otherwise (not serial) the author gets a noted line of 0.
_LIVE = "sv.serial_reversed_at IS NULL AND NOT sv.low"
_COUNTED = f"{_LIVE} AND NOT sv.unchanged"
_NOT_COUNTED = "sv.serial_reversed_at IS NULL AND (sv.low OR sv.unchanged)"
# An upvote that counts but whose author is in a voting ring: a noted line of 0 for the author,
# lineage credit as from any counted upvote.
_RING_UPVOTE = f"sv.value = 1 AND {_COUNTED} AND sv.ring"
# The lines votes give, told by kind rather than by key prefix (no text scan): a lineage
# credit from a vote counts under the cap, one from a review does not (`VOTE_LINES`).
_IS_VOTE_LINE = (
    "kind IN (" + ", ".join(f"'{kind}'" for kind in VOTE_KINDS) + ") "
    f"OR (kind = '{Kind.LINEAGE_CREDIT}' AND capped)"
)


def _lineage_paid(k: int, row: str, actor: str) -> str:
    """Whether a fact (the row `row` of `_votes_sql` or `_reviews_sql`, by the member in column
    `actor`) that credits its solution's lineage credits the author of the k-th ancestor, as
    `_lineage_lines` decides: nearest first past unchanged copies (`_ancestors_sql`), never the
    earner or the actor, a withdrawn ancestor or a low-trust author, once per person (a nearer
    ancestor with the same author was paid already, or was the earner or the actor)."""
    author = f"{row}.a{k}_author"
    distinct = "".join(f" AND {author} <> {row}.a{j}_author" for j in range(1, k))
    return (
        f"{author} IS NOT NULL AND {row}.a{k}_out = 0 AND {author} <> {row}.author_id "
        f"AND {author} <> {actor}{distinct}"
    )


def _lineage_credited(k: int) -> str:
    """Whether a live upvote credits the author of its k-th ancestor (`_lineage_paid`): never
    from a copy (an unchanged or cosmetic fork), whose votes judge its source's work."""
    return f"sv.value = 1 AND {_COUNTED} AND {_lineage_paid(k, 'sv', 'sv.voter_id')}"


# The end of the statements that append lines: in the order of their keys, so that the unique
# index by key takes them in its own order, page after page, rather than all over it (a fresh
# ledger's batches append a sixth faster).
_IN_KEY_ORDER = "ORDER BY 1"


def _vote_lines_sql(rules: rules_module.Rules, snapshot_id: int | None = None) -> tuple[str, list]:
    """One statement that appends, for the solutions among a list of ids, the correction lines
    that bring every vote key (`up:`, `down:`, `downcast:` and the lineage keys derived from
    `up:`) to what the votes give today: the same lines, to the cent, as `_desired_and_notes`
    and `_append_corrections` would append, with the trust snapshot `snapshot_id` saying who
    is low-trust (none when None). Ancestors are reached through `parent_id`, which
    names the same chain as `path`, both being set once when a fork is created.

    A vote key is named by integers as well as by its text: its kind, solution, actor (the
    voter; the author for `downcast:`) and beneficiary, which every line under it repeats. The
    desired lines and the ledger's sums meet on those integers (hashing numbers, not sorting
    text), and a key's text is built only for the few lines appended under a new key.
    Returns the SQL and its fixed parameters; `rebuild_set_based` adds the ids (twice before
    them, once after), the time and the notes."""
    event = ReputationEvent._meta.db_table
    shares = _shares(rules)
    # The reason of a noted line of 0 ("not counted: low trust" first).
    why = "CASE WHEN sv.low THEN %s ELSE %s END"
    no_source = "CAST(NULL AS BIGINT)"
    # (kind, beneficiary, actor, solution, source solution, amount, capped, note, fact time)
    author_line = (
        f"SELECT %s, sv.author_id, sv.voter_id, sv.solution_id, {no_source}, "
        "CAST(%s AS NUMERIC), %s, {note}, sv.updated_at FROM sv WHERE {where}"
    )
    selects = [
        author_line.format(note="''", where=f"sv.value = 1 AND {_COUNTED} AND NOT sv.ring"),
        author_line.format(note="''", where=f"sv.value = -1 AND {_COUNTED}"),
        f"SELECT %s, sv.voter_id, sv.author_id, sv.solution_id, {no_source}, "
        f"CAST(%s AS NUMERIC), %s, '', sv.updated_at FROM sv WHERE sv.value = -1",
        author_line.format(note=why, where=f"sv.value = 1 AND {_NOT_COUNTED}"),
        author_line.format(note=why, where=f"sv.value = -1 AND {_NOT_COUNTED}"),
        author_line.format(note="%s", where=_RING_UPVOTE),
    ]
    notes = [rules_module.LOW_TRUST_NOTE, rules_module.UNCHANGED_FORK_NOTE]
    params: list = [
        Kind.UPVOTE_RECEIVED, rules.upvote_received, True,
        Kind.DOWNVOTE_RECEIVED, rules.downvote_received, True,
        Kind.DOWNVOTE_CAST, rules.downvote_cast, False,
        Kind.UPVOTE_RECEIVED, Decimal(0), True, *notes,
        Kind.DOWNVOTE_RECEIVED, Decimal(0), True, *notes,
        Kind.UPVOTE_RECEIVED, Decimal(0), True, rules_module.VOTING_RING_NOTE,
    ]  # fmt: skip
    for k, share in enumerate(shares, start=1):
        selects.append(
            f"SELECT %s, sv.a{k}_author, sv.voter_id, sv.solution_id, sv.a{k}_id, "
            f"CAST(%s AS NUMERIC), %s, '', sv.updated_at FROM sv WHERE {_lineage_credited(k)}"
        )
        params += [Kind.LINEAGE_CREDIT, (rules.upvote_received * share).quantize(CENT), True]
    union = " UNION ALL ".join(selects)
    same_key = (
        "{a}.kind = {b}.kind AND {a}.solution_id = {b}.solution_id "
        "AND {a}.actor_id = {b}.actor_id AND {a}.beneficiary_id = {b}.beneficiary_id"
    )
    new_key = (
        f"CASE d.kind WHEN '{Kind.DOWNVOTE_CAST}' THEN 'downcast:' || d.solution_id || ':' "
        f"|| d.beneficiary_id ELSE CASE d.kind WHEN '{Kind.DOWNVOTE_RECEIVED}' THEN 'down:' "
        f"ELSE 'up:' END || d.solution_id || ':' || d.actor_id || CASE d.kind "
        f"WHEN '{Kind.LINEAGE_CREDIT}' THEN ':L' || d.beneficiary_id ELSE '' END END"
    )
    # A key no longer backed is taken back with the note of its vote when the serial-voting
    # job reversed that vote or its voter is low-trust (its vote is among `sv` still).
    note = (
        f"CASE WHEN h.kind = '{Kind.DOWNVOTE_CAST}' THEN '' "
        f"WHEN sv.serial_reversed_at IS NOT NULL THEN %s WHEN sv.low THEN %s ELSE '' END"
    )
    votes = _votes_sql(rules, snapshot_id, _among("v.solution_id"), _among("s.id"))
    sql = f"""
        WITH sv AS MATERIALIZED ({votes}),
        d (kind, beneficiary_id, actor_id, solution_id, source_solution_id, amount, capped,
           note, fact_at) AS MATERIALIZED ({union}),
        h AS MATERIALIZED (
            SELECT kind, solution_id, actor_id, beneficiary_id, MIN(fact_key) AS fact_key,
                SUM(amount) AS total, MAX(seq) AS last_seq, MIN(fact_at) AS first_at,
                MIN(source_solution_id) AS source_solution_id,
                MIN(CAST(capped AS INTEGER)) = 1 AS capped
            FROM {event} WHERE {_among("solution_id")} AND ({_IS_VOTE_LINE})
            GROUP BY kind, solution_id, actor_id, beneficiary_id
        )
        INSERT INTO {event} (fact_key, beneficiary_id, kind, amount, fact_at, solution_id,
            source_solution_id, actor_id, capped, note, seq, created_at)
        SELECT COALESCE(h.fact_key, {new_key}), d.beneficiary_id, d.kind,
            ROUND(d.amount - COALESCE(h.total, 0), 2), d.fact_at, d.solution_id,
            d.source_solution_id, d.actor_id, d.capped, d.note, COALESCE(h.last_seq, 0) + 1, %s
        FROM d LEFT JOIN h ON {same_key.format(a="h", b="d")}
        WHERE ROUND(d.amount - COALESCE(h.total, 0), 2) <> 0
            OR (h.kind IS NULL AND d.note <> '')
        UNION ALL
        SELECT h.fact_key, h.beneficiary_id, h.kind, ROUND(0 - h.total, 2), h.first_at,
            h.solution_id, h.source_solution_id, h.actor_id, h.capped, {note},
            h.last_seq + 1, %s
        FROM h LEFT JOIN sv ON sv.solution_id = h.solution_id AND sv.voter_id = h.actor_id
        WHERE ROUND(h.total, 2) <> 0
            AND NOT EXISTS (SELECT 1 FROM d WHERE {same_key.format(a="d", b="h")})
        {_IN_KEY_ORDER}
    """
    return sql, params


# Weights that tell the keys of one solution apart in its checksums: (kind, actor,
# beneficiary) name a vote's or a review's key among the solution's lines; a fork's and an
# accepted proposal's keys are named by that fact's id in the actor's place (one member may fork
# a solution twice). Codes below 8 (see `_weight`). Integer arithmetic, exact on both backends.
_KIND_CODES = {
    Kind.UPVOTE_RECEIVED: 1, Kind.DOWNVOTE_RECEIVED: 2, Kind.DOWNVOTE_CAST: 3,
    Kind.LINEAGE_CREDIT: 4, Kind.REVIEW_RECEIVED: 5, Kind.FORKED: 6, Kind.UPSTREAM_ACCEPTED: 7,
}  # fmt: skip
_MODULUS = 1_073_741_789  # a prime below 2**30: every product of cents and weight fits 64 bits


def _weight(kind_code: str, actor: str, beneficiary: str) -> str:
    return f"((({actor}) * 1000003 + ({beneficiary})) * 8 + ({kind_code})) % {_MODULUS} + 1"


def _cents(amount: Decimal) -> int:
    return int(amount.quantize(CENT) * 100)


# A held line's side of a checksum: its amount in cents and its kind's code.
_HELD_CENTS = "CAST(ROUND(amount * 100) AS BIGINT)"
_HELD_CODE = (
    "CASE kind " + " ".join(f"WHEN '{k}' THEN {c}" for k, c in _KIND_CODES.items()) + " END"
)


def _checksum_terms(lines) -> tuple[str, str]:
    """The desired side of a checksum, from (condition, cents, kind code, actor, beneficiary)
    for each line a fact may give: SQL for the sum of the cents it gives, and for the same
    weighted by each line's key (`_weight`)."""
    total = " + ".join(f"CASE WHEN {when} THEN {cents} ELSE 0 END" for when, cents, *_ in lines)
    weighted = " + ".join(
        f"CASE WHEN {when} THEN {cents} * ({_weight(str(code), actor, beneficiary)}) ELSE 0 END"
        for when, cents, code, actor, beneficiary in lines
    )
    return total, weighted


def _id_range_sql(column: str, id_range: tuple[int, int] | None) -> str:
    """SQL: `column` within `id_range` (first, last; integers read from the database), or
    true for no range."""
    if id_range is None:
        return "1 = 1"
    return f"{column} BETWEEN {int(id_range[0])} AND {int(id_range[1])}"


def _solutions_to_correct_sql(
    rules: rules_module.Rules, snapshot_id: int | None, id_range: tuple[int, int] | None = None
) -> str:
    """One read-only statement that names the solutions whose vote lines may need a correction:
    per solution, the count and a weighted checksum of what its votes give (in cents, each line
    weighted by its key) against the same over what the ledger holds, plus every solution with
    a vote that gives a line of 0 with a note whose key the ledger lacks (a matter of keys, not
    sums). Equal sums mean equal lines per key unless two keys' differences cancel in both
    sums at once, which the weights make a one-in-a-billion coincidence; such a key would still
    be corrected by the next change to its vote, which syncs that vote's keys exactly."""
    event = ReputationEvent._meta.db_table
    shares = _shares(rules)
    up, down, cast = (
        _cents(rules.upvote_received), _cents(rules.downvote_received), _cents(rules.downvote_cast)
    )  # fmt: skip
    codes = _KIND_CODES
    # (condition, cents, kind code, actor, beneficiary) for each line a vote may give.
    lines = [
        (f"sv.value = 1 AND {_COUNTED} AND NOT sv.ring", up, codes[Kind.UPVOTE_RECEIVED],
         "sv.voter_id", "sv.author_id"),
        (f"sv.value = -1 AND {_COUNTED}", down, codes[Kind.DOWNVOTE_RECEIVED], "sv.voter_id",
         "sv.author_id"),
        ("sv.value = -1", cast, codes[Kind.DOWNVOTE_CAST], "sv.author_id", "sv.voter_id"),
    ]  # fmt: skip
    lineage = codes[Kind.LINEAGE_CREDIT]
    lines += [
        (_lineage_credited(k), _cents(rules.upvote_received * share), lineage, "sv.voter_id",
         f"sv.a{k}_author")
        for k, share in enumerate(shares, start=1)
    ]  # fmt: skip
    total, weighted = _checksum_terms(lines)
    # A vote that gives its author a noted line of 0 needs that line's key in the ledger: sums
    # cannot tell, so its key is looked up by the unique index (such votes are few).
    noted = (
        f"CASE WHEN {_NOT_COUNTED} OR ({_RING_UPVOTE}) THEN CASE WHEN "
        f"NOT EXISTS (SELECT 1 FROM {event} n WHERE n.fact_key = CASE WHEN sv.value = 1 "
        "THEN 'up:' ELSE 'down:' END || CAST(sv.solution_id AS TEXT) || ':' "
        "|| CAST(sv.voter_id AS TEXT) AND n.seq = 1) THEN 1 ELSE 0 END ELSE 0 END"
    )
    cents, held_weight = _HELD_CENTS, _weight(_HELD_CODE, "actor_id", "beneficiary_id")
    start = _id_range_sql("s.id", id_range) if id_range else ""
    votes = _votes_sql(rules, snapshot_id, _id_range_sql("v.solution_id", id_range), start)
    return f"""
        SELECT solution_id FROM (
            SELECT sv.solution_id, SUM({total}) AS total, SUM({weighted}) AS weighted,
                MAX({noted}) AS noted
            FROM ({votes}) sv
            GROUP BY sv.solution_id
            UNION ALL
            SELECT solution_id, -SUM({cents}), -SUM({cents} * ({held_weight})), 0
            FROM {event} WHERE solution_id IS NOT NULL AND ({_IS_VOTE_LINE})
                AND {_id_range_sql("solution_id", id_range)}
            GROUP BY solution_id
        ) sides
        GROUP BY solution_id
        HAVING SUM(total) <> 0 OR SUM(weighted) <> 0 OR MAX(noted) = 1
        ORDER BY solution_id
    """


# The lines of a solution's facts that votes do not give (`SOLUTION_KINDS` less `VOTE_LINES`):
# what reviews, forks and accepted upstream proposals give, and the lineage credit from reviews.
_OTHER_KINDS = tuple(k for k in SOLUTION_KINDS if k not in VOTE_KINDS and k != Kind.LINEAGE_CREDIT)
_IS_OTHER_LINE = (
    "kind IN (" + ", ".join(f"'{kind}'" for kind in _OTHER_KINDS) + ") "
    f"OR (kind = '{Kind.LINEAGE_CREDIT}' AND NOT capped)"
)


# Over a review of `_reviews_sql` (alias `sr`): whether it counts, as `_desired_and_notes` says
# (not from a low-trust reviewer, not an outlier, not on an unchanged fork); otherwise its author
# gets a line of 0 with the reason and its lineage nothing.
_REVIEW_COUNTS = "NOT (sr.low OR sr.outlier OR sr.unchanged)"


def _half_even_sql(value: str) -> str:
    """SQL: the numeric `value` rounded to an integer half to even, as `Decimal.quantize` rounds
    (PostgreSQL's ROUND rounds halves away from zero), as a BIGINT."""
    floor = f"FLOOR({value})"
    return (
        f"CAST(CASE WHEN {value} - {floor} <> 0.5 THEN ROUND({value}) "
        f"WHEN MOD({floor}, 2) = 0 THEN {floor} ELSE {floor} + 1 END AS BIGINT)"
    )


def _reviews_sql(
    rules: rules_module.Rules, snapshot_id: int | None, where: str = "", start: str = ""
) -> str:
    """The reviews that may give reputation (verified reviewers, not of their own solution)
    among those `where` selects (read first, alone, so that the planner starts from them), each
    with what deciding its lines needs (as `_votes_sql` gives for votes): low trust (the
    snapshot `snapshot_id`), whether the solution is an unchanged fork, its author, its
    ancestors and their authors as far as lineage credit reaches, what the review gives in
    cents (`cents`, rounded half to even as `_desired_and_notes` rounds), and its time. `start`
    limits the walk to the ancestors as in `_votes_sql`. Reads the review weight from the row
    `p` (`_other_solutions_to_correct_sql`)."""
    review, solution = Review._meta.db_table, Solution._meta.db_table
    ancestors, ancestor_cols = _ancestors_sql(len(rules.lineage_shares), snapshot_id, start)
    low = trust.low_trust_sql("r.reviewer_id", _snapshot_sql(snapshot_id))
    cents = _half_even_sql("((r.mean_score - 3) * p.weight * 100)")
    reviews, verified = review, _verified_sql("r.reviewer_id")
    if where:
        # The few reviews first, with their reviewers' addresses: left to the planner, the
        # address test became a join over every member, repeated for each of them.
        reviews = f"(SELECT * FROM {review} r WHERE {where} AND {verified} OFFSET 0)"
        verified = "1 = 1"
    return f"""
        SELECT r.solution_id, r.reviewer_id, {low} AS low, a0.unchanged_fork AS unchanged,
            r.outlier, a0.author_id{ancestor_cols}, {cents} AS cents, r.created_at
        FROM {reviews} r CROSS JOIN p JOIN {solution} a0 ON a0.id = r.solution_id{ancestors}
        WHERE r.reviewer_id <> a0.author_id AND {verified}
    """


def _other_solutions_to_correct_sql(
    rules: rules_module.Rules, snapshot_id: int | None, id_range: tuple[int, int] | None = None
) -> tuple[str, list]:
    """One read-only statement that names the solutions whose other lines (what reviews, forks
    and accepted upstream proposals give: `_desired_and_notes` with `votes=False`) may need a
    correction, as `_solutions_to_correct_sql` does for vote lines: per solution, the sum in
    cents and a checksum weighting each line by its key of what its facts give, against the
    same over the lines the ledger holds of those kinds, plus every solution with a review
    that gives a line of 0 with a note (a low-trust reviewer, an outlier review, an unchanged
    fork) whose key the ledger lacks. Each line counts under the solution it is filed under, as
    the Python derivation files and reads it: a review's line and the lineage credit it gives
    under the reviewed solution, a `forked:` line under the parent, an `upstream:` line under
    the proposal's parent. The same argument holds: equal sums over unequal lines need two keys'
    differences to cancel in both sums at once.

    Amounts are rounded half to even (`_half_even_sql`), as `Decimal.quantize` rounds in
    `_desired_and_notes`, so each line is the Python derivation's to the cent, ties included.
    PostgreSQL's ROUND rounds halves away from zero: on a tie (a review weight of 2.5, a share
    of 0.5) it would be a cent off, which on a right ledger names the solution every night for
    nothing, but on a ledger wrong by exactly that cent (a score changed behind its back) would
    match the wrong line and miss it. Exact, the statement only chooses which solutions the
    Python derivation reads, and the lines appended are always that derivation's: a solution
    named too many costs its derivation, never a line. Returns the SQL and its parameters (the
    review weight, then the lineage shares)."""
    event, solution = ReputationEvent._meta.db_table, Solution._meta.db_table
    proposal = UpstreamProposal._meta.db_table
    codes = _KIND_CODES
    shares = list(rules.lineage_shares)
    numbers = ", ".join(["weight", *(f"share{k}" for k in range(1, len(shares) + 1))])
    given = ", ".join(["CAST(%s AS NUMERIC)"] * (len(shares) + 1))
    # (condition, cents, kind code, actor, beneficiary) for each line a review may give: its
    # author's (0 from a low-trust reviewer, for an outlier review or on an unchanged fork), and
    # the lineage credit (none in those cases; a share of what the review gives when above 0).
    lines = [
        (_REVIEW_COUNTS, "sr.cents", codes[Kind.REVIEW_RECEIVED], "sr.reviewer_id", "sr.author_id"),
    ]  # fmt: skip
    lines += [
        (f"{_REVIEW_COUNTS} AND sr.cents > 0 "
         f"AND {_lineage_paid(k, 'sr', 'sr.reviewer_id')}",
         _half_even_sql(f"(sr.cents * p.share{k})"), codes[Kind.LINEAGE_CREDIT],
         "sr.reviewer_id", f"sr.a{k}_author")
        for k in range(1, len(shares) + 1)
    ]  # fmt: skip
    total, weighted = _checksum_terms(lines)
    # A review that gives its author a noted line of 0 needs that line's key in the ledger:
    # looked up by the unique index, as for votes.
    noted = (
        "CASE WHEN (sr.low OR sr.outlier OR sr.unchanged) AND NOT EXISTS (SELECT 1 FROM "
        f"{event} n WHERE n.fact_key = 'review:' || CAST(sr.solution_id AS TEXT) || ':' "
        "|| CAST(sr.reviewer_id AS TEXT) AND n.seq = 1) THEN 1 ELSE 0 END"
    )
    forked, upstream = _cents(rules.forked), _cents(rules.upstream_accepted)
    forked_weight = _weight(str(codes[Kind.FORKED]), "f.id", "a0.author_id")
    upstream_weight = _weight(str(codes[Kind.UPSTREAM_ACCEPTED]), "u.id", "u.author_id")
    # In the actor's place, a `forked:` line names its fork (its source solution) and an
    # `upstream:` line its proposal (read from the key: those lines are few); a deleted actor
    # or fork counts as 0 on both sides.
    fact = (
        f"CASE kind WHEN '{Kind.FORKED}' THEN COALESCE(source_solution_id, 0) "
        f"WHEN '{Kind.UPSTREAM_ACCEPTED}' "
        f"THEN CAST(SUBSTRING(fact_key FROM {len('upstream:') + 1}) AS BIGINT) "
        "ELSE COALESCE(actor_id, 0) END"
    )
    cents, held_weight = _HELD_CENTS, _weight(_HELD_CODE, fact, "beneficiary_id")
    sql = f"""
        WITH p ({numbers}) AS (SELECT {given}),
        sr AS MATERIALIZED ({_reviews_sql(rules, snapshot_id)})
        SELECT solution_id FROM (
            SELECT sr.solution_id, SUM({total}) AS total, SUM({weighted}) AS weighted,
                MAX({noted}) AS noted
            FROM sr CROSS JOIN p WHERE sr.cents <> 0
            GROUP BY sr.solution_id
            UNION ALL
            SELECT f.parent_id, {forked} * COUNT(*), SUM({forked} * ({forked_weight})), 0
            FROM {solution} f JOIN {solution} a0 ON a0.id = f.parent_id
            WHERE f.published_at IS NOT NULL AND NOT f.unchanged_fork
                AND f.author_id <> a0.author_id
            GROUP BY f.parent_id
            UNION ALL
            SELECT u.parent_id, {upstream} * COUNT(*), SUM({upstream} * ({upstream_weight})), 0
            FROM {proposal} u JOIN {solution} a0 ON a0.id = u.parent_id
            WHERE u.status = '{UpstreamProposal.Status.ACCEPTED}'
                AND u.author_id <> a0.author_id
            GROUP BY u.parent_id
            UNION ALL
            SELECT solution_id, -SUM({cents}), -SUM({cents} * ({held_weight})), 0
            FROM {event}
            -- NOT a vote line: the partial index event_not_from_votes's own condition, so
            -- that the planner reads these few lines through it.
            WHERE solution_id IS NOT NULL AND NOT ({_IS_VOTE_LINE}) AND ({_IS_OTHER_LINE})
            GROUP BY solution_id
        ) sides
        WHERE {_id_range_sql("solution_id", id_range)}
        GROUP BY solution_id
        HAVING SUM(total) <> 0 OR SUM(weighted) <> 0 OR MAX(noted) = 1
        ORDER BY solution_id
    """
    # A statement with parameters writes `_weight`'s modulo sign twice.
    return sql.replace(" % ", " %% "), [rules.review_weight, *shares]


def _corrections_sql(event: str, held: str, reversal_note: tuple[str, str] = ("", "''")) -> str:
    """`_corrections` in SQL (PostgreSQL): after the CTEs of a statement that define `d`, the
    lines desired (fact_key, beneficiary_id, kind, amount, fact_at, solution_id,
    source_solution_id, actor_id, capped, note), the rest of the statement that appends one line
    per key whose ledger sum differs, among the ledger lines `held` selects (whole keys), and a
    line of 0 with its note for a desired key with a reason the ledger lacks. A key no longer
    backed is taken back as its first line stood, with the note `reversal_note` gives: a join on
    `h` and `f` (its first line) and the note's SQL. The time is the parameter `now`."""
    join, note = reversal_note
    return f"""
        h AS MATERIALIZED (
            SELECT fact_key, SUM(amount) AS total, MAX(seq) AS last_seq, MIN(fact_at) AS first_at
            FROM {event} WHERE {held} GROUP BY fact_key
        )
        INSERT INTO {event} (fact_key, beneficiary_id, kind, amount, fact_at, solution_id,
            source_solution_id, actor_id, capped, note, seq, created_at)
        SELECT d.fact_key, d.beneficiary_id, d.kind, ROUND(d.amount - COALESCE(h.total, 0), 2),
            d.fact_at, d.solution_id, d.source_solution_id, d.actor_id, d.capped, d.note,
            COALESCE(h.last_seq, 0) + 1, %(now)s
        FROM d LEFT JOIN h ON h.fact_key = d.fact_key
        WHERE ROUND(d.amount - COALESCE(h.total, 0), 2) <> 0
            OR (h.fact_key IS NULL AND d.note <> '')
        UNION ALL
        SELECT h.fact_key, f.beneficiary_id, f.kind, ROUND(0 - h.total, 2), h.first_at,
            f.solution_id, f.source_solution_id, f.actor_id, f.capped, {note}, h.last_seq + 1,
            %(now)s
        FROM h JOIN {event} f ON f.fact_key = h.fact_key AND f.seq = 1{join}
        WHERE ROUND(h.total, 2) <> 0 AND NOT EXISTS (SELECT 1 FROM d WHERE d.fact_key = h.fact_key)
        {_IN_KEY_ORDER}
    """


def _other_lines_sql(rules: rules_module.Rules, snapshot_id: int | None) -> tuple[str, dict]:
    """One statement that appends, for the solutions among a list of ids (PostgreSQL), the
    correction lines that bring every key of their other facts (reviews, the lineage credit
    reviews give, forks, accepted upstream proposals) to what those facts give today: to the
    cent, the lines that `_desired_and_notes(votes=False)` and `_append_corrections` append, as
    `_vote_lines_sql` does for votes. The rules of `_other_solutions_to_correct_sql`, whose check
    names the solutions, written as lines instead of sums: a review's line (0 with the reason
    from a low-trust reviewer, for an outlier review or on an unchanged fork), its lineage
    credit (rounded half to even), a `forked:` line per fork more than a copy by someone else,
    an `upstream:` line per accepted proposal. Keys are met by their text: these lines are a
    tenth of the ledger. A key no longer backed is taken back as its first line stood, with the
    note of its review when it is lineage credit from a review now set aside (`_reversal_note`).
    Returns the SQL and its parameters, the ids as `ids` and the time as `now` to be added."""
    event, solution = ReputationEvent._meta.db_table, Solution._meta.db_table
    proposal = UpstreamProposal._meta.db_table
    shares = list(rules.lineage_shares)
    numbers = ", ".join(["weight", *(f"share{k}" for k in range(1, len(shares) + 1))])
    given = ", ".join(f"CAST(%({name})s AS NUMERIC)" for name in numbers.split(", "))
    among = _among("{}").replace("%s", "%(ids)s")
    review = "'review:' || sr.solution_id || ':' || sr.reviewer_id"
    selects = [
        f"""SELECT {review}, sr.author_id, %(review_kind)s,
            CASE WHEN {_REVIEW_COUNTS} THEN CAST(sr.cents AS NUMERIC) / 100 ELSE 0 END,
            sr.created_at, sr.solution_id, CAST(NULL AS BIGINT), sr.reviewer_id, FALSE,
            CASE WHEN sr.low THEN %(low)s WHEN sr.outlier THEN %(outlier)s
                WHEN sr.unchanged THEN %(unchanged)s ELSE '' END
        FROM sr WHERE sr.cents <> 0"""
    ]
    selects += [
        f"""SELECT {review} || ':L' || sr.a{k}_author, sr.a{k}_author, %(lineage_kind)s,
            CAST({_half_even_sql(f"(sr.cents * p.share{k})")} AS NUMERIC) / 100, sr.created_at,
            sr.solution_id, sr.a{k}_id, sr.reviewer_id, FALSE, ''
        FROM sr CROSS JOIN p
        WHERE {_REVIEW_COUNTS} AND sr.cents > 0 AND {_lineage_paid(k, "sr", "sr.reviewer_id")}"""
        for k in range(1, len(shares) + 1)
    ]
    selects += [
        f"""SELECT 'forked:' || f.id, a0.author_id, %(forked_kind)s, CAST(%(forked)s AS NUMERIC),
            f.created_at, a0.id, f.id, f.author_id, FALSE, ''
        FROM {solution} f JOIN {solution} a0 ON a0.id = f.parent_id
        WHERE {among.format("f.parent_id")} AND f.published_at IS NOT NULL
            AND NOT f.unchanged_fork AND f.author_id <> a0.author_id""",
        f"""SELECT 'upstream:' || u.id, u.author_id, %(upstream_kind)s,
            CAST(%(upstream)s AS NUMERIC), COALESCE(u.decided_at, u.created_at), u.parent_id,
            u.fork_id, a0.author_id, FALSE, ''
        FROM {proposal} u JOIN {solution} a0 ON a0.id = u.parent_id
        WHERE {among.format("u.parent_id")} AND u.status = %(accepted)s
            AND u.author_id <> a0.author_id""",
    ]
    reviews = _reviews_sql(rules, snapshot_id, among.format("r.solution_id"), among.format("s.id"))
    held = f"{among.format('solution_id')} AND NOT ({_IS_VOTE_LINE}) AND ({_IS_OTHER_LINE})"
    # A lineage key from a review now set aside is taken back with that review's note.
    reversal_join = (
        " LEFT JOIN d r ON f.kind = %(lineage_kind)s"
        " AND r.fact_key = split_part(h.fact_key, ':L', 1) AND r.note IN (%(low)s, %(outlier)s)"
    )
    sql = f"""
        WITH p ({numbers}) AS (SELECT {given}),
        sr AS MATERIALIZED ({reviews}),
        d (fact_key, beneficiary_id, kind, amount, fact_at, solution_id, source_solution_id,
           actor_id, capped, note) AS MATERIALIZED ({" UNION ALL ".join(selects)}),
        {_corrections_sql(event, held, (reversal_join, "COALESCE(r.note, '')"))}
    """
    params = {
        "weight": rules.review_weight,
        **{f"share{k}": share for k, share in enumerate(shares, start=1)},
        "review_kind": Kind.REVIEW_RECEIVED,
        "lineage_kind": Kind.LINEAGE_CREDIT,
        "forked_kind": Kind.FORKED,
        "upstream_kind": Kind.UPSTREAM_ACCEPTED,
        "forked": rules.forked,
        "upstream": rules.upstream_accepted,
        "accepted": UpstreamProposal.Status.ACCEPTED,
        "low": rules_module.LOW_TRUST_NOTE,
        "outlier": rules_module.OUTLIER_REVIEW_NOTE,
        "unchanged": rules_module.UNCHANGED_FORK_NOTE,
    }
    return sql, params


def _analyze_if_stale(*models, share: float = 0.2, force: bool = False) -> None:
    """ANALYZE the tables whose rows changed by more than `share` since their statistics were
    taken (PostgreSQL; autovacuum keeps them fresh otherwise, but a rebuild may append most of
    the ledger at once), or all of them with `force`. Elsewhere, every table."""
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not force:
            cursor.execute(
                "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                "WHERE s.relname = ANY(%s) AND (s.last_analyze IS NULL AND s.last_autoanalyze "
                "IS NULL OR s.n_mod_since_analyze > GREATEST(c.reltuples, 0) * %s + 1000)",
                [tables, share],
            )
            tables = [name for (name,) in cursor.fetchall()]
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def _tune_for_bulk(cursor) -> None:
    """For this transaction's big statements on PostgreSQL: room to hash in memory. (No JIT
    either, as for every connection: see DATABASES in settings.)"""
    cursor.execute("SET LOCAL work_mem = '256MB'")


def _batches(
    batch_size: int,
    votes_per_batch: int,
    id_range: tuple[int, int] | None = None,
    only: list[int] | None = None,
) -> list[tuple[int, int, int]]:
    """Ranges of solution ids (first, last, how many), each with at most `batch_size` solutions
    and, unless a single solution holds more, about `votes_per_batch` votes: votes crowd on a
    few solutions. Only within `id_range` (first, last), and of the solutions `only`, when
    given."""
    votes_in, solutions_in = Vote.objects.all(), Solution.objects.all()
    if id_range is not None:
        votes_in = votes_in.filter(solution_id__gte=id_range[0], solution_id__lte=id_range[1])
        solutions_in = solutions_in.filter(pk__range=id_range)
    if only is not None:
        votes_in = votes_in.filter(solution_id__in=only)
        solutions_in = solutions_in.filter(pk__in=only)
    votes = dict(
        votes_in.values("solution_id").annotate(n=Count("id")).values_list("solution_id", "n")
    )
    ranges, first, last, solutions, held = [], 0, 0, 0, 0
    for pk in solutions_in.order_by("pk").values_list("pk", flat=True):
        n = votes.get(pk, 0)
        if solutions and (solutions >= batch_size or held + n > votes_per_batch):
            ranges.append((first, last, solutions))
            solutions, held = 0, 0
        if not solutions:
            first = pk
        last, solutions, held = pk, solutions + 1, held + n
    if solutions:
        ranges.append((first, last, solutions))
    return ranges


def _among(column: str) -> str:
    """SQL saying that `column` is among the ids of one list parameter (see `_ids`)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)"
    return f"{column} IN (SELECT value FROM json_each(%s))"


def _ids(ids: list[int]):
    """The list parameter that `_among` reads: an array on PostgreSQL, JSON elsewhere."""
    return list(ids) if connection.vendor == "postgresql" else json.dumps(list(ids))


# `rebuild_set_based`'s default snapshot: the latest when it starts.
LATEST = object()


def rebuild_set_based(
    *,
    batch_size: int = 5000,
    votes_per_batch: int = 250_000,
    progress=None,
    id_range: tuple[int, int] | None = None,
    snapshot_id=LATEST,
    refresh_outliers: Callable[[], object] | None = None,
    beside: Callable[[], object] | None = None,
    also: Callable[[], object] | None = None,
    fresh: bool = False,
    only: list[int] | None = None,
) -> None:
    """The full rebuild of what votes give, set-based. One read-only statement first names the
    solutions whose vote lines may need a correction (`_solutions_to_correct_sql`); then, per
    range of solution ids (one transaction each, see `_batches`), one INSERT ... SELECT over
    those of them in the range derives the desired lines in SQL, compares them with the
    ledger's sums per key and appends only the differences. The other facts (reviews, forks,
    upstream) the same way on PostgreSQL (`_other_lines_sql`), for the solutions that a second
    read-only statement names (`_other_solutions_to_correct_sql`); on SQLite they are derived
    in Python for every solution of the batch. `id_range` (first, last) limits it to those
    solution ids (one partition of a fanned-out rebuild, reputation.partitions, which gives
    every partition the same snapshot). `refresh_outliers`, when given, refreshes the reviews'
    outlier verdicts, which the second check and the other lines read. `beside`, when given,
    is a read-only job of the caller run beside the two checks (the board rows' check); `also`,
    one that needs no batch (the facts that are not solutions'), taken by a connection as if it
    were the first batch. With
    `fresh` (an empty ledger: every solution needs its lines) the checks are spared and every
    solution is derived; with `only` (sorted ids: what changed since the last run, reputation.
    touches), they are spared and only those solutions are derived, after the verdicts.

    On PostgreSQL outside a transaction, the checks run side by side, and the batches are
    taken in turn by as many connections as settings.PEERHUB_SIDE_BY_SIDE allows
    (peerhub.cores): the statements run on as many cores of the database."""
    rules = rules_module.rules()
    # One trust snapshot for the whole rebuild: the latest when it starts.
    if snapshot_id is LATEST:
        snapshot_id = trust.latest_snapshot_id()
    sql, params = _vote_lines_sql(rules, snapshot_id)
    other_sql, other_params = _other_lines_sql(rules, snapshot_id)
    postgres = connection.vendor == "postgresql"
    # Fresh statistics, so that the planner hashes whole tables instead of looping.
    _analyze_if_stale(Vote, Solution, EmailAddress, ReputationEvent)
    ranges = _batches(batch_size, votes_per_batch, id_range, only)
    # Set once the verdicts the other lines read are fresh (at once when there is nothing to
    # refresh); a job that reads them waits for it.
    verdicts = Event()

    def refresh() -> None:
        try:
            if refresh_outliers is not None:
                refresh_outliers()
        finally:
            verdicts.set()

    def check_votes() -> list[int]:
        """Which solutions' vote lines may need a correction: one read-only statement (see
        `_solutions_to_correct_sql`); the batches derive lines only for those."""
        with transaction.atomic(), connection.cursor() as cursor:
            if postgres:
                _tune_for_bulk(cursor)
            cursor.execute(_solutions_to_correct_sql(rules, snapshot_id, id_range))
            return [row[0] for row in cursor.fetchall()]

    def check_others() -> list[int] | None:
        """And whose other lines may (PostgreSQL): the same check for reviews, forks and
        upstream, once the outlier verdicts it reads are fresh."""
        verdicts.wait()
        if not postgres:
            return None
        with transaction.atomic(), connection.cursor() as cursor:
            _tune_for_bulk(cursor)
            cursor.execute(*_other_solutions_to_correct_sql(rules, snapshot_id, id_range))
            return [row[0] for row in cursor.fetchall()]

    # The checks read different facts: side by side, each on a core of the database, in two
    # lanes of about the same length. The vote lines' check is the longest job; the caller's
    # is nearly as long, and the verdicts and the other lines' check together about as long.
    found: dict[str, list[int] | None] = {}

    def votes_then_others() -> None:
        found["votes"] = check_votes()
        if beside is not None:
            found["others"] = check_others()

    def verdicts_then_rest() -> None:
        refresh()
        if beside is None:
            found["others"] = check_others()
        else:
            beside()

    if fresh:
        to_correct = others = None
    elif only is not None:
        refresh()
        to_correct = others = only
    else:
        # (The verdicts' lane first: taken in turn on one connection, it sets them before the
        # other lines' check waits for them.)
        cores.side_by_side(verdicts_then_rest, votes_then_others)
        to_correct, others = found["votes"], found["others"]

    def batch(lo: int, hi: int) -> None:
        with transaction.atomic():
            # Locked against syncs of these solutions (which lock them FOR UPDATE), but not
            # against the key checks of another batch's lines that name them (a lineage
            # line's source, a fork's parent), which would deadlock two batches side by side.
            solutions = Solution.objects.select_for_update(of=("self",), no_key=True).filter(
                pk__gte=lo, pk__lte=hi
            )
            if only is not None:
                solutions = solutions.filter(
                    pk__in=only[bisect_left(only, lo) : bisect_right(only, hi)]
                )
            locked = list(solutions.order_by("pk").values_list("pk", flat=True))
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            with connection.cursor() as cursor:
                if postgres:
                    _tune_for_bulk(cursor)
                    # The planner cannot estimate how many votes pass the trust and fork tests
                    # and, guessing few, sorts a quarter of a million rows to merge them: hash.
                    cursor.execute("SET LOCAL enable_mergejoin = off")
                if to_correct is None:
                    inside = locked
                else:
                    inside = to_correct[bisect_left(to_correct, lo) : bisect_right(to_correct, hi)]
                if inside:
                    ids = _ids(inside)
                    cursor.execute(
                        sql,
                        [
                            ids,
                            ids,
                            *params,
                            ids,
                            now,
                            rules_module.SERIAL_VOTING_NOTE,
                            rules_module.LOW_TRUST_NOTE,
                            now,
                        ],
                    )
            # The other lines read the outlier verdicts (refreshed beside the first batches of
            # a fresh ledger).
            verdicts.wait()
            # The other lines of the batch's solutions that the check named (all of them for a
            # fresh ledger): on PostgreSQL in one statement (`_other_lines_sql`); elsewhere, of
            # all of them, derived whole per solution in Python as `sync_solutions` does.
            if postgres:
                if others is None:
                    derive = locked
                else:
                    named = set(others[bisect_left(others, lo) : bisect_right(others, hi)])
                    derive = [pk for pk in locked if pk in named]
                if derive:
                    with connection.cursor() as cursor:
                        _tune_for_bulk(cursor)
                        cursor.execute(other_sql, {**other_params, "ids": derive, "now": now})
            elif locked:
                desired, notes = _desired_and_notes(locked, votes=False, snapshot_id=snapshot_id)
                held = ReputationEvent.objects.filter(
                    solution_id__in=locked, kind__in=SOLUTION_KINDS
                ).exclude(VOTE_LINES)
                _append_corrections(desired, _held(held), notes)

    # The batches are independent (each derives its own solutions' lines, in a transaction of
    # its own): each of as many connections as may run side by side takes the next job when
    # done with its last. For a fresh ledger, one of them refreshes the verdicts first.
    total, done, taking = sum(n for _lo, _hi, n in ranges), [0], Lock()

    def counted(lo: int, hi: int, n: int) -> None:
        batch(lo, hi)
        with taking:
            done[0] += n
            if progress is not None:
                progress(done[0], total)

    jobs = [*([also] if also is not None else []), *(partial(counted, *r) for r in ranges)]
    queue = iter(jobs)

    def lane(first: Callable[[], object] | None = None) -> None:
        if first is not None:
            first()
        while True:
            with taking:
                job = next(queue, None)
            if job is None:
                return
            job()

    lanes = max(1, min(len(jobs), cores.at_most()))
    if fresh:
        cores.side_by_side(partial(lane, refresh), *(lane for _ in range(lanes - 1)))
    else:
        cores.side_by_side(*(lane for _ in range(lanes)))


def sync_everything(
    *, batch_size: int | None = None, progress=None, set_based: bool | None = None
) -> int:
    """The full rebuild: every solution's facts and every signature, in batches with a
    transaction each. Returns the number of correction lines it had to append — zero when the
    incremental syncs kept the ledger right. `progress(done, total)` is called after each batch
    with the solutions done so far. `batch_size` solutions at most per transaction (default
    5000 set-based, 500 in Python).

    On PostgreSQL the vote lines are derived set-based in SQL (`rebuild_set_based`); SQLite,
    which has no hash joins, is faster with the per-batch derivation in Python. Both append the
    same lines (tests/reputation/test_set_based.py); `set_based` forces one or the other.

    A run cut short (a worker killed) leaves whole batches behind; running it again converges to
    the same ledger, since each batch only appends what its facts still lack.

    Every run is recorded, and the changes it saw marked seen (`touches.finish`): the nightly
    task's runs (`sync_changed`) check only what changed since."""
    return _sync(
        incremental=False, batch_size=batch_size, progress=progress, set_based=set_based
    ).appended


class Run(NamedTuple):
    """What a run appended, and whose scores it folded (None: every member's)."""

    appended: int
    folded: list[int] | None


def sync_changed(*, batch_size: int | None = None, progress=None) -> Run:
    """The nightly run: `sync_everything` for only what changed since the last run, when
    reputation.touches allows it (`_sync_touched`: the solutions touched, the board rows and
    scores of the members its corrections credit), and for everything once a week, after a
    change of the rules, or where there are no triggers (SQLite)."""
    return _sync(incremental=True, batch_size=batch_size, progress=progress, set_based=None)


def _sync(*, incremental: bool, batch_size, progress, set_based: bool | None) -> Run:
    if set_based is None:
        set_based = connection.vendor == "postgresql"
    # A rebuild cut short while the ledger's foreign keys were away puts them back first.
    bulk.restore(ReputationEvent)
    rules, snapshot_id = rules_module.rules(), trust.latest_snapshot_id()
    fresh = not ReputationEvent.objects.exists()
    whole = (
        (not incremental and "a whole check was asked for")
        or (fresh and "an empty ledger")
        or (not set_based and "derived in Python")
        or ""
    )
    plan = touches.plan(rules, snapshot_id, whole=whole)
    options = {"batch_size": batch_size, "progress": progress, "snapshot_id": snapshot_id}
    if plan.whole:
        run = Run(_sync_whole(set_based=set_based, fresh=fresh, **options), None)
    else:
        run = _sync_touched(plan, **options)
    touches.finish(plan, rules, snapshot_id, last_line_id=_last_line_id(), appended=run.appended)
    return run


# Above this many members to fold, every score is folded in one pass.
MAX_FOLDED = 20_000


def _sync_touched(touched: touches.Plan, *, batch_size, progress, snapshot_id) -> Run:
    """`sync_everything` for what changed since the last run (`touches.plan`): the touched
    solutions' verdicts and lines, the other sources' lines, then the board rows of the members
    its own corrections credit, and their scores and those of the members touched (an address
    verified or not sets a level) folded from the rows. The syncs keep the rows and scores of
    the members their own lines credit, in the same transaction."""
    before = _last_line_id()
    named = touched.solutions
    # Batches of a quarter of the named solutions (500 at least): the connections side by side
    # share them rather than one of them deriving all.
    rebuild_set_based(
        batch_size=batch_size or max(500, -(-len(named) // 4)),
        progress=progress,
        snapshot_id=snapshot_id,
        refresh_outliers=partial(outliers.reviews_mark_outliers, named) if named else None,
        also=rebuild_sources,
        only=named,
    )
    appended = ReputationEvent.objects.filter(pk__gt=before).count()
    if appended > 10_000:
        _analyze_if_stale(ReputationEvent, force=True)
    credited = touches.members_credited_since(before)
    _mend(credited)
    folded = sorted(set(credited) | set(touched.members))
    if len(folded) > MAX_FOLDED:
        with transaction.atomic():
            _fold_all(mended=True)
        return Run(appended, None)
    _fold_members(folded)
    return Run(appended, folded)


def _sync_whole(*, set_based: bool, fresh: bool, batch_size, progress, snapshot_id) -> int:
    """`sync_everything` checking everything."""
    # Lines are only ever appended: the ids taken since the start count what was appended.
    before = _last_line_id()

    # The reviews' outlier verdicts first (kept on every review save; refreshed here for any
    # review changed behind the services' back): the lines read them. The set-based rebuild
    # refreshes them beside its check of the vote lines, which do not read them.
    def refresh_outliers():
        return outliers.reviews_mark_outliers(None)

    if not set_based:
        refresh_outliers()
    # The board rows' check reads only the ledger and the rows: the set-based rebuild runs it
    # beside its own checks, on a core they leave idle (`boards.check`).
    board_check: list = []
    # Into an empty ledger (a first load, or a restore of the facts alone) every line is new:
    # its foreign keys are checked once at the end instead of line by line, and its indexes
    # built once, sorted, instead of an entry per line (peerhub.bulk); but for the index by
    # solution, which each batch reads for the lines its solutions already hold (without it,
    # each batch would read the whole ledger appended so far).
    with bulk.loading(ReputationEvent, keep=("solution",)) if fresh else nullcontext() as away:
        if set_based:
            rebuild_set_based(
                batch_size=batch_size or 5000,
                progress=progress,
                snapshot_id=snapshot_id,
                refresh_outliers=refresh_outliers,
                beside=None if fresh else lambda: board_check.append(boards.check()),
                also=rebuild_sources,
                fresh=fresh,
            )
        else:
            batch_size = batch_size or 500
            ids = list(Solution.objects.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(ids), batch_size):
                sync_solutions(ids[start : start + batch_size])
                if progress is not None:
                    progress(min(start + batch_size, len(ids)), len(ids))
            rebuild_sources()
        # The fold appends nothing: what the rebuild appended is counted now.
        appended = ReputationEvent.objects.filter(pk__gt=before).count()
        if appended > 10_000:
            # Statistics now, not when the server's counters catch up: a plan made for the
            # ledger before a big append would loop over it instead of hashing it.
            _analyze_if_stale(ReputationEvent, force=True)
        # The board check holds while no line came after it (the syncs keep the rows and the
        # ledger together, line by line; the rebuild's lines do not): then only the members it
        # named are mended.
        checked = board_check[0] if board_check and not appended else boards.UNCHECKED
        if away:
            # A fresh ledger's indexes and keys come back beside the derivation of the board
            # rows from it: both read the ledger, neither writes it.
            cores.side_by_side(partial(bulk.restore, ReputationEvent), partial(_mend, checked))
    if not away:
        _mend(checked)
    # Every score folded from the rows.
    with transaction.atomic():
        _fold_all(mended=True)
    return appended


def _mend(checked) -> None:
    """The board rows checked against the ledger (unless `checked` holds `boards.check`'s
    answer) and mended, in a transaction of their own (`boards.rebuild`). When there are no
    rows yet, all of them are new: their foreign keys are checked once at the end, and their
    indexes built once they are written (`bulk.loading`)."""
    bulk.restore(ReputationDay)
    empty = not ReputationDay.objects.exists()
    with bulk.loading(ReputationDay) if empty else nullcontext():
        boards.rebuild(checked=checked)


def _manifesto_lines_sql() -> tuple[str, dict]:
    """One statement (PostgreSQL) that appends the lines bringing every signature key to what
    the signatures give (`desired_for_manifesto`): the lines `_corrections` would append
    (`_corrections_sql`), each member who signed holding the rules' amount under their key,
    dated by their first signature, and no one else holding anything. A right ledger appends
    nothing and is not read into Python. Returns the SQL and its parameters."""
    event, signature = ReputationEvent._meta.db_table, ManifestoSignature._meta.db_table
    sql = f"""
        WITH d AS (
            SELECT 'manifesto:' || CAST(user_id AS TEXT) AS fact_key, user_id AS beneficiary_id,
                CAST(%(kind)s AS TEXT) AS kind, CAST(%(amount)s AS NUMERIC) AS amount,
                MIN(signed_at) AS fact_at, CAST(NULL AS BIGINT) AS solution_id,
                CAST(NULL AS BIGINT) AS source_solution_id, CAST(NULL AS BIGINT) AS actor_id,
                FALSE AS capped, '' AS note
            FROM {signature} GROUP BY user_id
        ),
        {_corrections_sql(event, "kind = %(kind)s")}
    """
    amount = rules_module.rules().manifesto_signed
    return sql, {"kind": Kind.MANIFESTO_SIGNED, "amount": amount, "now": timezone.now()}


def rebuild_sources() -> None:
    """The full rebuild's facts that are not solutions': signatures (in one statement on
    PostgreSQL, `_manifesto_lines_sql`), and other apps' sources."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(*_manifesto_lines_sql())
        else:
            held = _held(ReputationEvent.objects.filter(kind=Kind.MANIFESTO_SIGNED))
            _append_corrections(desired_for_manifesto(), held)
    for source in hooks.collect("reputation_fact_sources"):
        with transaction.atomic():
            held = _held(ReputationEvent.objects.filter(kind__in=source.kinds))
            _append_corrections(source.desired(), held)


def rebuild_solution_range(
    first_id: int,
    last_id: int,
    *,
    snapshot_id=LATEST,
    batch_size: int | None = None,
    set_based: bool | None = None,
) -> None:
    """`sync_everything`'s lines for the solutions with ids in first..last only (one partition,
    reputation.partitions): each solution's lines derive from its own facts alone, so the
    partitions together append what one run appends. Scores are left to `fold_member_range`."""
    if set_based is None:
        set_based = connection.vendor == "postgresql"
    outliers.reviews_mark_outliers(
        Solution.objects.filter(pk__range=(first_id, last_id)).values_list("pk", flat=True)
    )
    if set_based:
        rebuild_set_based(
            batch_size=batch_size or 5000, id_range=(first_id, last_id), snapshot_id=snapshot_id
        )
        return
    batch_size = batch_size or 500
    ids = list(
        Solution.objects.filter(pk__range=(first_id, last_id))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), batch_size):
        sync_solutions(ids[start : start + batch_size])


def last_line_id() -> int:
    return _last_line_id()


def _last_line_id() -> int:
    return ReputationEvent.objects.aggregate(last=Max("pk"))["last"] or 0


# --- Scores: ledger → totals and trust levels ------------------------------------------------


def totals_from_ledger(user_ids=None) -> dict[int, Decimal]:
    """Per member: capped lines count per UTC day of their fact, positive ones up to the cap;
    the rest in full. Net per key first, so a reversed vote frees its place under the cap; a
    key's day is that of its latest fact (corrections of a live fact carry the fact's time)."""
    cap = rules_module.rules().daily_vote_cap
    events = ReputationEvent.objects.all()
    if user_ids is not None:
        events = events.filter(beneficiary_id__in=list(user_ids))
    per_key = events.values("beneficiary_id", "fact_key", "capped").annotate(
        net=Sum("amount"), day=Max(TruncDate("fact_at", tzinfo=UTC))
    )
    totals: dict[int, Decimal] = defaultdict(Decimal)
    gains: dict[tuple[int, object], Decimal] = defaultdict(Decimal)
    for row in per_key:
        if row["capped"] and row["net"] > 0:
            gains[(row["beneficiary_id"], row["day"])] += row["net"]
        else:
            totals[row["beneficiary_id"]] += row["net"]
    for (user_id, _day), gained in gains.items():
        totals[user_id] += min(cap, gained)
    return dict(totals)


def _write_scores(scores) -> None:
    """Total (never below 1) and trust level from each score's `ledger_sum`; a pinned level
    stays. The scores come from `_lock_scores`."""
    scores = list(scores)
    now = timezone.now()
    for score in scores:
        score.total = max(Decimal(1), score.ledger_sum + 1)
        level = rules_module.level_for(total=score.total, verified=score.verified)
        score.trust_level = level if score.pinned_level is None else score.pinned_level
        score.computed_at = now
    ReputationScore.objects.bulk_update(
        scores, ["ledger_sum", "total", "trust_level", "computed_at"], batch_size=1000
    )


@transaction.atomic
def recompute_scores(user_ids) -> None:
    """Fold the whole ledger of these members, or of everyone, into their scores."""
    if user_ids is None:
        _fold_all()
        return
    scores = _lock_scores(set(user_ids))
    totals = totals_from_ledger(list(scores))
    for user_id, score in scores.items():
        score.ledger_sum = totals.get(user_id, Decimal(0))
    _write_scores(scores.values())


def _fold_sql(days, members: str = "") -> tuple[str, list]:
    """The fold's one statement (the level from `rules.level_sql`): the scores of the members
    `members` selects (a WHERE on `u`; everyone when empty) from their board rows `days` (a
    queryset of `ReputationDay`), which hold the ledger netted per key, per member, UTC day of
    the key's latest line and challenge: each day's gains capped, the rest in full
    (`boards.period_sums_sql`, the one place the cap is summed in SQL). Returns the SQL and its
    parameters."""
    score, user = ReputationScore._meta.db_table, User._meta.db_table
    email = EmailAddress._meta.db_table
    sums, sums_params = boards.period_sums_sql(days, positive_only=False)
    level, level_params = rules_module.level_sql(
        "GREATEST(1, COALESCE(t.score, 0) + 1)",
        f"EXISTS (SELECT 1 FROM {email} e WHERE e.user_id = u.id AND e.verified)",
    )
    sql = f"""
        WITH t AS ({sums})
        INSERT INTO {score} AS s
            (user_id, ledger_sum, total, trust_level, pinned_level, computed_at)
        SELECT u.id, COALESCE(t.score, 0), GREATEST(1, COALESCE(t.score, 0) + 1),
            {level}, NULL, %s
        FROM {user} u LEFT JOIN t ON t.member_id = u.id
        {members}
        ON CONFLICT (user_id) DO UPDATE SET
            ledger_sum = EXCLUDED.ledger_sum, total = EXCLUDED.total,
            trust_level = COALESCE(s.pinned_level, EXCLUDED.trust_level),
            computed_at = EXCLUDED.computed_at
        WHERE s.ledger_sum IS DISTINCT FROM EXCLUDED.ledger_sum
            OR s.trust_level <> COALESCE(s.pinned_level, EXCLUDED.trust_level)
    """
    return sql, [*sums_params, *level_params, timezone.now()]


def _fold_all(*, mended: bool = False) -> None:
    """Every member's score, with the score table locked against syncs, which would otherwise
    add to totals this is replacing. The board rows are checked against the ledger and mended
    first (`boards.rebuild`; not again when `mended`: the syncs since kept them), then, on
    PostgreSQL, every score is folded from them in one statement (`_fold_sql`): they hold what
    a fold of the ledger would group, a tenth of its size at 100,000 members. Elsewhere each
    member's ledger is folded in Python. In the caller's transaction."""
    if connection.vendor != "postgresql":
        if not mended:
            boards.rebuild()
        recompute_scores(User.objects.values_list("pk", flat=True))
        return
    score = ReputationScore._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {score} IN EXCLUSIVE MODE")
        # Fresh statistics: a rebuild may just have appended most of the ledger, and a plan
        # made for an empty table would loop over it instead of hashing it.
        _analyze_if_stale(ReputationEvent, ReputationDay)
        if not mended:
            boards.rebuild()
        _fold_days(cursor, ReputationDay.objects.all())


def fold_member_range(first_id: int, last_id: int) -> None:
    """`_fold_all` for the members with ids in first..last only (one partition of a fanned-out
    rebuild, reputation.partitions): their board rows checked and mended, then their scores
    folded from them (a score folds its own member's lines alone, so the partitions together
    write what one fold writes). The range's score rows are locked against syncs instead of the
    whole table, so that partitions fold side by side."""
    lo, hi = int(first_id), int(last_id)
    if connection.vendor != "postgresql":
        with transaction.atomic():
            boards.rebuild(member_id_range=(lo, hi))
            recompute_scores(User.objects.filter(pk__range=(lo, hi)).values_list("pk", flat=True))
        return
    score = ReputationScore._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT user_id FROM {score} WHERE user_id BETWEEN %s AND %s "
            "ORDER BY user_id FOR UPDATE",
            [lo, hi],
        )
        boards.rebuild(member_id_range=(lo, hi))
        days = ReputationDay.objects.filter(member_id__gte=lo, member_id__lte=hi)
        _fold_days(cursor, days, f"WHERE u.id BETWEEN {lo} AND {hi}")


def _fold_members(member_ids: list[int]) -> None:
    """`_fold_all` for these members only (PostgreSQL), their board rows mended already: their
    score rows locked against syncs, as `fold_member_range` locks a range's."""
    if not member_ids:
        return
    score = ReputationScore._meta.db_table
    ids = ", ".join(str(int(pk)) for pk in member_ids)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT user_id FROM {score} WHERE user_id IN ({ids}) ORDER BY user_id FOR UPDATE"
        )
        days = ReputationDay.objects.filter(member_id__in=member_ids)
        _fold_days(cursor, days, f"WHERE u.id IN ({ids})")


def _fold_days(cursor, days, members: str = "") -> None:
    """Run `_fold_sql` on PostgreSQL. Its groups (per member and day, then per member) are read
    in the order of an index of the board rows (member, day, gained, other), streaming: the
    planner, which expects a tenth of the member-days there are, would hash them instead, in
    twice the time and half a gigabyte at 100,000 members."""
    _tune_for_bulk(cursor)
    cursor.execute("SET LOCAL enable_hashagg = off")
    cursor.execute(*_fold_sql(days, members))
    cursor.execute("RESET enable_hashagg")
