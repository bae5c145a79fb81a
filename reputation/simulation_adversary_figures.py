"""The adversaries' figures in the community simulation (issue 23): for each adversary switched
on, what it was worth to the attackers, what it cost honest members and which existing rule
caught it, computed from the run's data (reputation.simulation_adversaries says what each
adversary does)."""

import math
from dataclasses import dataclass, field
from decimal import Decimal
from unittest import mock

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext_noop

from . import fitness, outliers, trust
from .models import ReputationEvent, Review, SolutionScore, Vote
from .simulation_text import (
    Figure,
    Number,
    Text,
    at_most_percent,
    number,
    of,
    points,
    points_each,
    share_of,
    shown_or_too_few,
    text,
)

# Which members a figure of `_caught_figures` is about, and its three names for them.
CAUGHT = {
    "attackers": (
        gettext_noop("The attackers flagged low-trust"),
        gettext_noop(
            "The attackers found in a voting ring (upvotes on their work earn them nothing)"
        ),
        gettext_noop(
            "The attackers found backing a voting ring (their judgements of its work do not "
            "rank it)"
        ),
    ),
    "bribed members": (
        gettext_noop("The bribed members flagged low-trust"),
        gettext_noop(
            "The bribed members found in a voting ring (upvotes on their work earn them nothing)"
        ),
        gettext_noop(
            "The bribed members found backing a voting ring (their judgements of its work do not "
            "rank it)"
        ),
    ),
    "bombers": (
        gettext_noop("The bombers flagged low-trust"),
        gettext_noop(
            "The bombers found in a voting ring (upvotes on their work earn them nothing)"
        ),
        gettext_noop(
            "The bombers found backing a voting ring (their judgements of its work do not rank it)"
        ),
    ),
}


@dataclass
class AdversaryReport:
    """One adversary's figures, as Result.figure_texts()."""

    name: Text
    figures: list[Figure] = field(default_factory=list)
    note: Text | None = None

    def caption(self) -> Text:
        """Its name, and its note in brackets."""
        if self.note is None:
            return self.name
        return text(gettext_noop("{name} ({note})"), name=self.name, note=self.note)


