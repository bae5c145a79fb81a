"""Who, up a solution's lineage, is owed a share of what it earns: the one rule behind lineage
credit (reputation.ledger) and lineage money (marketplace.prizes: prize awards and royalties).

It lives here, below both, because reputation may import challenges and the marketplace may
import both, while challenges imports neither; what only they know (who is low-trust, the share
per generation) comes in as arguments."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .models import Solution


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
