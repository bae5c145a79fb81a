"""Confirmed spam or abuse in the reputation ledger: a case whose flags moderators upheld for a
reason with a penalty (rules.flags().penalties, Stack Overflow's -100 for spam) gives its author
one line under `moderation:<case>:<kind>:<reason>`, outside the daily cap. A case restored later
(an appeal) gives nothing, and the sync appends the correction that gives the points back. It
follows the ledger's pattern (see selection_credit): desired lines, held sums, corrections."""

from django.db import transaction

from .. import rules as rules_module
from ..ledger import FactSource, Line, _apply, _held
from ..models import ModerationCase, ReputationEvent

KIND = ReputationEvent.Kind.MODERATION_PENALTY
# Upheld, removed, or upheld and now appealed or edited (the penalty stands until the new
# review is decided).
PENALISED = (
    ModerationCase.Status.UPHELD,
    ModerationCase.Status.REMOVED,
    ModerationCase.Status.APPEALED,
    ModerationCase.Status.EDITED,
)


def case_key_prefix(case_id: int) -> str:
    return f"moderation:{case_id}:"


def desired_for_moderation(case_ids=None) -> dict[str, Line]:
    penalties = rules_module.flags().penalties
    cases = ModerationCase.objects.filter(
        status__in=PENALISED, decided_at__isnull=False, reason__in=list(penalties)
    ).only("pk", "kind", "reason", "author_id", "decided_at")
    if case_ids is not None:
        cases = cases.filter(pk__in=list(case_ids))
    return {
        f"{case_key_prefix(case.pk)}{case.kind}:{case.reason}": Line(
            beneficiary_id=case.author_id,
            kind=KIND,
            amount=penalties[case.reason],
            fact_at=case.decided_at,
        )
        for case in cases
        if penalties[case.reason] != 0
    }


SOURCE = FactSource(kinds=(KIND,), desired=desired_for_moderation)


@transaction.atomic
def sync_case(case_id: int) -> set[int]:
    """Bring the case's penalty lines in line with its decision. Locks the case: two syncs of it
    would append the same (key, seq)."""
    if not ModerationCase.objects.select_for_update().filter(pk=case_id).exists():
        return set()
    held = _held(
        ReputationEvent.objects.filter(kind=KIND, fact_key__startswith=case_key_prefix(case_id))
    )
    return _apply(desired_for_moderation([case_id]), held)
