"""Adaptive adversaries in the community simulation (issue 23, first step: the attacks and
their measurement; no rule is changed here).

Each adversary is off by default (a size of 0), so a run without flags is the run it was; each
acts through the real services, as the honest agents do, and draws from a generator of its
own (`adv_rng`), so that switching one on changes what the others draw as little as possible.

- Camouflaged ring (`camouflage`, judgements a day): ring members also judge that many solutions
  from the top of the rankings by honest authors each day, honestly (a vote, and a review once
  their level allows), to look honest and to gain attack edges.
- Sleepers (`sleepers`, accounts): post and vote honestly until `sleeper_wake` of the run has
  passed, then upvote each other's solutions instead of judging.
- Lineage farming (`lineage_farmers`, puppets of one farm master): the master posts an honest
  solution on the first day, so that the farm has one to fork, and others later at the
  members' rate, as any member does; each puppet forks one solution of the farm a day (one of
  the master's it has not forked yet, else another puppet's fork of them, so that the master
  is an ancestor of every fork), makes a cosmetic edit (the text changes,
  which once escaped the unchanged-fork rule; its hidden quality is its parent's; the
  cosmetic-copy rule, challenges.lineage.is_copy, now counts it as a copy), and upvotes the
  other puppets' forks. The master's harvest is the lineage credit and the "solution forked"
  lines the farm brings him. It is measured against honest building of equal effort: the
  reputation (for the fork's author and, as lineage credit, its ancestors') that the run's
  honest improved forks earned on average, times the number of farm forks.
- Bribery (`bribed_share`): that share of the veterans and honest voters is paid (elsewhere) to
  upvote two of the ring's solutions a day and, when their level allows, review one with full
  marks; otherwise they stay honest.
- Review bombing (`review_bombers`): that many of the veterans (an established reviewer is
  needed: reviewing takes level 2, and a fresh account's reviews are refused) give the best
  ranked solution of the largest challenge, picked on the day the bombing starts
  (`bomb_start` of the run), the lowest score on every criterion and a downvote. The victim's
  final rank is compared with its rank had the bombers left it alone (its challenge ranked again
  without their reviews and votes on it, in a transaction rolled back), and shown beside its
  rank on the day it was picked and its rank by hidden quality.
- Wash trading (`wash_traders`, accounts): each posts a solution on the first day and lists a
  service based on it; every day each buys the service of the one 1, 2, ... places on (in
  turn; with `wash_loop`, always the next one: the money only goes round the whole ring),
  pays on the sandbox checkout, and the seller starts, delivers, the buyer accepts and rates
  it 5 stars, all through the marketplace's real services. Reputation may not import the
  marketplace: it goes through the hooks `simulation_wash_offer` and `simulation_wash_trade`
  (MarketplaceConfig); with no app answering, the adversary is skipped and the report says
  so. The listing itself is set up directly (selling takes level 3, 500 points, which the
  wash ring is taken to have reached elsewhere, as the accounts are bulk-created); every order
  goes through the services.
  Beside the ring an honest market runs (`_honest_trade`): HONEST_SELLERS builders and loners
  list a service on their first solution, and each day as many orders as the ring trades go
  from readers (a fifth from another seller) to sellers picked at random, rated 5 stars like
  the ring's, so that the figures compare a wash order with an honest one of the same price
  and count the honest orders the wash-trading rule wrongly suspects.

What each figure means is in README ("Adversaries in the simulation")."""

import math
import random
from collections import defaultdict

from peerhub.hooks import collect

from . import services
from .models import Vote
from .simulation_adversary_figures import AdversaryFigures

# Roles of the accounts the adversaries add (bombers and bribed members are honest accounts).
ADVERSARY_ROLES = ("sleeper", "farm_master", "farmer", "wash_trader")

# The strength of each adversary that `--adversaries all` switches on.
DEFAULT_STRENGTH = {
    "camouflage": 3,
    "sleepers": 6,
    "lineage_farmers": 6,
    "bribed_share": 0.1,
    "review_bombers": 3,
    "wash_traders": 4,
}

COSMETIC_EDIT = "\n\nWording tidied."


# The honest market that runs beside the wash traders: sellers, and the share of its orders a
# seller places with another seller (honest reciprocity, which the rule must not flag).
HONEST_SELLERS = 12
HONEST_SELLER_BUYS = 0.2


