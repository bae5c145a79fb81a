"""Who, up a solution's lineage, is owed a share of what it earns: the one rule behind lineage
credit (reputation.ledger) and lineage money (marketplace.prizes: prize awards and royalties).

It lives here, below both, because reputation may import challenges and the marketplace may
import both, while challenges imports neither; what only they know (who is low-trust, the share
per generation) comes in as arguments."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


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
    copies_pass_through: bool = False,
    withdrawn_count: bool = True,
) -> list[Payee]:
    """The ancestors (`chain`, nearest first) whose authors a share of an earning flows to, for
    the first `generations` generations:

    - never the earner: no self-ancestry, and nothing for the earner's own earlier solutions;
    - never the actor (the voter or reviewer whose judgement made the earning);
    - at most once per person: a nearer generation already paid them;
    - never a barred author (the marketplace bars low-trust members from lineage money);
    - with `copies_pass_through`, an unchanged copy is no generation at all: it added nothing,
      so the share goes on to the solution it copied;
    - with `withdrawn_count` False, a withdrawn ancestor's author is not paid.

    An ancestor that does not count keeps its generation: its share is not passed further up
    (the earner keeps it). Reputation calls this with its defaults (its set-based SQL mirrors
    exactly those: reputation.ledger._lineage_paid); lineage money sets every exclusion."""
    barred = set(barred_author_ids)
    links = [link for link in chain if not (copies_pass_through and link.unchanged)]
    paid = {earner_id, actor_id}
    payees = []
    for generation, link in enumerate(links[:generations], start=1):
        author_id = link.author_id
        if author_id is None or author_id in paid:
            continue
        paid.add(author_id)
        if author_id in barred or (link.withdrawn and not withdrawn_count):
            continue
        payees.append(Payee(generation, link.solution_id, author_id))
    return payees
