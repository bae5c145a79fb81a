"""A synthetic community driven through the real services, to measure whether the feedback loops
select for quality and resist collusion (issue 8; `python manage.py simulate`).

Every solution carries a hidden true quality in [0, 1] that only the simulation knows. Agents:
builders fork the best solution they perceive and improve it; loners post from scratch; lazy
forkers fork and change nothing; honest voters and veteran reviewers perceive quality with
noise; a colluding ring upvotes its own and downvotes rivals; sock-puppet creators make
accounts that upvote them. Organisers (staff) frame the challenges and run a selection round at
the end. Each simulated day ends as production's nights do: a trust snapshot, the nightly
ledger rebuild, the rankings recompute. Time is simulated (a patched clock), so the daily vote
cap and the serial-voting windows see days, not the seconds the run takes.

Members' accounts are bulk-created (signing up is not under test); everything they do goes
through challenges.services and reputation.services, with Celery eager.

Prizes (issue 20): some challenges carry a prize purse, funded by a few members through the
marketplace's real contribution service and sandbox provider, and awarded by its real award
task once the results publish. Reputation may not import the marketplace: the simulation
reaches it through hooks (peerhub.hooks; MarketplaceConfig.simulation_*), and without them runs
without prizes. Money is not reputation: the award task runs between two looks at the
reputation ledger, and a figure counts the lines the money added (the rule: none)."""

import math
import random
import secrets
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.test.utils import override_settings
from django.utils.translation import gettext_noop
from scipy.stats import kendalltau

from challenges import services as challenge_services
from challenges.models import Challenge, Solution
from peerhub.exceptions import DomainError
from peerhub.hooks import collect
from peerhub.models import User

from . import abuse, fitness, ledger, review_queue, services, tasks, trust
from .models import ReputationEvent, ReputationScore, Review, SolutionScore, Vote
from .simulation_adversaries import ADVERSARY_ROLES, AdversaryAgents, adversary_counts
from .simulation_adversary_figures import AdversaryReport
from .simulation_text import (
    Figure,
    Number,
    Text,
    at_most_percent,
    english,
    in_english,
    money,
    number,
    of,
    share_of,
    shown_or_too_few,
    text,
)

ROLES = ("builder", "loner", "lazy", "voter", "veteran", "ring", "puppet_master", "puppet")


@dataclass
class Config:
    members: int = 300
    challenges: int = 6
    days: int = 10
    seed: int = 1
    ring_share: float = 0.02
    puppet_masters: int = 3
    puppets_each: int = 4
    noise: float = 0.12
    # Daily activity (participation inequality: few post, some vote, most only read).
    post_rate: float = 0.03  # a builder, loner, lazy forker or ring member posts on a day
    vote_rate: float = 0.06  # a member opens a challenge and judges what they see
    reviews_per_day: int = 4  # a veteran works through the review queue
    # The worker's ledger syncs: False coalesces them into the night's full rebuild (which
    # derives the same lines); True runs each one eagerly after its vote, as a worker would.
    eager_syncs: bool = False
    # Prize purses (issue 20): the share of challenges that get one, its award table (percent
    # per place), the winners organisers select per challenge (the first `winners` ranked), and
    # the backers of each purse (readers, each giving 20, 50, 100 or 200 in its currency).
    prize_share: float = 0.5
    prize_places: tuple[int, ...] = (60, 30, 10)
    winners: int = 1
    backers_per_purse: int = 3
    # Adversaries (issue 23; reputation.simulation_adversaries): each off at 0.
    camouflage: int = 0  # honest-looking judgements of popular work per ring member a day
    sleepers: int = 0
    sleeper_wake: float = 0.5  # the share of the run the sleepers behave honestly
    lineage_farmers: int = 0  # puppets of one farm master
    bribed_share: float = 0.0  # of the veterans and honest voters
    review_bombers: int = 0  # veterans who bomb
    bomb_start: float = 0.5  # the share of the run before the bombing starts
    wash_traders: int = 0
    # The wash ring pays only round its loop (each trader buys from the next, a loop as long as
    # the ring), never back in pairs nor through one go-between.
    wash_loop: bool = False


# What every posted solution says besides its hidden quality: a page of text as real solutions
# have, so that an edit of a few words is as small beside it as it would be on the site (the
# cosmetic-copy rule, challenges.lineage.is_copy, measures the share of words changed).
SOLUTION_TEXT = (
    "The approach starts from what the challenge asks and the people it serves. It lists the "
    "constraints we found, the options we weighed and why we chose this one. The first part "
    "describes the design step by step, with the materials, the costs and the time each step "
    "takes. The second part shows how we tested it, what failed on the way and what we changed "
    "after each test. The last part says what is still open, what we would try next and how "
    "others can build on it, reuse parts of it or measure it against their own."
)

# The size at which the goals are set: members, challenges, days (with a 2 % ring).
GOAL_SIZE = (5000, 40, 60)