def adversary_counts(config) -> dict[str, int]:
    """The accounts each adversary role needs (taken from the honest voters' share)."""
    return {
        "sleeper": config.sleepers,
        "farm_master": 1 if config.lineage_farmers else 0,
        "farmer": config.lineage_farmers,
        "wash_trader": config.wash_traders if config.wash_traders >= 2 else 0,
    }


class AdversaryAgents(AdversaryFigures):
    """Mixed into reputation.simulation.Simulation: the adversaries' days (and, from
    AdversaryFigures, their figures)."""

    def _adversaries_setup(self) -> None:
        c = self.config
        self.adv_rng = random.Random(f"adversaries-{c.seed}")
        self.camouflage_votes: list[tuple[int, int]] = []
        self.farm_forks: list[int] = []
        veterans = self.ids("veteran")
        self.bombers = veterans[: min(c.review_bombers, len(veterans))]
        honest = veterans + self.ids("voter")
        bribed = round(c.bribed_share * len(honest)) if c.bribed_share > 0 else 0
        self.bribed = sorted(self.adv_rng.sample(honest, min(bribed, len(honest))))
        self.bribe_votes: list[tuple[int, int]] = []
        self.bomb_victim: int | None = None
        self.bomb_victim_rank_before: int | None = None
        self.bomb_day: int | None = None
        self.bomb_reviews: set[tuple[int, int]] = set()
        self.wash_offers: dict[int, int] = {}  # trader -> offer id
        self.wash_solutions: dict[int, int] = {}  # trader -> base solution
        self.wash_orders: list[dict] = []
        self.wash_skipped = False
        # The honest market beside the wash ring, to measure the rule's false alarms: a few
        # builders and loners sell a service on their first solution, readers (and now and then
        # another seller) buy as many orders a day as the ring trades.
        authors = self.ids("builder") + self.ids("loner")
        self.honest_sellers = (
            sorted(self.adv_rng.sample(authors, min(HONEST_SELLERS, len(authors))))
            if c.wash_traders >= 2
            else []
        )
        self.honest_offers: dict[int, int] = {}  # seller -> offer id
        self.honest_orders: list[dict] = []
        self.sleeper_level_at_wake: dict[int, int] = {}

    def attackers(self) -> set[int]:
        """Every account that attacks, bribed members included (the naive ring and puppets
        aside)."""
        ids = set(self.bombers) | set(self.bribed)
        for role in ADVERSARY_ROLES:
            ids.update(self.ids(role))
        return ids

    def wake_day(self) -> int:
        return max(1, math.ceil(self.config.days * self.config.sleeper_wake))

    def bomb_start_day(self) -> int:
        return max(1, math.ceil(self.config.days * self.config.bomb_start))

    # --- Mornings: the adversaries' posts ---------------------------------------------------

    def _adversaries_morning(self, day: int) -> None:
        c = self.config
        rng = self.rng
        for pk in self.ids("sleeper"):
            if rng.random() < c.post_rate:
                quality = min(0.95, max(0.02, rng.gauss(self.skill[pk], 0.12)))
                self._post(pk, rng.choice(self.challenges), quality)
        for pk in self.ids("farm_master"):
            # He posts as any member does, save that the farm needs a first solution to fork:
            # one on the first day, then at the members' rate.
            if day == 0:
                challenge = self.adv_rng.choice(self.challenges)
                self._post(pk, challenge, min(0.95, max(0.02, self.adv_rng.gauss(0.5, 0.1))))
            elif rng.random() < c.post_rate:
                self._post(pk, rng.choice(self.challenges), self.adv_rng.uniform(0.3, 0.6))
        if day == 0 and self.ids("wash_trader"):
            self._wash_list()
        if day == self.bomb_start_day() and self.bombers:
            self._bomb_pick(day)

    # --- Days: the attacks --------------------------------------------------------------------

    def _adversaries_day(self, day: int, typical: dict[int, float]) -> None:
        c = self.config
        if c.camouflage:
            self._camouflage(typical)
        if self.ids("sleeper"):
            self._sleepers(day, typical)
        if self.ids("farmer"):
            self._farm()
        if self.bribed:
            self._bribe()
        if self.bomb_victim is not None:
            self._bomb()
        if self.wash_offers:
            self._wash_trade(day)
            self._honest_trade()

    def _solutions_by(self, members) -> list[int]:
        members = set(members)
        return [
            s
            for ch in self.challenges
            for s in self.solutions_of[ch.pk]
            if self.author[s] in members
        ]

    def _camouflage(self, typical: dict[int, float]) -> None:
        """Ring members judge popular honest work honestly, as any member would."""
        ring = set(self.ids("ring"))
        popular = [
            s
            for ch in self.challenges
            for s in self.ranked.get(ch.pk, [])[:5]
            if self.author.get(s) not in ring and s in self.quality
        ]
        if not popular:
            return
        for pk in self.ids("ring"):
            for solution_id in self.adv_rng.sample(
                popular, min(self.config.camouflage, len(popular))
            ):
                before = self.voted.get((pk, solution_id))
                challenge_id = self._solution(solution_id).challenge_id
                perceived = self._judge(pk, solution_id, typical[challenge_id])
                if self.voted.get((pk, solution_id)) != before:
                    self.camouflage_votes.append((pk, solution_id))
                if (pk, solution_id) not in self.reviewed and self.users[pk].has_perm(
                    "reputation.add_review"
                ):
                    self._review(pk, solution_id, perceived)

    def _sleepers(self, day: int, typical: dict[int, float]) -> None:
        sleepers = self.ids("sleeper")
        if day < self.wake_day():
            # Honest judging, and no trace of the link between them: they leave each other's
            # work alone until they wake.
            members = set(sleepers)
            for pk in sleepers:
                if self.rng.random() < self.config.vote_rate:
                    challenge_id = self.rng.choice(self.challenges).pk
                    for solution_id in self._visible(challenge_id, 3):
                        if self.author.get(solution_id) not in members:
                            self._judge(pk, solution_id, typical[challenge_id])
            return
        if day == self.wake_day():
            from .selectors import trust_level_of

            self.sleeper_level_at_wake = {pk: trust_level_of(self.users[pk]) for pk in sleepers}
        theirs = self._solutions_by(sleepers)
        for pk in sleepers:
            others = [s for s in theirs if self.author[s] != pk and (pk, s) not in self.voted]
            for solution_id in others[:15]:
                self._vote(pk, solution_id, Vote.UP)

    def _farm(self) -> None:
        """Each puppet forks one solution of the master's farm a day with a cosmetic edit (one
        of his own it has not forked yet or, once it has forked them all, another puppet's fork
        of them: the master is an ancestor of every fork), then upvotes the other puppets'
        forks."""
        from challenges import services as challenge_services

        masters = self.ids("farm_master")
        targets = self._solutions_by(masters)
        farmers = self.ids("farmer")
        forked_by = defaultdict(set)
        for fork_id in self.farm_forks:
            forked_by[self.author[fork_id]].add(self.solution_rows[fork_id].parent_id)
        for pk in farmers:
            choices = [s for s in targets if s not in forked_by[pk]] or [
                f for f in self.farm_forks if self.author[f] != pk and f not in forked_by[pk]
            ]
            if not choices:
                continue
            parent_id = self.adv_rng.choice(choices)
            parent = self._solution(parent_id)
            user = self.users[pk]

            def fork_and_edit(parent=parent, user=user):
                fork = challenge_services.solution_fork(source=parent, by=user)
                challenge_services.solution_revise(
                    solution=fork,
                    by=user,
                    title=fork.title,
                    body=fork.current_revision.body + COSMETIC_EDIT,
                    message="Tidied the wording.",
                )
                return fork

            fork = self._try(fork_and_edit, atomic=True)
            if fork is None:
                continue
            fork.refresh_from_db()
            self.quality[fork.pk] = self.quality[parent_id]
            self.author[fork.pk] = pk
            self.posted_on[fork.pk] = self.today
            self.solution_rows[fork.pk] = fork
            self.solutions_of[parent.challenge_id].append(fork.pk)
            self.farm_forks.append(fork.pk)
        for pk in farmers:
            others = [
                f for f in self.farm_forks if self.author[f] != pk and (pk, f) not in self.voted
            ]
            for solution_id in others[:15]:
                self._vote(pk, solution_id, Vote.UP)

    def _bribe(self) -> None:
        ring_solutions = self._solutions_by(self.ids("ring"))
        if not ring_solutions:
            return
        for pk in self.bribed:
            fresh = [s for s in ring_solutions if (pk, s) not in self.voted]
            for solution_id in self.adv_rng.sample(fresh, min(2, len(fresh))):
                self._vote(pk, solution_id, Vote.UP)
                if self.voted.get((pk, solution_id)) == Vote.UP:
                    self.bribe_votes.append((pk, solution_id))
            unreviewed = [s for s in ring_solutions if (pk, s) not in self.reviewed]
            if unreviewed and self.users[pk].has_perm("reputation.add_review"):
                self._review(pk, self.adv_rng.choice(unreviewed), 1.0)

    def _bomb_pick(self, day: int) -> None:
        """The victim: the best ranked solution of the challenge with the most ranked ones that
        no bomber wrote or built."""
        bombers = set(self.bombers)
        order = sorted(self.challenges, key=lambda ch: (-len(self.ranked.get(ch.pk, [])), ch.pk))
        for challenge in order:
            for rank, solution_id in enumerate(self.ranked.get(challenge.pk, []), start=1):
                solution = self._solution(solution_id)
                if solution_id not in self.quality or self.author.get(solution_id) in bombers:
                    continue
                if bombers & set(solution.ancestor_author_ids):
                    continue
                self.bomb_victim, self.bomb_victim_rank_before, self.bomb_day = (
                    solution_id,
                    rank,
                    day,
                )
                return

    def _bomb(self) -> None:
        victim = self.bomb_victim
        for pk in self.bombers:
            if (pk, victim) in self.bomb_reviews:
                continue
            solution = self._solution(victim)
            scores = {criterion_id: 1 for criterion_id in self.criteria[solution.challenge_id]}
            done = self._try(
                lambda pk=pk, solution=solution, scores=scores: services.review_save(
                    reviewer=self.users[pk], solution=solution, comment="Poor.", scores=scores
                )
            )
            if done is not None:
                self.bomb_reviews.add((pk, victim))
                self.reviewed.add((pk, victim))
            self._vote(pk, victim, Vote.DOWN)

    def _wash_list(self) -> None:
        for pk in self.ids("wash_trader"):
            self._post(pk, self.adv_rng.choice(self.challenges), self.adv_rng.uniform(0.3, 0.5))
            mine = self._solutions_by([pk])
            if not mine:
                continue
            answer = collect(
                "simulation_wash_offer",
                seller=self.users[pk],
                base_solution=self._solution(mine[0]),
            )
            if not answer:
                self.wash_skipped = True
                self.wash_offers.clear()
                return
            self.wash_offers[pk] = answer[0]
            self.wash_solutions[pk] = mine[0]

    def _wash_trade(self, day: int) -> None:
        traders = sorted(self.wash_offers)
        if len(traders) < 2:
            return
        for k, buyer in enumerate(traders):
            step = 1 if self.config.wash_loop else 1 + day % (len(traders) - 1)
            seller = traders[(k + step) % len(traders)]
            for answer in collect(
                "simulation_wash_trade", buyer=self.users[buyer], offer_id=self.wash_offers[seller]
            ):
                if answer is not None:
                    self.wash_orders.append(answer)

    def _honest_trade(self) -> None:
        """The honest market: sellers list a service on their first solution once they have
        one; then as many orders as the ring trades, each from a reader (or, now and then,
        another seller) to a seller picked at random, through the same hooks and services."""
        for pk in self.honest_sellers:
            if pk in self.honest_offers:
                continue
            mine = self._solutions_by([pk])
            if mine:
                answer = collect(
                    "simulation_wash_offer",
                    seller=self.users[pk],
                    base_solution=self._solution(mine[0]),
                )
                if answer:
                    self.honest_offers[pk] = answer[0]
        sellers = sorted(self.honest_offers)
        readers = self.ids("voter")
        if not sellers or not readers:
            return
        for _ in range(len(self.wash_offers)):
            seller = self.adv_rng.choice(sellers)
            others = [pk for pk in sellers if pk != seller]
            if others and self.adv_rng.random() < HONEST_SELLER_BUYS:
                buyer = self.adv_rng.choice(others)
            else:
                buyer = self.adv_rng.choice(readers)
            for answer in collect(
                "simulation_wash_trade",
                buyer=self.users[buyer],
                offer_id=self.honest_offers[seller],
            ):
                if answer is not None:
                    self.honest_orders.append(answer)