class AdversaryFigures:
    """Mixed into the simulation (through AdversaryAgents): the measuring half."""

    def _measure_adversaries(self, *, totals: dict, ranking: list[int], low: set[int]) -> list:
        c = self.config
        self.rank_of_member = {pk: k for k, pk in enumerate(ranking, start=1)}
        self.top_1pct = set(ranking[: max(1, math.ceil(len(ranking) / 100))])
        self.member_totals = totals
        reports = []
        ring = self.ids("ring")
        if c.camouflage:
            camo = AdversaryReport(text(gettext_noop("Camouflaged ring")))
            camo.figures += self._gain_figures(ring, self._solutions_by(ring))
            camo.figures.append(
                Figure(text(gettext_noop("Camouflage votes on popular honest work")),
                       number(len(self.camouflage_votes)), None, True)
            )  # fmt: skip
            camo.figures += self._caught_figures(
                Vote.objects.filter(voter_id__in=ring, solution__author_id__in=ring), ring, low
            )
            reports.append(camo)
        sleepers = self.ids("sleeper")
        if sleepers:
            sleep = AdversaryReport(
                text(gettext_noop("Sleepers")),
                note=text(
                    gettext_noop("honest until day {day}, then colluding"), day=self.wake_day() + 1
                ),
            )
            levels = list(self.sleeper_level_at_wake.values())
            sleep.figures += self._gain_figures(sleepers, self._solutions_by(sleepers))
            sleep.figures.append(
                Figure(text(gettext_noop("Sleepers' mean trust level when they woke")),
                       number(sum(levels) / len(levels), ".1f") if levels
                       else text(gettext_noop("never woke")), None, True)
            )  # fmt: skip
            sleep.figures += self._caught_figures(
                Vote.objects.filter(voter_id__in=sleepers, solution__author_id__in=sleepers),
                sleepers,
                low,
            )
            reports.append(sleep)
        farmers = self.ids("farmer")
        if farmers:
            reports.append(self._farm_report(farmers, low))
        if self.bribed:
            bribe = AdversaryReport(
                text(gettext_noop("Bribery")),
                note=Text.ngettext(
                    "{count} honest member bribed to back the ring",
                    "{count} honest members bribed to back the ring",
                    count=len(self.bribed),
                ),
            )
            gained = ReputationEvent.objects.filter(
                beneficiary_id__in=ring, actor_id__in=self.bribed
            )
            bribe.figures += self._gain_figures(ring, self._solutions_by(ring))
            bribe.figures.append(
                Figure(
                    text(gettext_noop("Ring's reputation from bribed members")),
                    points(_sum(gained)),
                    None,
                    True,
                )
            )
            bribe.figures += self._caught_figures(
                Vote.objects.filter(voter_id__in=self.bribed, solution__author_id__in=ring),
                self.bribed,
                low,
                who="bribed members",
            )
            reports.append(bribe)
        if self.bombers:
            reports.append(self._bomb_report(low))
        if c.wash_traders:
            reports.append(self._wash_report(low))
        return reports

    def _rank_gains(self) -> dict[int, float]:
        """Every ranked solution's rank percentile minus its hidden-quality percentile, each
        among its challenge's ranked solutions (1 is the top): what the ranking gives it beyond
        its quality."""
        if getattr(self, "_gains", None) is None:
            self._gains = {}
            for challenge in self.challenges:
                ranked = [s for s in self.ranked.get(challenge.pk, []) if s in self.quality]
                if len(ranked) < 2:
                    continue
                by_quality = sorted(ranked, key=lambda s: (-self.quality[s], s))
                place = {s: k for k, s in enumerate(by_quality)}
                last = len(ranked) - 1
                for k, s in enumerate(ranked):
                    self._gains[s] = (place[s] - k) / last
        return self._gains

    def _percentiles(self, solution_ids) -> float:
        """The mean rank gain (`_rank_gains`) of those of these solutions that are ranked; NaN
        when none is."""
        gains = self._rank_gains()
        found = [gains[s] for s in solution_ids if s in gains]
        return sum(found) / len(found) if found else math.nan

    def _honest_percentiles(self, solution_ids) -> float:
        """What honest solutions of the same hidden quality gain, for comparison: for each of
        these ranked solutions, the mean gain of the honest members' ranked solutions in its
        band of quality (twentieths), averaged. A ranking errs most at the ends of the scale (a
        solution at the bottom by quality can only be ranked above its place), so a group of
        poor solutions gains rank percentile without any attack; the difference is the
        attack's. NaN when no honest solution shares a band."""
        gains = self._rank_gains()
        dishonest = self.attackers() | set(self.ids("ring"))
        dishonest |= set(self.ids("puppet")) | set(self.ids("puppet_master"))
        bands: dict[int, list[float]] = {}
        for s, gain in gains.items():
            if self.author.get(s) not in dishonest:
                bands.setdefault(self._band(s), []).append(gain)
        expected = [
            sum(bands[self._band(s)]) / len(bands[self._band(s)])
            for s in solution_ids
            if s in gains and bands.get(self._band(s))
        ]
        return sum(expected) / len(expected) if expected else math.nan

    def _band(self, solution_id: int) -> int:
        return min(19, int(self.quality[solution_id] * 20))

    def _gain_figures(self, members, solution_ids) -> list:
        members = list(members)
        in_top = [pk for pk in members if pk in self.top_1pct]
        best = min((self.rank_of_member.get(pk, len(self.role)) for pk in members), default=0)
        gain = self._percentiles(solution_ids)
        honest = self._honest_percentiles(solution_ids)
        return [
            Figure(text(gettext_noop("Attackers in the top 1 % by reputation (best rank {best} of "
                                     "{total})"), best=best, total=len(self.role)),
                   of(len(in_top), len(members)), number(0), not in_top),
            Figure(text(gettext_noop("Attackers' solutions: rank percentile over hidden quality")),
                   text(gettext_noop("none ranked")) if math.isnan(gain)
                   else number(gain, "+.1%"), at_most_percent(10),
                   math.isnan(gain) or gain <= 0.10),
            Figure(text(gettext_noop("Honest solutions of the same hidden quality, for comparison "
                                     "(the attack's own gain)")),
                   text(gettext_noop("none comparable")) if math.isnan(gain) or math.isnan(honest)
                   else text(gettext_noop("{honest} ({own})"), honest=Number(honest, "+.1%"),
                             own=Number(gain - honest, "+.1%")), None, True),
        ]  # fmt: skip

    def _caught_figures(self, votes, members, low: set[int], *, who: str = "attackers") -> list:
        """Which existing rule caught it: the attack's votes reversed as serial voting, or cast
        by members the trust step judged low-trust; and those members flagged low-trust, found
        in a voting ring (reputation.trust.voting_ring) or found backing one
        (reputation.trust.ring_backers)."""
        rows = list(votes.values_list("voter_id", "serial_reversed_at"))
        serial = sum(1 for _voter, reversed_at in rows if reversed_at is not None)
        low_votes = sum(1 for voter, _at in rows if voter in low)
        flagged = len(set(members) & low)
        if not hasattr(self, "_in_ring"):
            self._in_ring = trust.voting_ring_ids()
            self._backing = trust.ring_backer_ids()
        ringed = len(set(members) & self._in_ring)
        backing = len(set(members) & self._backing)
        flagged_name, ringed_name, backing_name = CAUGHT[who]
        return [
            Figure(text(gettext_noop("Attack votes reversed as serial / cast by low-trust "
                                     "members")),
                   text(gettext_noop("{serial} / {low} of {total}"), serial=serial, low=low_votes,
                        total=len(rows)), None, True),
            Figure(text(flagged_name), of(flagged, len(members)), None, True),
            Figure(text(ringed_name), of(ringed, len(members)), None, True),
            Figure(text(backing_name), of(backing, len(members)), None, True),
        ]  # fmt: skip

    def _farm_report(self, farmers, low: set[int]) -> AdversaryReport:
        from challenges.models import Solution

        masters = self.ids("farm_master")
        group = set(masters) | set(farmers)
        farm = AdversaryReport(
            text(gettext_noop("Lineage farming")),
            note=text(
                gettext_noop("{puppets}, {forks}"),
                puppets=_puppets(len(farmers)),
                forks=Text.ngettext("{count} fork", "{count} forks", count=len(self.farm_forks)),
            ),
        )
        forks = Solution.objects.filter(pk__in=self.farm_forks)
        unchanged = forks.filter(unchanged_fork=True).count()
        events = ReputationEvent.objects.filter(beneficiary_id__in=group)
        harvest = _sum(events.filter(solution_id__in=self.farm_forks)) + _sum(
            events.filter(beneficiary_id__in=masters, actor_id__in=farmers).exclude(
                solution_id__in=self.farm_forks
            )
        )
        lineage = _sum(
            events.filter(
                beneficiary_id__in=masters,
                kind=ReputationEvent.Kind.LINEAGE_CREDIT,
                solution_id__in=self.farm_forks,
            )
        )
        # Honest building: what each honest improved fork earned, its author and its ancestors.
        honest_forks = [
            f for f in self.improved_forks if self.role.get(self.author.get(f)) == "builder"
        ]
        per_fork = (
            _sum(ReputationEvent.objects.filter(solution_id__in=honest_forks)) / len(honest_forks)
            if honest_forks
            else Decimal(0)
        )
        equal_effort = per_fork * len(self.farm_forks)
        share = float(harvest / equal_effort) if equal_effort > 0 else math.nan
        farm.figures += self._gain_figures(group, self._solutions_by(group))
        farm.figures += self._master_lift_figures(masters, farmers, events)
        farm.figures += [
            Figure(text(gettext_noop("Master's lineage credit from the farm")), points(lineage),
                   None, True),
            Figure(text(gettext_noop("Farm's harvest / honest building of equal effort")),
                   shown_or_too_few(share, text(gettext_noop("{share} ({harvest} vs {effort})"),
                                                share=Number(share, ".1%"),
                                                harvest=points(harvest),
                                                effort=points(equal_effort))),
                   at_most_percent(10), not math.isnan(share) and share <= 0.10),
            Figure(text(gettext_noop("Farm forks still judged unchanged forks")),
                   of(unchanged, len(self.farm_forks)), None, True),
        ]  # fmt: skip
        farm.figures += self._caught_figures(
            Vote.objects.filter(voter_id__in=farmers, solution_id__in=self.farm_forks),
            sorted(group),
            low,
        )
        return farm

    def _master_lift_figures(self, masters, farmers, events) -> list:
        """Whether the farm is what lifts its master: his rank once what the farm gave him (the
        lines of the farm's forks, and every line a puppet's act gave him) is taken away, against
        the top 1 %. A master who ranks there without it got there by his own posts, which honest
        members judged."""
        figures = []
        top = len(self.top_1pct)
        for master in masters:
            from_farm = _sum(
                events.filter(beneficiary_id=master).filter(
                    Q(solution_id__in=self.farm_forks) | Q(actor_id__in=farmers)
                )
            )
            total = Decimal(self.member_totals.get(master, 1))
            without = total - from_farm
            rank = 1 + sum(
                1
                for pk in self.role
                if pk != master and Decimal(self.member_totals.get(pk, 1)) > without
            )
            lifted = master in self.top_1pct and rank > top
            figures += [
                Figure(text(gettext_noop("Master's rank without what the farm gave him (top 1 %: "
                                         "rank ≤ {top})"), top=top),
                       text(gettext_noop("{rank} (reputation {total}, {from_farm} from the farm; "
                                         "rank {rank_with} with it)"),
                            rank=rank, total=points(total), from_farm=points(from_farm),
                            rank_with=self.rank_of_member.get(master, len(self.role))),
                       None, True),
                Figure(text(gettext_noop("Master lifted into the top 1 % by the farm")),
                       text(gettext_noop("yes")) if lifted else text(gettext_noop("no")),
                       text(gettext_noop("no")), not lifted),
            ]  # fmt: skip
        return figures

    def _bomb_report(self, low: set[int]) -> AdversaryReport:
        bomb = AdversaryReport(
            text(gettext_noop("Review bombing")),
            note=Text.ngettext(
                "{count} established reviewer",
                "{count} established reviewers",
                count=len(self.bombers),
            ),
        )
        victim = self.bomb_victim
        if victim is None:
            bomb.figures.append(
                Figure(
                    text(gettext_noop("Bombed solution")),
                    text(gettext_noop("no victim (nothing ranked)")),
                    None,
                    True,
                )
            )
            return bomb
        challenge_id = self.solution_rows[victim].challenge_id
        ranked = [s for s in self.ranked.get(challenge_id, []) if s in self.quality]
        by_quality = sorted(ranked, key=lambda s: (-self.quality[s], s))
        final, unbombed, ranks = self._bombed_ranks(challenge_id)
        fair = by_quality.index(victim) + 1 if victim in by_quality else None
        shift = None if final is None or unbombed is None else final - unbombed
        bomb.figures.append(
            Figure(text(gettext_noop("Bombed solution's rank vs its rank without the bombing (of "
                                     "{count})"), count=ranks),
                   text(gettext_noop("unranked")) if shift is None else
                   text(gettext_noop("{final} vs {unbombed} (rank {before} on day {day}; {fair} by "
                                     "hidden quality)"),
                        final=final, unbombed=unbombed, before=self.bomb_victim_rank_before,
                        day=self.bomb_day + 1, fair=fair or "-"),
                   text(gettext_noop("within {count}"), count=3),
                   shift is not None and abs(shift) <= 3)
        )  # fmt: skip
        reviews = Review.objects.filter(solution_id=victim, reviewer_id__in=self.bombers)
        low_reviews = sum(1 for r in reviews.values_list("reviewer_id", flat=True) if r in low)
        bomb.figures.append(
            Figure(text(gettext_noop("Bombing reviews / from low-trust reviewers")),
                   _pair(reviews.count(), low_reviews), None, True)
        )  # fmt: skip
        bomb.figures.append(
            Figure(text(gettext_noop("Bombing reviews set aside as outliers (far from the earlier "
                                     "reviews or votes)")),
                   of(reviews.filter(outlier=True).count(), reviews.count()), None, True)
        )  # fmt: skip
        bomb.figures += self._caught_figures(
            Vote.objects.filter(voter_id__in=self.bombers, solution_id=victim),
            self.bombers,
            low,
            who="bombers",
        )
        return bomb

    def _bombed_ranks(self, challenge_id: int) -> tuple[int | None, int | None, int]:
        """The victim's rank among its challenge's ranked solutions, and its rank had the
        bombers not judged it: the challenge ranked again (on the run's last clock) with and
        then without the bombers' reviews and votes on it, the reviews' verdicts refreshed,
        in a transaction rolled back. Both rankings come from one recompute each, so the two
        ranks differ by the bombing alone."""
        victim = self.bomb_victim

        def rank() -> tuple[int | None, int]:
            ranked = [
                s
                for s in SolutionScore.objects.filter(challenge_id=challenge_id, rank__isnull=False)
                .order_by("rank")
                .values_list("solution_id", flat=True)
                if s in self.quality
            ]
            return (ranked.index(victim) + 1 if victim in ranked else None), len(ranked)

        with mock.patch("django.utils.timezone.now", self.clock.now), transaction.atomic():
            fitness.recompute_challenge(challenge_id)
            final, of = rank()
            Review.objects.filter(solution_id=victim, reviewer_id__in=self.bombers).delete()
            Vote.objects.filter(solution_id=victim, voter_id__in=self.bombers).delete()
            outliers.reviews_mark_outliers([victim])
            fitness.recompute_challenge(challenge_id)
            unbombed, _of = rank()
            transaction.set_rollback(True)
        return final, unbombed, of

    def _wash_report(self, low: set[int]) -> AdversaryReport:
        traders = self.ids("wash_trader")
        name = text(gettext_noop("Wash trading"))
        if self.wash_skipped or not traders:
            wash = AdversaryReport(name, note=text(gettext_noop("skipped")))
            wash.figures.append(
                Figure(name, text(gettext_noop("skipped: no marketplace answered its hooks")),
                       None, True)
            )  # fmt: skip
            return wash
        note = _puppets(len(traders))
        if self.config.wash_loop:
            note = text(gettext_noop("{puppets}, paying only round the loop"), puppets=note)
        wash = AdversaryReport(name, note=note)
        from peerhub.hooks import collect

        completed = [o for o in self.wash_orders if o["state"] == "completed"]
        honest = [o for o in self.honest_orders if o["state"] == "completed"]
        judged: dict[int, dict] = {}
        for answer in collect(
            "simulation_orders_judged", order_ids=[o["order"] for o in completed + honest]
        ):
            judged.update(answer)
        caught = [o for o in completed if judged.get(o["order"], {}).get("suspected")]
        false_alarms = [o for o in honest if judged.get(o["order"], {}).get("suspected")]
        low_party = sum(1 for o in completed if o["buyer"] in low or o["seller"] in low)
        fees = sum(o["fee"] for o in completed)
        gained = _sum(
            ReputationEvent.objects.filter(
                beneficiary_id__in=traders, kind=ReputationEvent.Kind.ORDER_REVIEWED
            )
        )

        def per_order(orders) -> float:
            points = [float(judged.get(o["order"], {}).get("reputation", 0)) for o in orders]
            return sum(points) / len(points) if points else math.nan

        caught_each, honest_each = per_order(caught), per_order(honest)
        # Adoption: the completed orders the rankings count for the traders' solutions, against
        # the wash orders the rule let through (a detected one must add none).
        counted = 0
        for components in SolutionScore.objects.filter(
            solution_id__in=list(self.wash_solutions.values())
        ).values_list("components", flat=True):
            part = (components or {}).get("adoption")
            counted += int(part.get("orders", 0)) if isinstance(part, dict) else 0
        let_through = len(completed) - len(caught)
        rate = len(caught) / len(completed) if completed else math.nan
        false_rate = len(false_alarms) / len(honest) if honest else math.nan
        reputation_ok = math.isnan(caught_each) or (
            not math.isnan(honest_each) and caught_each <= honest_each
        )
        wash.figures += self._gain_figures(traders, list(self.wash_solutions.values()))
        none_completed = text(gettext_noop("none completed"))
        wash.figures += [
            Figure(text(gettext_noop("Completed wash orders / honest orders beside them")),
                   _pair(len(completed), len(honest)), None, True),
            Figure(text(gettext_noop("Wash orders detected (suspected wash trades)")),
                   none_completed if math.isnan(rate)
                   else share_of(rate, ".0%", len(caught), len(completed)),
                   text(gettext_noop("≥ {percent} %"), percent=90),
                   not math.isnan(rate) and rate >= 0.9),
            Figure(text(gettext_noop("Honest orders wrongly suspected")),
                   none_completed if math.isnan(false_rate)
                   else share_of(false_rate, ".1%", len(false_alarms), len(honest)),
                   at_most_percent(1), math.isnan(false_rate) or false_rate <= 0.01),
            Figure(text(gettext_noop("Reputation a detected wash order gives / an honest order of "
                                     "the same price")),
                   _pair(points_each(caught_each), points_each(honest_each)),
                   text(gettext_noop("≤ honest")), reputation_ok),
            Figure(text(gettext_noop("Adoption: completed orders counted for the traders' "
                                     "solutions")),
                   text(gettext_noop("{count} (wash orders not detected: {missed})"),
                        count=counted, missed=let_through),
                   text(gettext_noop("≤ {count}"), count=let_through), counted <= let_through),
            Figure(text(gettext_noop("Reputation from wash orders in all")), points(gained), None,
                   True),
            Figure(text(gettext_noop("Money the trades cost the ring (fees)")),
                   number(fees / 100, ",.2f"), None, True),
            Figure(text(gettext_noop("Wash orders with a low-trust party")),
                   of(low_party, len(completed)), None, True),
            Figure(text(CAUGHT["attackers"][0]), of(len(set(traders) & low), len(traders)), None,
                   True),
        ]  # fmt: skip
        return wash


def _sum(events) -> Decimal:
    return events.aggregate(s=Sum("amount"))["s"] or Decimal(0)


def _pair(first, second) -> Text:
    """Two figures side by side: "12 / 40"."""
    return text(gettext_noop("{first} / {second}"), first=first, second=second)


def _puppets(count: int) -> Text:
    return Text.ngettext("{count} puppet", "{count} puppets", count=count)