@dataclass
class Result:
    config: Config
    tau_per_challenge: dict[int, float]
    ring_in_top_1pct: int
    ring_in_top_decile: int
    ring_size: int
    top_1pct_size: int
    builders_over_loners: float
    lineage_share: float
    lazy_over_parents: float
    seconds_per_day: list[float]
    solutions: int
    votes: int
    reviews: int
    low_trust_ring: int
    low_trust_honest: int
    reputation_by_role: dict[str, float] = field(default_factory=dict)
    # The whole run: members and challenges made, every day and night, the selection rounds.
    seconds_in_all: float = 0.0
    # Prizes, in the purses' currency's cents; no purse: the run had no prizes (no marketplace,
    # or a prize share of 0).
    purses: int = 0
    purses_refunded: int = 0
    currency: str = ""
    money_contributed: int = 0
    money_fees: int = 0
    money_awarded: int = 0
    money_to_ancestors: int = 0
    money_escrow_left: int = 0
    money_reputation_lines: int = 0
    builders_over_loners_money: float = math.nan
    money_by_role: dict[str, float] = field(default_factory=dict)
    # Adversaries (issue 23): one report per adversary switched on; the honest members (every
    # member but the ring, the puppets and the adversaries) and how many of them are low-trust.
    adversaries: list[AdversaryReport] = field(default_factory=list)
    honest_members: int = 0
    ringed_honest: int = 0
    backing_honest: int = 0  # honest members found backing a voting ring

    @property
    def mean_tau(self) -> float:
        values = list(self.tau_per_challenge.values())
        return sum(values) / len(values) if values else float("nan")

    def figures(self) -> list[tuple[str, str, str, bool]]:
        """(figure, value, goal, reached) in English, for the printout and the report."""
        return english(self.figure_texts())

    def figure_texts(self) -> list[Figure]:
        """The run's figures as data, for the printout and the report (in English) and for the
        public page (in its reader's language)."""
        spd = sum(self.seconds_per_day) / max(1, len(self.seconds_per_day))
        c = self.config
        goal_size = (c.members, c.challenges, c.days) == GOAL_SIZE
        return [
            Figure(text(gettext_noop("Mean Kendall τ, hidden quality vs rank")),
                   shown_or_too_few(self.mean_tau, number(self.mean_tau, ".3f")),
                   text(gettext_noop("≥ {value}"), value=Number(0.8, ".1f")),
                   self.mean_tau >= 0.8),
            Figure(text(gettext_noop("Ring members in the top 1 % ({size}) by reputation"),
                        size=self.top_1pct_size),
                   of(self.ring_in_top_1pct, self.ring_size), number(0),
                   self.ring_in_top_1pct == 0),
            Figure(text(gettext_noop("Builders / loners mean reputation, equal quality")),
                   _ratio(self.builders_over_loners),
                   text(gettext_noop("≥ {ratio}x"), ratio=Number(1.5, ".1f")),
                   self.builders_over_loners >= 1.5),
            Figure(text(gettext_noop("Share of reputation from lineage credit")),
                   number(self.lineage_share, ".1%"), None, True),
            Figure(text(gettext_noop("Lazy forks' earnings / their parents'")),
                   number(self.lazy_over_parents, ".1%"), at_most_percent(10),
                   self.lazy_over_parents <= 0.10),
            Figure(text(gettext_noop("Time per simulated day")), _seconds(spd, ".2f"), None,
                   True),
            # The goal holds at its size only: a run of another size is measured.
            Figure(text(gettext_noop("Time of the whole run")),
                   _seconds(self.seconds_in_all, ".0f"),
                   text(gettext_noop("< {seconds} s"), seconds=600) if goal_size else None,
                   self.seconds_in_all < 600 or not goal_size),
            *self.money_figures(),
        ]  # fmt: skip

    def adversary_figures(self) -> list[tuple[str, list[tuple[str, str, str, bool]]]]:
        """(adversary, its figures) in English for each adversary switched on, the run's goals
        first."""
        return [(in_english(name), english(figures)) for name, figures in self.adversary_texts()]

    def adversary_texts(self) -> list[tuple[Text, list[Figure]]]:
        """`adversary_figures` as data."""
        if not self.adversaries:
            return []
        share = self.low_trust_honest / self.honest_members if self.honest_members else 0.0
        ringed = self.ringed_honest / self.honest_members if self.honest_members else 0.0
        backing = self.backing_honest / self.honest_members if self.honest_members else 0.0
        honest = self.honest_members
        run = [
            Figure(text(gettext_noop("Mean Kendall τ with the adversaries")),
                   shown_or_too_few(self.mean_tau, number(self.mean_tau, ".3f")),
                   text(gettext_noop("≥ {value}"), value=Number(0.85, ".2f")),
                   self.mean_tau >= 0.85),
            Figure(text(gettext_noop("Honest members flagged low-trust")),
                   share_of(share, ".1%", self.low_trust_honest, honest), at_most_percent(1),
                   share <= 0.01),
            Figure(text(gettext_noop("Honest members found in a voting ring")),
                   share_of(ringed, ".1%", self.ringed_honest, honest), at_most_percent(1),
                   ringed <= 0.01),
            Figure(text(gettext_noop("Honest members found backing a voting ring")),
                   share_of(backing, ".1%", self.backing_honest, honest), at_most_percent(1),
                   backing <= 0.01),
        ]  # fmt: skip
        return [(text(gettext_noop("The run")), run)] + [
            (a.caption(), a.figures) for a in self.adversaries
        ]

    def money(self, cents: int) -> str:
        return in_english(money(cents, self.currency))

    def money_figures(self) -> list[Figure]:
        """Prize money: whether builders out-earn loners in money too, where the money went, and
        that it never fed reputation."""
        name = text(gettext_noop("Builders / loners mean prize money, equal quality"))
        if not self.purses:
            return [Figure(name, text(gettext_noop("no prizes")), None, True)]
        ratio = self.builders_over_loners_money
        to_ancestors = self.money_to_ancestors / self.money_awarded if self.money_awarded else 0.0
        return [
            Figure(name, _ratio(ratio), text(gettext_noop("> {ratio}x"), ratio=1), ratio > 1),
            Figure(Text.ngettext("Prize money awarded ({count} purse, {refunded} refunded)",
                                 "Prize money awarded ({count} purses, {refunded} refunded)",
                                 count=self.purses, refunded=self.purses_refunded),
                   money(self.money_awarded, self.currency), None, True),
            Figure(text(gettext_noop("Share of prize money paid to ancestors")),
                   number(to_ancestors, ".1%"), None, True),
            Figure(text(gettext_noop("Left in the purses' escrow after the awards")),
                   money(self.money_escrow_left, self.currency), number(0),
                   self.money_escrow_left == 0),
            Figure(text(gettext_noop("Reputation lines added by the prize money")),
                   number(self.money_reputation_lines), number(0),
                   self.money_reputation_lines == 0),
        ]  # fmt: skip


