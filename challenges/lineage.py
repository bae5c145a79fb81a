"""Who, up a solution's lineage, is owed a share of what it earns: the one rule behind lineage
credit (reputation.ledger) and lineage money (marketplace.prizes: prize awards and royalties).

It lives here, below both, because reputation may import challenges and the marketplace may
import both, while challenges imports neither; what only they know (who is low-trust, the share
per generation) comes in as arguments."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.conf import settings

from .models import Solution

# A fork whose words differ from its source's by less than this share is a cosmetic copy:
# counted as an unchanged fork (Solution.unchanged_fork). Override with
# PEERHUB_LINEAGE = {"cosmetic_share": ...}; 0 counts only verbatim copies.
DEFAULT_COSMETIC_SHARE = 0.05


def cosmetic_share() -> float:
    configured = getattr(settings, "PEERHUB_LINEAGE", {})
    return float(configured.get("cosmetic_share", DEFAULT_COSMETIC_SHARE))


def changed_share(source: str, body: str) -> float:
    """How much of the two texts differs, from 0 (the same words in the same order) to 1
    (nothing in common): 1 - 2 x (words in common, in order) / (words in both)."""
    a, b = source.split(), body.split()
    if a == b:
        return 0.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    # quick_ratio() bounds the likeness from above, cheaply: a real rewrite is told by it alone.
    at_least = 1 - matcher.quick_ratio()
    if at_least >= cosmetic_share():
        return at_least
    return 1 - matcher.ratio()


def is_copy(source: str, body: str) -> bool:
    """Whether a fork's body is still its source's: the same text, or one that changes less
    than `cosmetic_share` of the words (a tidied wording, a typo fixed). Votes and reviews of a
    copy judge its source's work (reputation's "unchanged fork" rule); a small fix belongs
    upstream, where an accepted proposal credits its author."""
    if source == body:
        return True
    share = cosmetic_share()
    return share > 0 and changed_share(source, body) < share


@dataclass(frozen=True)
class Link:
    """One ancestor of the earning solution, as the rule needs it."""

    solution_id: int
    author_id: int | None
    # A fork whose body is still the one it copied (Solution.unchanged_fork).
    unchanged: bool = False
    withdrawn: bool = False


@dataclass(frozen=True)
class Payee:
    """An ancestor that counts: `generation` 1 is the parent, 2 the grandparent, ...; its share
    is the generation's."""

    generation: int
    solution_id: int
    author_id: int


def lineage_payees(
    *,
    chain: Sequence[Link],
    generations: int,
    earner_id: int | None,
    actor_id: int | None = None,
    barred_author_ids: Iterable[int] = (),
) -> list[Payee]:
    """The ancestors (`chain`, nearest first) whose authors a share of an earning flows to, for
    the first `generations` generations. The same rule for reputation and for money:

    - an unchanged copy is no generation at all: it added nothing, so the share goes on to the
      solution it copied (and its author is not paid for it);
    - never the earner: no self-ancestry, and nothing for the earner's own earlier solutions;
    - never the actor (the voter or reviewer whose judgement made the earning);
    - at most once per person: a nearer generation already paid them;
    - never a barred author (low-trust members: vote rings earn nothing from each other);
    - never the author of a withdrawn ancestor: they took it back.

    An ancestor that does not count keeps its generation: its share is not passed further up
    (the earner keeps it). reputation.ledger's set-based SQL mirrors exactly this
    (`_credited_sql`, `_lineage_paid`)."""
    barred = set(barred_author_ids)
    links = [link for link in chain if not link.unchanged]
    paid = {earner_id, actor_id}
    payees = []
    for generation, link in enumerate(links[:generations], start=1):
        author_id = link.author_id
        if author_id is None or author_id in paid:
            continue
        paid.add(author_id)
        if author_id in barred or link.withdrawn:
            continue
        payees.append(Payee(generation, link.solution_id, author_id))
    return payees


def links_by_id(solution_ids: Iterable[int]) -> dict[int, Link]:
    """What the rule needs to know of each of these solutions (one query)."""
    rows = Solution.objects.filter(pk__in=list(solution_ids)).values_list(
        "pk", "author_id", "unchanged_fork", "status"
    )
    return {
        pk: Link(pk, author_id, unchanged=unchanged, withdrawn=status == Solution.Status.WITHDRAWN)
        for pk, author_id, unchanged, status in rows
    }


def chain_of(solution: Solution, links: dict[int, Link]) -> list[Link]:
    """`solution`'s ancestors, nearest first, from `links` (see `links_by_id`)."""
    return [links[pk] for pk in reversed(solution.ancestor_ids) if pk in links]
