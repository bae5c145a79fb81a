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

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.db import connection, transaction
from django.db.models import Max, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from challenges.models import Solution, UpstreamProposal
from peerhub.models import ManifestoSignature, User

from . import rules as rules_module
from .models import ReputationEvent, ReputationScore, Review, Vote

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
    authors_by_id: dict[int, int],
    rules: rules_module.Rules,
) -> None:
    """A share of what a solution earned flows to the authors of its ancestors, nearest first,
    never to the earner or the actor, and at most once per person for one fact."""
    if earned <= 0:
        return
    paid = {solution.author_id, actor_id}
    ancestors = list(reversed(solution.ancestor_ids))
    for share, ancestor_id in zip(rules.lineage_shares, ancestors, strict=False):
        author_id = authors_by_id.get(ancestor_id)
        if author_id is None or author_id in paid:
            continue
        paid.add(author_id)
        lines[f"{key}:L{author_id}"] = Line(
            beneficiary_id=author_id,
            kind=Kind.LINEAGE_CREDIT,
            amount=(earned * share).quantize(CENT),
            fact_at=fact_at,
            solution_id=solution.pk,
            source_solution_id=ancestor_id,
            actor_id=actor_id,
            capped=capped,
        )


def desired_for_solutions(solution_ids) -> dict[str, Line]:
    """What the facts about these solutions give today. A handful of queries for any number of
    solutions: the solutions, their ancestors' authors, votes, reviews, forks, upstream."""
    return _desired_and_notes(solution_ids)[0]


def _reversal_note(notes: dict[str, str], key: str) -> str:
    """The note of a vote's key, or of a lineage key derived from it (`<vote key>:L<id>`)."""
    return notes.get(key.split(":L", 1)[0], "")


def _desired_and_notes(
    solution_ids, *, votes: bool = True
) -> tuple[dict[str, Line], dict[str, str]]:
    """The desired lines, and {vote key: note} for the votes that give nothing because they were
    judged serial: the corrections that take their lines back say why. With `votes=False` the
    lines that votes give are left to the set-based rebuild (`rebuild_set_based`)."""
    rules = rules_module.rules()
    solutions = {s.pk: s for s in Solution.objects.filter(pk__in=list(solution_ids))}
    ancestor_ids = {a for s in solutions.values() for a in s.ancestor_ids}
    authors_by_id = {s.pk: s.author_id for s in solutions.values()}
    authors_by_id.update(
        Solution.objects.filter(pk__in=ancestor_ids - set(authors_by_id)).values_list(
            "pk", "author_id"
        )
    )
    vote_rows = list(Vote.objects.filter(solution_id__in=solutions)) if votes else []
    reviews = list(Review.objects.filter(solution_id__in=solutions))
    verified = _verified_ids({v.voter_id for v in vote_rows} | {r.reviewer_id for r in reviews})
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
        if vote.value == Vote.UP:
            if vote.serial_reversed_at is not None:
                continue
            key = f"up:{solution.pk}:{vote.voter_id}"
            lines[key] = Line(
                solution.author_id, Kind.UPVOTE_RECEIVED, rules.upvote_received,
                vote.updated_at, solution.pk, None, vote.voter_id, True,
            )  # fmt: skip
            _lineage_lines(
                lines, key=key, solution=solution, earned=rules.upvote_received,
                fact_at=vote.updated_at, actor_id=vote.voter_id, capped=True,
                authors_by_id=authors_by_id, rules=rules,
            )  # fmt: skip
        else:
            if vote.serial_reversed_at is None:
                lines[f"down:{solution.pk}:{vote.voter_id}"] = Line(
                    solution.author_id, Kind.DOWNVOTE_RECEIVED, rules.downvote_received,
                    vote.updated_at, solution.pk, None, vote.voter_id, True,
                )  # fmt: skip
            lines[f"downcast:{solution.pk}:{vote.voter_id}"] = Line(
                vote.voter_id, Kind.DOWNVOTE_CAST, rules.downvote_cast,
                vote.updated_at, solution.pk, None, solution.author_id, False,
            )  # fmt: skip

    for review in reviews:
        solution = solutions[review.solution_id]
        if review.reviewer_id == solution.author_id or review.reviewer_id not in verified:
            continue
        amount = ((review.mean_score - 3) * rules.review_weight).quantize(CENT)
        if amount == 0:
            continue
        key = f"review:{solution.pk}:{review.reviewer_id}"
        lines[key] = Line(
            solution.author_id, Kind.REVIEW_RECEIVED, amount, review.created_at,
            solution.pk, None, review.reviewer_id, False,
        )  # fmt: skip
        _lineage_lines(
            lines, key=key, solution=solution, earned=amount, fact_at=review.created_at,
            actor_id=review.reviewer_id, capped=False, authors_by_id=authors_by_id, rules=rules,
        )  # fmt: skip

    forks = Solution.objects.filter(parent_id__in=solutions, published_at__isnull=False)
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