def _ratio(value: float) -> Text:
    """How many times another a mean is ("1.52x"), or why there is none: a run too small to
    measure it (no stratum with both builders and loners)."""
    return shown_or_too_few(value, text(gettext_noop("{ratio}x"), ratio=Number(value, ".2f")))


def _seconds(value: float, form: str) -> Text:
    return text(gettext_noop("{seconds} s"), seconds=Number(value, form))


def stratified_ratio(strata, group: str, reference: str) -> float:
    """How many times the reference group's mean a group's mean is, comparing like with like:
    per stratum (here, members of equal mean hidden quality) the two means, weighted by the
    Mantel-Haenszel weight n_group x n_reference / (n_group + n_reference), summed, and divided.
    A stratum with three members of one group thus weighs little, where a plain mean of the
    strata's ratios let one such stratum swing the figure (seeds of one size read 1.5x to 10x)."""
    numerator = denominator = 0.0
    for stratum in strata:
        ours, theirs = stratum.get(group), stratum.get(reference)
        if not ours or not theirs:
            continue
        weight = len(ours) * len(theirs) / (len(ours) + len(theirs))
        numerator += weight * sum(ours) / len(ours)
        denominator += weight * sum(theirs) / len(theirs)
    return numerator / denominator if denominator else float("nan")


class Clock:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at


