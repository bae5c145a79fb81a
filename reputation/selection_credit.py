"""Selection facts in the reputation ledger: when a selection round is published, the author of
each shortlisted solution earns `shortlisted`, and of each winner `selected` as well
(rules.selection_reputation). They follow the ledger's pattern (see `ledger.sync_manifesto`):
the desired lines per fact key, compared with the ledger's sums, corrections appended; they do
not count towards the daily vote cap and give no lineage credit (the organisers judged this
solution, not its ancestors). Published rounds never change, so after the first sync only a
change of the amounts in settings appends anything."""

from django.db import transaction

from challenges.models import Challenge, SelectionEntry, SelectionRound

from . import rules as rules_module
from .ledger import FactSource, Line, _apply, _held
from .models import ReputationEvent

Kind = ReputationEvent.Kind
SELECTION_KINDS = (Kind.SHORTLISTED, Kind.SELECTED)


def desired_for_selection(challenge_ids=None) -> dict[str, Line]:
    amounts = rules_module.selection_reputation()
    entries = SelectionEntry.objects.filter(
        round__status=SelectionRound.Status.PUBLISHED
    ).select_related("round", "solution")
    if challenge_ids is not None:
        entries = entries.filter(round__challenge_id__in=list(challenge_ids))
    lines: dict[str, Line] = {}
    for entry in entries:
        facts = [("shortlisted", Kind.SHORTLISTED, amounts["shortlisted"])]
        if entry.is_winner:
            facts.append(("selected", Kind.SELECTED, amounts["selected"]))
        for prefix, kind, amount in facts:
            lines[f"{prefix}:{entry.round_id}:{entry.solution_id}"] = Line(
                beneficiary_id=entry.solution.author_id,
                kind=kind,
                amount=amount,
                fact_at=entry.round.published_at,
                solution_id=entry.solution_id,
                actor_id=entry.round.published_by_id,
            )
    return lines


SOURCE = FactSource(kinds=SELECTION_KINDS, desired=desired_for_selection)


@transaction.atomic
def sync_selection(challenge_ids=None) -> set[int]:
    """Bring the selection lines of these challenges (or all) in line with their published
    rounds. Locks the challenges' rows: two syncs of one challenge would append the same
    (key, seq)."""
    challenges = Challenge.objects.select_for_update().order_by("pk")
    if challenge_ids is not None:
        challenges = challenges.filter(pk__in=list(challenge_ids))
    locked = list(challenges.values_list("pk", flat=True))
    held_events = ReputationEvent.objects.filter(kind__in=SELECTION_KINDS)
    if challenge_ids is not None:
        held_events = held_events.filter(solution__challenge_id__in=locked)
    desired = desired_for_selection(None if challenge_ids is None else locked)
    return _apply(desired, _held(held_events))