def _append_corrections(
    desired: dict[str, Line], held: dict[str, tuple], notes: dict[str, str] | None = None
) -> set[int]:
    """Append one line per key whose ledger sum differs from what the facts give; returns the
    members whose score changed. `held` maps key → (sum, last seq, first fact_at, line info);
    `notes` says why a key that the facts no longer back was taken back (a reversed vote)."""
    notes = notes or {}
    now = timezone.now()
    new_lines = []
    touched: set[int] = set()
    for key in desired.keys() | held.keys():
        want = desired.get(key)
        total, last_seq, first_at, info = held.get(key, (Decimal(0), 0, None, None))
        difference = (want.amount if want else Decimal(0)) - total
        if difference == 0:
            continue
        template = want or info
        new_lines.append(
            ReputationEvent(
                beneficiary_id=template.beneficiary_id,
                kind=template.kind,
                fact_key=key,
                seq=last_seq + 1,
                amount=difference,
                # The key counts in the UTC day of its latest line (for the daily cap): a vote
                # cast again later is a fact of that later day, as a rebuild would see it; a
                # reversal stays in the day it reverses.
                fact_at=want.fact_at if want else (first_at or template.fact_at),
                solution_id=template.solution_id,
                source_solution_id=template.source_solution_id,
                actor_id=template.actor_id,
                capped=template.capped,
                note="" if want else _reversal_note(notes, key),
                created_at=now,
            )
        )
        touched.add(template.beneficiary_id)
    ReputationEvent.objects.bulk_create(new_lines)
    return touched


def _held(events) -> dict[str, tuple]:
    """For each key among `events`: (ledger sum, last seq, first fact_at, the first line)."""
    rows = list(
        events.values("fact_key").annotate(
            total=Sum("amount"), last_seq=Max("seq"), first_at=Min("fact_at")
        )
    )
    firsts = ReputationEvent.objects.filter(
        fact_key__in=[row["fact_key"] for row in rows], seq=1
    ).values(
        "fact_key", "beneficiary_id", "kind", "fact_at", "solution_id", "source_solution_id",
        "actor_id", "capped",
    )  # fmt: skip
    info = {
        row.pop("fact_key"): Line(amount=Decimal(0), **row)  # type: ignore[arg-type]
        for row in firsts
    }
    return {
        row["fact_key"]: (row["total"], row["last_seq"], row["first_at"], info[row["fact_key"]])
        for row in rows
    }


# --- Sync: facts → ledger --------------------------------------------------------------------