@contextmanager
def _relaxed_durability():
    """On PostgreSQL, commits of this session do not wait for the disk (synchronous_commit
    off): a scratch database, where a crash loses at most the last moments of a run. Every
    action still commits; it is only the wait for the flush that goes."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


class Simulation(AdversaryAgents):
    def __init__(self, config: Config, *, log=None) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.log = log or (lambda message: None)
        self.clock = Clock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
        self.quality: dict[int, float] = {}
        self.lazy_parent: dict[int, int] = {}
        self.role: dict[int, str] = {}
        self.users: dict[int, User] = {}
        self.skill: dict[int, float] = {}
        self.master_of: dict[int, int] = {}

    # --- Setup ---------------------------------------------------------------------------

    def _make_members(self) -> None:
        c = self.config
        n_ring = max(3, round(c.members * c.ring_share))
        n_puppets = c.puppet_masters * c.puppets_each
        rest = c.members - n_ring - c.puppet_masters - n_puppets - 4
        adversaries = adversary_counts(c)
        n_veterans = max(3, rest // 50)
        shares = {"builder": 0.15, "loner": 0.15, "lazy": 0.05}
        counts = {role: int(rest * share) for role, share in shares.items()}
        counts["veteran"] = n_veterans
        counts["voter"] = rest - sum(counts.values()) - sum(adversaries.values())
        counts["ring"] = n_ring
        counts["puppet_master"] = c.puppet_masters
        counts["puppet"] = n_puppets
        counts.update(adversaries)
        roles = ["organiser"] * 4 + [r for r in ROLES + ADVERSARY_ROLES for _ in range(counts[r])]
        password = make_password(None)
        # Unique per run, and drawn outside the seeded generator so as not to change the run.
        stamp = f"s{c.seed}-{secrets.token_hex(4)}"
        users = User.objects.bulk_create(
            User(
                username=f"sim-{stamp}-{i}",
                email=f"sim-{stamp}-{i}@example.org",
                display_name=f"{role.replace('_', ' ')} {i}",
                password=password,
                is_staff=role == "organiser",
                is_superuser=role == "organiser",
            )
            for i, role in enumerate(roles)
        )
        if not users[0].pk:  # backends that do not return ids
            users = list(User.objects.filter(username__startswith=f"sim-{stamp}-").order_by("pk"))
        EmailAddress.objects.bulk_create(
            EmailAddress(user=u, email=u.email, primary=True, verified=True) for u in users
        )
        for user, role in zip(users, roles, strict=True):
            self.role[user.pk] = role
            self.users[user.pk] = user
            self.skill[user.pk] = min(0.95, max(0.05, self.rng.gauss(0.5, 0.15)))
        # Veterans: staff pinned them at "trusted" (review, vote down); they seed the trust walk.
        organiser = users[0]
        for pk in self.ids("veteran"):
            services.trust_level_pin(member=self.users[pk], by=organiser, level=3)
        masters = self.ids("puppet_master")
        for k, pk in enumerate(self.ids("puppet")):
            self.master_of[pk] = masters[k % len(masters)]

    def ids(self, role: str) -> list[int]:
        return [pk for pk, r in self.role.items() if r == role]

    def _make_challenges(self) -> list[Challenge]:
        organisers = [self.users[pk] for pk in self.ids("organiser")]
        challenges = []
        for i in range(self.config.challenges):
            by = organisers[i % len(organisers)]
            challenge = challenge_services.challenge_create(
                organiser=by,
                title=f"Simulated challenge {i + 1}",
                summary="A synthetic challenge of the community simulation.",
                problem="Find the best answer.",
                criteria=["Works", "Costs little"],
            )
            challenge_services.challenge_transition(challenge=challenge, by=by, to="open")
            challenges.append(challenge)
        self.challenges = challenges
        return challenges

    # --- Acting through the services ------------------------------------------------------

    def _try(self, action, *, atomic: bool = False):
        """Run one action; a refusal (DomainError) is what the member would read on the page.
        The services are atomic themselves (their transaction rolls a refusal back), so only a
        sequence of several calls needs a transaction of its own here."""
        try:
            if atomic:
                with transaction.atomic():
                    return action()
            return action()
        except DomainError:
            return None

    def _post(self, author_id: int, challenge: Challenge, quality: float) -> None:
        solution = self._try(
            lambda: challenge_services.solution_create(
                challenge=challenge,
                author=self.users[author_id],
                title=f"Idea of {author_id}",
                body=f"Quality {quality:.3f} (hidden).\n\n{SOLUTION_TEXT}",
            )
        )
        if solution is not None:
            self.quality[solution.pk] = quality
            self.author[solution.pk] = author_id
            self.posted_on[solution.pk] = self.today
            self.solution_rows[solution.pk] = solution
            solution.challenge = self.challenge_rows[challenge.pk]
            self.solutions_of[challenge.pk].append(solution.pk)

    def _solution(self, solution_id: int) -> Solution:
        """The row, read once: a member's browser holds the page it acts on."""
        solution = self.solution_rows.get(solution_id)
        if solution is None:
            solution = Solution.objects.get(pk=solution_id)
            self.solution_rows[solution_id] = solution
        # Its challenge as the page loaded it, organisers prefetched (as the views do).
        solution.challenge = self.challenge_rows[solution.challenge_id]
        return solution

    def _fork(self, author_id: int, parent_id: int, *, improve: bool) -> None:
        parent = self._solution(parent_id)
        fork = self._try(
            lambda: challenge_services.solution_fork(source=parent, by=self.users[author_id])
        )
        if fork is None:
            return
        quality = self.quality[parent_id]
        if improve:
            quality += (1 - quality) * self.rng.uniform(0.1, 0.35) * (0.5 + self.skill[author_id])
            quality = min(0.99, quality)
            self._try(
                lambda: challenge_services.solution_revise(
                    solution=fork,
                    by=self.users[author_id],
                    title=fork.title,
                    body=f"Improved to {quality:.3f} (hidden).",
                )
            )
            self.improved_forks.append(fork.pk)
        else:
            self.lazy_parent[fork.pk] = parent_id
        self.quality[fork.pk] = quality
        self.author[fork.pk] = author_id
        self.posted_on[fork.pk] = self.today
        self.solutions_of[parent.challenge_id].append(fork.pk)

    def _vote(self, voter_id: int, solution_id: int, value: int) -> None:
        """A member votes once on a solution (the page shows their vote; they do not click it
        again), and only with the buttons their level shows them."""
        if self.voted.get((voter_id, solution_id)) == value:
            return
        voter = self.users[voter_id]
        if value == Vote.DOWN and not voter.has_perm("reputation.vote_down"):
            return
        solution = self._solution(solution_id)
        if self._try(lambda: services.vote_cast(voter=voter, solution=solution, value=value)):
            self.voted[(voter_id, solution_id)] = value

    def _review(self, reviewer_id: int, solution_id: int, perceived: float) -> None:
        solution = self._solution(solution_id)
        # Each criterion is judged on its own look: the first is the look that led to the vote,
        # the others are fresh ones.
        scores = {}
        for k, criterion_id in enumerate(self.criteria[solution.challenge_id]):
            look = perceived if k == 0 else self.perceive(solution_id)
            scores[criterion_id] = max(1, min(5, round(1 + 4 * look)))
        done = self._try(
            lambda: services.review_save(
                reviewer=self.users[reviewer_id],
                solution=solution,
                comment="Reviewed.",
                scores=scores,
            )
        )
        if done is not None:
            self.reviewed.add((reviewer_id, solution_id))
            self.review_count[solution_id] += 1

    def perceive(self, solution_id: int) -> float:
        return self.quality[solution_id] + self.rng.gauss(0, self.config.noise)

    def _visible(self, challenge_id: int, k: int) -> list[int]:
        """What a member looks at: two of the challenge's top five, the newest (the "new"
        tab), and a few at random."""
        pool = self.solutions_of[challenge_id]
        if not pool:
            return []
        top = self.ranked.get(challenge_id, [])[:5]
        picks = set(self.rng.sample(pool, min(k, len(pool))))
        picks.update(self.rng.sample(top, min(2, len(top))))
        picks.update(pool[-2:])
        return sorted(picks)

    def _typical(self, challenge_id: int) -> float:
        """The level of a challenge's solutions as its regular readers know it (the mean of
        what they have seen, with the noise of their perception averaged out)."""
        pool = self.solutions_of[challenge_id]
        if not pool:
            return 0.5
        return sum(self.quality[s] for s in pool) / len(pool)

    def _judge(self, voter_id: int, solution_id: int, typical: float) -> float:
        """An honest member votes up what they find better than the challenge's typical
        solution and down what is clearly worse; in between they move on. A fork its author
        never changed shows an empty diff against its parent: they judge the original instead."""
        perceived = self.perceive(solution_id)
        solution_id = self.lazy_parent.get(solution_id, solution_id)
        if self.author.get(solution_id) == voter_id:
            return perceived
        if perceived > typical + 0.05:
            self._vote(voter_id, solution_id, Vote.UP)
        elif perceived < typical - 0.15:
            self._vote(voter_id, solution_id, Vote.DOWN)
        return perceived

    # --- One day ---------------------------------------------------------------------------

    def _day(self, day: int) -> None:
        rng = self.rng
        c = self.config
        challenges = self.challenges
        self.today = day
        self.clock.at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC) + timedelta(days=day)
        # A new day, new requests: levels are read afresh (the night's rebuild moved them).
        for user in self.users.values():
            user.__dict__.pop("_peerhub_trust_level", None)
        if not c.eager_syncs:
            # Each member's score comes with the member, as a request loads it with the user
            # (reputation.selectors.request_user_annotations): one query for everyone rather
            # than one per member. Scores move only at night here (the syncs are held), so
            # every level reads as the per-member query would have read it.
            self._load_scores()
        # Morning: posts and forks.
        for pk in self.ids("loner"):
            if rng.random() < c.post_rate:
                quality = min(0.95, max(0.02, rng.gauss(self.skill[pk], 0.12)))
                self._post(pk, rng.choice(challenges), quality)
        for pk in self.ids("builder"):
            if rng.random() < c.post_rate:
                challenge = rng.choice(challenges)
                seen = self._visible(challenge.pk, 6)
                if not seen or rng.random() < 0.15:
                    self._post(pk, challenge, min(0.95, max(0.02, rng.gauss(self.skill[pk], 0.12))))
                else:
                    best = max(seen, key=self.perceive)
                    self._fork(pk, best, improve=True)
        for pk in self.ids("lazy"):
            if rng.random() < c.post_rate:
                seen = self._visible(rng.choice(challenges).pk, 6)
                if seen:
                    self._fork(pk, max(seen, key=self.perceive), improve=False)
        for pk in self.ids("ring") + self.ids("puppet_master"):
            if rng.random() < c.post_rate:
                self._post(pk, rng.choice(challenges), min(0.95, max(0.02, rng.gauss(0.35, 0.1))))
        self._adversaries_morning(day)
        self.clock.at += timedelta(hours=2)
        # Day: votes and reviews.
        typical = {ch.pk: self._typical(ch.pk) for ch in challenges}
        for pk in self.ids("voter") + self.ids("builder") + self.ids("loner") + self.ids("lazy"):
            if rng.random() < c.vote_rate:
                challenge_id = rng.choice(challenges).pk
                for solution_id in self._visible(challenge_id, 3):
                    self._judge(pk, solution_id, typical[challenge_id])
        for pk in self.ids("veteran"):
            # The review queue of the product (reputation.review_queue): the least-reviewed
            # solutions they may review, whatever the challenge.
            queue = review_queue.solutions_to_review(
                user=self.users[pk], limit=c.reviews_per_day, among=typical
            )
            for row in queue:
                perceived = self._judge(pk, row.pk, typical[row.challenge_id])
                self._review(pk, row.pk, perceived)
        ring_ids = self.ids("ring")
        ring = set(ring_ids)
        ring_solutions = [
            s for ch in challenges for s in self.solutions_of[ch.pk] if self.author[s] in ring
        ]
        rivals = [s for ch in challenges for s in self.ranked.get(ch.pk, [])[:3]]
        rivals = [s for s in rivals if self.author.get(s) not in ring]
        for pk in ring_ids:  # a list: the order must not depend on the ids' hashing
            # Every ring member upvotes every other member's solution (once), and downvotes
            # the top of the challenges once their level lets them.
            own = [s for s in ring_solutions if self.author[s] != pk]
            own = [s for s in own if (pk, s) not in self.voted]
            for solution_id in own[:15]:
                self._vote(pk, solution_id, Vote.UP)
            for solution_id in rng.sample(rivals, min(4, len(rivals))):
                self._vote(pk, solution_id, Vote.DOWN)
        for pk, master in self.master_of.items():
            theirs = [
                s for ch in challenges for s in self.solutions_of[ch.pk] if self.author[s] == master
            ]
            for solution_id in theirs[-5:]:
                self._vote(pk, solution_id, Vote.UP)
        self._adversaries_day(day, typical)
        # Night: what production's beat runs.
        self.clock.at += timedelta(hours=10)
        self._night()

    def _load_scores(self) -> None:
        scores = {
            pk: (total, pinned)
            for pk, total, pinned in ReputationScore.objects.filter(
                user_id__in=list(self.users)
            ).values_list("user_id", "total", "pinned_level")
        }
        for pk, user in self.users.items():
            user._peerhub_score_total, user._peerhub_score_pinned = scores.get(pk, (None, None))

    def _night(self) -> None:
        steps = {
            "serial": abuse.serial_votes_reverse,
            "trust": trust.trust_compute,
            "ledger": ledger.sync_everything,
            "rankings": fitness.recompute_all,
        }
        for name, step in steps.items():
            started = time.perf_counter()
            step()
            self.night_seconds[name] += time.perf_counter() - started
        self.deferred.clear()
        self._refresh()

    def _refresh(self) -> None:
        self.author = dict(Solution.objects.values_list("pk", "author_id"))
        self.ranked = defaultdict(list)
        for challenge_id, solution_id in (
            SolutionScore.objects.filter(rank__isnull=False)
            .order_by("challenge_id", "rank")
            .values_list("challenge_id", "solution_id")
        ):
            self.ranked[challenge_id].append(solution_id)

    def _select(self) -> None:
        """Organisers shortlist the three best ranked solutions (or as many as the winners) and
        select the first (or the first `winners`, a second apart: their places). A challenge
        with a purse and nothing ranked is archived, and its backers refunded."""
        self.clock.at += timedelta(hours=1)
        winners = max(1, self.config.winners)
        for challenge in self.challenges:
            by = challenge.organisers.order_by("pk").first()
            ranked = self.ranked.get(challenge.pk, [])[: max(3, winners)]
            if not ranked:
                if challenge.pk in self.purses:
                    self._archive(challenge, by)
                continue

            def run(challenge=challenge, by=by, ranked=ranked):
                challenge_services.challenge_transition(challenge=challenge, by=by, to="selecting")
                round_ = challenge_services.selection_round_open(challenge=challenge, by=by)
                for solution_id in ranked:
                    solution = Solution.objects.get(pk=solution_id)
                    challenge_services.selection_shortlist(
                        round=round_, by=by, solution=solution, reason="Among the best ranked."
                    )
                for k, solution_id in enumerate(ranked[:winners]):
                    self.clock.at += timedelta(seconds=1 if k else 0)
                    challenge_services.selection_select(
                        round=round_,
                        by=by,
                        solution=Solution.objects.get(pk=solution_id),
                        reason="The best ranked." if k == 0 else "Among the best ranked.",
                    )
                challenge_services.selection_publish(round=round_, by=by)

            self._try(run, atomic=True)
        ledger.sync_everything()
        fitness.recompute_all()
        self._refresh()
        self._award()

    # --- Prizes ----------------------------------------------------------------------------

    def _fund_purses(self) -> None:
        """A share of the challenges get a purse while they are open, each backed by a few
        readers. Drawn from a generator of its own, so that a run with prizes makes every other
        draw as the same seed without them does."""
        c = self.config
        if c.prize_share <= 0:
            return
        rng = random.Random(f"prizes-{c.seed}")
        funded = set(
            rng.sample(range(len(self.challenges)), round(len(self.challenges) * c.prize_share))
        )
        readers = self.ids("voter")
        for i, challenge in enumerate(self.challenges):
            if i not in funded:
                continue
            backers = [
                (self.users[pk], 100 * rng.choice((20, 50, 100, 200)))
                for pk in rng.sample(readers, min(c.backers_per_purse, len(readers)))
            ]
            answer = collect(
                "simulation_purse_fund",
                challenge=self.challenge_rows[challenge.pk],  # as loaded: open
                organiser=challenge.organisers.order_by("pk").first(),
                places=c.prize_places,
                backers=backers,
            )
            if not answer:  # no marketplace: no prizes
                return
            self.purses[challenge.pk] = sum(answer)

    def _archive(self, challenge: Challenge, by: User) -> None:
        def run():
            for to in ("selecting", "closed", "archived"):
                challenge_services.challenge_transition(challenge=challenge, by=by, to=to)

        self._try(run, atomic=True)

    def _ledger_lines(self) -> tuple[int, Decimal]:
        """The reputation ledger of the run's members: its lines and their sum. The ledger is
        append-only, so any line the money caused would show in the count."""
        look = ReputationEvent.objects.filter(beneficiary_id__in=list(self.role)).aggregate(
            n=Count("pk"), s=Sum("amount")
        )
        return look["n"], look["s"] or Decimal(0)

    def _award(self) -> None:
        """The purses' award tasks run (as the worker runs them after the results publish),
        between two looks at the reputation ledger with a full rebuild after them."""
        if not self.awards_due:
            return
        before = self._ledger_lines()
        for task, args, kwargs in self.awards_due:
            task.apply(args=args, kwargs=kwargs, throw=True)
        self.awards_due.clear()
        ledger.sync_everything()
        after = self._ledger_lines()
        # Append-only: a changed sum without a new line cannot happen, but would count as one.
        self.money_reputation_lines = max(after[0] - before[0], int(after[1] != before[1]))

    # --- Run and measure -------------------------------------------------------------------

    def run(self) -> Result:
        begun = time.perf_counter()
        c = self.config
        self.solutions_of: dict[int, list[int]] = defaultdict(list)
        self.solution_rows: dict[int, Solution] = {}
        self.author: dict[int, int] = {}
        self.posted_on: dict[int, int] = {}
        self.voted: dict[tuple[int, int], int] = {}
        self.reviewed: set[tuple[int, int]] = set()
        self.review_count: dict[int, int] = defaultdict(int)
        self.deferred: list[tuple] = []
        self.night_seconds: dict[str, float] = defaultdict(float)
        self.today = 0
        self.ranked: dict[int, list[int]] = {}
        self.purses: dict[int, int] = {}
        self.awards_due: list[tuple] = []
        self.money_reputation_lines = 0
        self.improved_forks: list[int] = []
        seconds: list[float] = []
        quiet = {"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}
        with (
            mock.patch("django.utils.timezone.now", self.clock.now),
            # As a production server runs: without DEBUG's copy of every statement it executes.
            # The write throttles stay off: the simulated members are the honest and dishonest
            # behaviours under study, and a day of theirs passes in seconds.
            override_settings(MAILERS=quiet, DEBUG=False, PEERHUB_WRITE_LIMITS_ENABLED=False),
            self._worker(),
            _relaxed_durability(),
        ):
            self._make_members()
            self._make_challenges()
            self._adversaries_setup()
            self.challenge_rows = {
                ch.pk: ch
                for ch in Challenge.objects.filter(
                    pk__in=[c.pk for c in self.challenges]
                ).prefetch_related("organisers", "criteria")
            }
            self.criteria = {
                ch.pk: list(ch.criteria.values_list("pk", flat=True)) for ch in self.challenges
            }
            self._fund_purses()
            # The debounce of rankings (one recompute per challenge a few seconds after a burst
            # of changes) is held for the day; the night recomputes every challenge.
            for ch in self.challenges:
                cache.set(tasks.RANKINGS_PENDING.format(ch.pk), 1, timeout=None)
            for day in range(c.days):
                started = time.perf_counter()
                self._day(day)
                seconds.append(time.perf_counter() - started)
                night = ", ".join(f"{k} {v:.1f}" for k, v in self.night_seconds.items())
                self.log(f"day {day + 1}/{c.days}: {seconds[-1]:.2f} s (nights so far: {night})")
            self._select()
            for ch in self.challenges:
                cache.delete(tasks.RANKINGS_PENDING.format(ch.pk))
        result = self._measure(seconds)
        result.seconds_in_all = time.perf_counter() - begun
        return result

    @contextmanager
    def _worker(self):
        """Unless `eager_syncs`, the per-fact ledger syncs and ranking triggers the services
        promise through the outbox are held, as a busy worker's queue would hold them, and the
        night's full rebuild and rankings recompute (which production runs too, and which derive the
        same lines and scores: tests/reputation/test_set_based.py) settle them. A member's level
        then moves once a day rather than seconds after each vote. The purses' award tasks are
        held in every case, for `_award`."""
        from peerhub import outbox
        from peerhub import tasks as site_tasks

        # The apps' own per-fact syncs (the marketplace's order reviews) are held alike.
        held = () if self.config.eager_syncs else (
            tasks.sync_vote_reputation, tasks.sync_solution_reputation, tasks.rankings_after_change,
            *collect("simulation_deferred_tasks"),
        )  # fmt: skip
        # Nobody reads the simulated members' notifications (in-app or e-mail), and no rule
        # reads them: their delivery, a third of a run's time, is left out.
        muted = (site_tasks.deliver_notifications, site_tasks.send_notification_email)
        # The purses' awards wait for `_award`, which looks at the reputation ledger around them.
        awards = tuple(collect("simulation_award_tasks"))
        promise = outbox.enqueue

        def enqueue(task, *args, **kwargs):
            if task in muted:
                return None
            if task in held:
                self.deferred.append((task, args))
                return None
            if task in awards:
                self.awards_due.append((task, args, kwargs))
                return None
            return promise(task, *args, **kwargs)

        with mock.patch.object(outbox, "enqueue", enqueue):
            yield

    def _measure(self, seconds: list[float]) -> Result:
        taus = {}
        for challenge in self.challenges:
            ranked = [s for s in self.ranked.get(challenge.pk, []) if s in self.quality]
            if len(ranked) >= 3:
                tau = kendalltau([self.quality[s] for s in ranked], list(range(len(ranked), 0, -1)))
                if not math.isnan(tau.statistic):
                    taus[challenge.pk] = float(tau.statistic)
        totals = dict(
            ReputationScore.objects.filter(user_id__in=list(self.role)).values_list(
                "user_id", "total"
            )
        )
        members = sorted(self.role, key=lambda pk: (-totals.get(pk, Decimal(1)), pk))
        ring = set(self.ids("ring"))
        top_1 = members[: max(1, math.ceil(len(members) / 100))]
        top_10 = members[: max(1, math.ceil(len(members) / 10))]
        strata = self.quality_strata({pk: float(totals.get(pk, 1)) for pk in self.role})
        events = ReputationEvent.objects.filter(beneficiary_id__in=list(self.role))
        positive = events.filter(amount__gt=0).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        lineage = events.filter(kind=ReputationEvent.Kind.LINEAGE_CREDIT).aggregate(
            s=Sum("amount")
        )["s"] or Decimal(0)
        earned = defaultdict(Decimal)
        for solution_id, beneficiary_id, amount in (
            ReputationEvent.objects.filter(solution_id__isnull=False)
            .exclude(kind=ReputationEvent.Kind.LINEAGE_CREDIT)
            .values_list("solution_id", "beneficiary_id")
            .annotate(s=Sum("amount"))
        ):
            if self.author.get(solution_id) == beneficiary_id:
                earned[solution_id] += amount
        lazy_total = sum(max(Decimal(0), earned[f]) for f in self.lazy_parent)
        parent_total = sum(max(Decimal(0), earned[p]) for p in self.lazy_parent.values())
        low = trust.low_trust_ids()
        attackers = ring | set(self.ids("puppet")) | self.attackers()
        by_role = defaultdict(list)
        for pk, role in self.role.items():
            by_role[role].append(float(totals.get(pk, 1)))
        return Result(
            config=self.config,
            tau_per_challenge=taus,
            ring_in_top_1pct=len(ring & set(top_1)),
            ring_in_top_decile=len(ring & set(top_10)),
            ring_size=len(ring),
            top_1pct_size=len(top_1),
            builders_over_loners=stratified_ratio(strata, "builder", "loner"),
            lineage_share=float(lineage / positive) if positive else 0.0,
            lazy_over_parents=float(lazy_total / parent_total) if parent_total else 0.0,
            seconds_per_day=seconds,
            solutions=len(self.quality),
            votes=Vote.objects.filter(voter_id__in=list(self.role)).count(),
            reviews=Review.objects.filter(reviewer_id__in=list(self.role)).count(),
            low_trust_ring=len(low & ring),
            low_trust_honest=len(low - attackers),
            reputation_by_role={r: sum(v) / len(v) for r, v in sorted(by_role.items())},
            adversaries=self._measure_adversaries(totals=totals, ranking=members, low=low),
            honest_members=len(set(self.role) - attackers - set(self.ids("organiser"))),
            ringed_honest=len(
                (trust.voting_ring_ids() & set(self.role)) - attackers - set(self.ids("organiser"))
            ),
            backing_honest=len(
                (trust.ring_backer_ids() & set(self.role)) - attackers - set(self.ids("organiser"))
            ),
            **self._measure_money(),
        )

    def quality_strata(self, values: dict[int, float]) -> list[dict[str, list[float]]]:
        """Builders' and loners' values (reputation, money) at equal quality, for
        `stratified_ratio`: strata of members by the mean hidden quality of their solutions
        (tenths); a member without a solution is in none."""
        quality_of: dict[int, list[float]] = defaultdict(list)
        for solution_id, quality in self.quality.items():
            quality_of[self.author.get(solution_id)].append(quality)
        bins: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for pk in self.ids("builder") + self.ids("loner"):
            if quality_of.get(pk):
                b = min(9, int(10 * sum(quality_of[pk]) / len(quality_of[pk])))
                bins[b][self.role[pk]].append(values.get(pk, 0.0))
        return list(bins.values())

    def _measure_money(self) -> dict:
        """The prize figures, from what the marketplace reports the purses paid."""
        if not self.purses:
            return {}
        reports = collect(
            "simulation_money",
            member_ids=list(self.role),
            challenge_ids=[ch.pk for ch in self.challenges],
        )
        earned: dict[int, int] = defaultdict(int)
        to_ancestors = 0
        for report in reports:
            for (member_id, kind), cents in report["earned"].items():
                earned[member_id] += cents
                to_ancestors += cents if kind == "lineage" else 0
        by_role = defaultdict(list)
        for pk, role in self.role.items():
            by_role[role].append(earned.get(pk, 0))
        strata = self.quality_strata({pk: float(cents) for pk, cents in earned.items()})
        return {
            "purses": sum(r["purses"] for r in reports),
            "purses_refunded": sum(r["refunded"] for r in reports),
            "currency": reports[0]["currency"] if reports else "",
            "money_contributed": sum(r["contributed"] for r in reports),
            "money_fees": sum(r["fees"] for r in reports),
            "money_awarded": sum(earned.values()),
            "money_to_ancestors": to_ancestors,
            "money_escrow_left": sum(r["escrow_left"] for r in reports),
            "money_reputation_lines": self.money_reputation_lines,
            "builders_over_loners_money": stratified_ratio(strata, "builder", "loner"),
            "money_by_role": {r: sum(v) / len(v) / 100 for r, v in sorted(by_role.items())},
        }