@transaction.atomic
def sync_solutions(solution_ids) -> set[int]:
    """Bring the ledger lines about these solutions in line with their facts. Locks the
    solutions' rows so that two workers syncing the same solution take turns."""
    ids = list(
        Solution.objects.select_for_update(of=("self",))
        .filter(pk__in=list(solution_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    desired, notes = _desired_and_notes(ids)
    held = _held(ReputationEvent.objects.filter(solution_id__in=ids))
    touched = _append_corrections(desired, held, notes)
    recompute_scores(touched)
    return touched


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
    touched = _append_corrections(desired, held)
    recompute_scores(touched)
    return touched


VOTE_KEY_PREFIXES = ("up:", "down:", "downcast:")


def _vote_lines_sql(rules: rules_module.Rules) -> tuple[str, list]:
    """One statement that appends, for the solutions with ids in [lo, hi], the correction lines
    that bring every vote key (`up:`, `down:`, `downcast:` and the lineage keys derived from
    `up:`) to what the votes give today: the same lines, to the cent, as `_desired_and_notes`
    and `_append_corrections` would append. Ancestors are reached through `parent_id`, which
    names the same chain as `path`, both being set once when a fork is created. Returns the SQL
    and its fixed parameters; `rebuild_set_based` adds the range, the time and the note."""
    vote, solution = Vote._meta.db_table, Solution._meta.db_table
    event, email = ReputationEvent._meta.db_table, EmailAddress._meta.db_table
    shares = rules.lineage_shares if rules.upvote_received > 0 else ()
    ancestors = "".join(
        f" LEFT JOIN {solution} a{k} ON a{k}.id = a{k - 1}.parent_id"
        for k in range(1, len(shares) + 1)
    )
    ancestor_cols = "".join(
        f", a{k}.id AS a{k}_id, a{k}.author_id AS a{k}_author" for k in range(1, len(shares) + 1)
    )
    live = "sv.serial_reversed_at IS NULL"
    no_source = "CAST(NULL AS BIGINT)"
    key = "CAST(sv.solution_id AS TEXT) || ':' || CAST(sv.voter_id AS TEXT)"
    columns = (
        "fact_key, beneficiary_id, kind, amount, fact_at, solution_id, source_solution_id, "
        "actor_id, capped"
    )
    selects = [
        f"SELECT 'up:' || {key}, sv.author_id, %s, CAST(%s AS NUMERIC), sv.updated_at, "
        f"sv.solution_id, {no_source}, sv.voter_id, %s FROM sv WHERE sv.value = 1 AND {live}",
        f"SELECT 'down:' || {key}, sv.author_id, %s, CAST(%s AS NUMERIC), sv.updated_at, "
        f"sv.solution_id, {no_source}, sv.voter_id, %s FROM sv WHERE sv.value = -1 AND {live}",
        f"SELECT 'downcast:' || {key}, sv.voter_id, %s, CAST(%s AS NUMERIC), sv.updated_at, "
        f"sv.solution_id, {no_source}, sv.author_id, %s FROM sv WHERE sv.value = -1",
    ]
    params: list = [
        Kind.UPVOTE_RECEIVED, rules.upvote_received, True,
        Kind.DOWNVOTE_RECEIVED, rules.downvote_received, True,
        Kind.DOWNVOTE_CAST, rules.downvote_cast, False,
    ]  # fmt: skip
    for k, share in enumerate(shares, start=1):
        # Nearest first, never to the earner or the voter, once per person: a nearer
        # ancestor with the same author was paid already (or was the earner or the voter).
        distinct = "".join(f" AND sv.a{k}_author <> sv.a{j}_author" for j in range(1, k))
        selects.append(
            f"SELECT 'up:' || {key} || ':L' || CAST(sv.a{k}_author AS TEXT), sv.a{k}_author, "
            f"%s, CAST(%s AS NUMERIC), sv.updated_at, sv.solution_id, sv.a{k}_id, sv.voter_id, "
            f"%s FROM sv WHERE sv.value = 1 AND {live} AND sv.a{k}_author IS NOT NULL "
            f"AND sv.a{k}_author <> sv.author_id AND sv.a{k}_author <> sv.voter_id{distinct}"
        )
        params += [Kind.LINEAGE_CREDIT, (rules.upvote_received * share).quantize(CENT), True]
    union = " UNION ALL ".join(selects)
    is_vote_key = " OR ".join(f"fact_key LIKE '{prefix}%%'" for prefix in VOTE_KEY_PREFIXES)
    # A key no longer backed is taken back with the note of its vote when the serial-voting
    # job reversed that vote (the first line's solution and actor are the vote's).
    note = (
        f"CASE WHEN h.fact_key LIKE 'downcast:%%' THEN '' WHEN EXISTS (SELECT 1 FROM {vote} v "
        f"JOIN {solution} s ON s.id = v.solution_id WHERE v.solution_id = f.solution_id "
        f"AND v.voter_id = f.actor_id AND v.voter_id <> s.author_id "
        f"AND v.serial_reversed_at IS NOT NULL AND EXISTS (SELECT 1 FROM {email} e "
        f"WHERE e.user_id = v.voter_id AND e.verified)) THEN %s ELSE '' END"
    )
    sql = f"""
        WITH sv AS (
            SELECT v.solution_id, v.voter_id, v.value, v.updated_at, v.serial_reversed_at,
                a0.author_id{ancestor_cols}
            FROM {vote} v JOIN {solution} a0 ON a0.id = v.solution_id{ancestors}
            WHERE v.solution_id BETWEEN %s AND %s AND v.voter_id <> a0.author_id
              AND EXISTS (SELECT 1 FROM {email} e WHERE e.user_id = v.voter_id AND e.verified)
        ),
        d ({columns}) AS ({union}),
        h AS (
            SELECT fact_key, SUM(amount) AS total, MAX(seq) AS last_seq, MIN(fact_at) AS first_at
            FROM {event}
            WHERE solution_id BETWEEN %s AND %s AND ({is_vote_key})
            GROUP BY fact_key
        )
        INSERT INTO {event} ({columns}, seq, note, created_at)
        SELECT d.fact_key, d.beneficiary_id, d.kind, ROUND(d.amount - COALESCE(h.total, 0), 2),
            d.fact_at, d.solution_id, d.source_solution_id, d.actor_id, d.capped,
            COALESCE(h.last_seq, 0) + 1, '', %s
        FROM d LEFT JOIN h ON h.fact_key = d.fact_key
        WHERE ROUND(d.amount - COALESCE(h.total, 0), 2) <> 0
        UNION ALL
        SELECT h.fact_key, f.beneficiary_id, f.kind, ROUND(0 - h.total, 2), h.first_at,
            f.solution_id, f.source_solution_id, f.actor_id, f.capped, h.last_seq + 1,
            {note}, %s
        FROM h JOIN {event} f ON f.fact_key = h.fact_key AND f.seq = 1
        WHERE ROUND(h.total, 2) <> 0 AND NOT EXISTS (SELECT 1 FROM d WHERE d.fact_key = h.fact_key)
    """
    return sql, params


def rebuild_set_based(*, batch_size: int = 500, progress=None) -> None:
    """The full rebuild of what votes give, set-based: one INSERT ... SELECT per range of
    solution ids (`batch_size` solutions, one transaction each), which derives the desired lines
    in SQL, compares them with the ledger's sums per key and appends only the differences. The
    other facts of each batch (reviews, forks, upstream) are derived in Python as before."""
    rules = rules_module.rules()
    sql, params = _vote_lines_sql(rules)
    ids = list(Solution.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        lo, hi = batch[0], batch[-1]
        with transaction.atomic():
            locked = list(
                Solution.objects.select_for_update(of=("self",))
                .filter(pk__gte=lo, pk__lte=hi)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            with connection.cursor() as cursor:
                cursor.execute(
                    sql,
                    [lo, hi, *params, lo, hi, now, rules_module.SERIAL_VOTING_NOTE, now],
                )
            desired, notes = _desired_and_notes(locked, votes=False)
            held = ReputationEvent.objects.filter(solution_id__in=locked)
            for prefix in VOTE_KEY_PREFIXES:
                held = held.exclude(fact_key__startswith=prefix)
            _append_corrections(desired, _held(held), notes)
        if progress is not None:
            progress(min(start + batch_size, len(ids)), len(ids))


def sync_everything(*, batch_size: int = 500, progress=None, set_based: bool | None = None) -> int:
    """The full rebuild: every solution's facts and every signature, in batches with a
    transaction each. Returns the number of correction lines it had to append — zero when the
    incremental syncs kept the ledger right. `progress(done, total)` is called after each batch.

    On PostgreSQL the vote lines are derived set-based in SQL (`rebuild_set_based`); SQLite,
    which has no hash joins, is faster with the per-batch derivation in Python. Both append the
    same lines (tests/reputation/test_set_based.py); `set_based` forces one or the other.

    A run cut short (a worker killed) leaves whole batches behind; running it again converges to
    the same ledger, since each batch only appends what its facts still lack."""
    if set_based is None:
        set_based = connection.vendor == "postgresql"
    before = ReputationEvent.objects.count()
    if set_based:
        rebuild_set_based(batch_size=batch_size, progress=progress)
    else:
        ids = list(Solution.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), batch_size):
            sync_solutions(ids[start : start + batch_size])
            if progress is not None:
                progress(min(start + batch_size, len(ids)), len(ids))
    with transaction.atomic():
        desired = desired_for_manifesto()
        held = _held(ReputationEvent.objects.filter(kind=Kind.MANIFESTO_SIGNED))
        _append_corrections(desired, held)
    from .selection_credit import sync_selection  # issue 5: selection facts

    sync_selection(recompute=False)
    recompute_scores(None)
    return ReputationEvent.objects.count() - before


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


def recompute_scores(user_ids) -> None:
    """Write ReputationScore rows (total, trust level) for these members, or for everyone."""
    user_ids = None if user_ids is None else set(user_ids)
    if user_ids == set():
        return
    totals = totals_from_ledger(user_ids)
    if user_ids is None:
        user_ids = set(User.objects.values_list("pk", flat=True))
    verified = _verified_ids(user_ids)
    pinned = dict(
        ReputationScore.objects.filter(
            user_id__in=user_ids, pinned_level__isnull=False
        ).values_list("user_id", "pinned_level")
    )
    now = timezone.now()
    rows = []
    for user_id in user_ids:
        total = max(Decimal(1), totals.get(user_id, Decimal(0)) + 1)
        level = rules_module.level_for(total=total, verified=user_id in verified)
        rows.append(
            ReputationScore(
                user_id=user_id,
                total=total,
                trust_level=pinned.get(user_id, level),
                pinned_level=pinned.get(user_id),
                computed_at=now,
            )
        )
    ReputationScore.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["total", "trust_level", "computed_at"],
        batch_size=1000,
    )
