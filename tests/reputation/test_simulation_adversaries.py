"""The simulation's adversaries (issue 23, first step): each agent behaves as specified on a
tiny seeded run, through the real services, and its figures are computed from what happened."""

import dataclasses
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils.html import conditional_escape, escape

from challenges.models import Solution
from marketplace.apps import MarketplaceConfig
from marketplace.models import Order, OrderReview
from reputation import simulation, simulation_report, trust
from reputation.management.commands.simulate import adversary_sizes
from reputation.models import ReputationEvent, Review, ReviewScore, Vote
from reputation.simulation_adversaries import COSMETIC_EDIT, DEFAULT_STRENGTH

pytestmark = pytest.mark.django_db(transaction=True)

# Busy, so that four days give every adversary something to act on; no prizes (not under test).
# A seed where each adversary finds its target (with issue 23's review queue, at seed 5 the ring
# posts nothing to be bribed for, and the bombed solution has no honest review before the bombs).
TINY = simulation.Config(
    members=120, challenges=2, days=4, seed=10, post_rate=0.15, vote_rate=0.3, prize_share=0.0
)
ALL = dataclasses.replace(TINY, **DEFAULT_STRENGTH)


def shown(result) -> dict[str, dict[str, tuple[str, bool]]]:
    """{adversary's name: {figure: (value, reached)}}, names without their note."""
    return {
        name.split(" (")[0]: {figure: (value, reached) for figure, value, _g, reached in figures}
        for name, figures in result.adversary_figures()
    }


def by_prefix(figures: dict, prefix: str) -> tuple[str, bool]:
    return next(v for k, v in figures.items() if k.startswith(prefix))


def test_without_flags_no_adversary_acts_or_is_reported():
    config = simulation.Config()
    assert (config.camouflage, config.sleepers, config.lineage_farmers, config.bribed_share,
            config.review_bombers, config.wash_traders) == (0, 0, 0, 0.0, 0, 0)  # fmt: skip
    result = simulation.Simulation(dataclasses.replace(TINY, days=1)).run()
    assert result.adversaries == [] and result.adversary_figures() == []
    assert "Adversaries" not in simulation_report.render(result)


def test_each_adversary_acts_as_specified_and_is_measured(monkeypatch):
    sim = simulation.Simulation(ALL)
    result = sim.run()
    ring = set(sim.ids("ring"))

    # Camouflage: ring members judged popular work by honest authors, some of it with a vote.
    assert sim.camouflage_votes
    assert all(sim.author[s] not in ring for _pk, s in sim.camouflage_votes)
    assert Vote.objects.filter(voter_id__in=ring).exclude(solution__author_id__in=ring).exists()

    # Sleepers: no vote among them before the day they wake, votes for each other after.
    sleepers = sim.ids("sleeper")
    wake = sim.clock.at.replace(hour=0, minute=0) - timedelta(days=ALL.days - sim.wake_day())
    among = Vote.objects.filter(voter_id__in=sleepers, solution__author_id__in=sleepers)
    assert not among.filter(created_at__lt=wake).exists()
    assert among.filter(created_at__gte=wake, value=Vote.UP).exists()

    # Lineage farming: the master posts like any member (one solution on the first day, so
    # the farm has one); each puppet forks one solution of the farm a day, his or, once it has
    # forked those, another puppet's fork of them, cosmetically edited (their hidden quality
    # their parent's; the cosmetic-copy rule still sees copies), upvoted by the other puppets.
    master = sim.ids("farm_master")[0]
    farmers = set(sim.ids("farmer"))
    first_day = [s for s, author in sim.author.items() if author == master and not sim.posted_on[s]]
    assert len(first_day) == 1
    forks = Solution.objects.filter(pk__in=sim.farm_forks).select_related(
        "parent", "current_revision"
    )
    assert len(forks) == len(farmers) * ALL.days
    for fork in forks:
        assert fork.author_id in farmers and fork.parent.author_id != fork.author_id
        assert fork.parent.author_id == master or fork.parent_id in sim.farm_forks
        assert master in fork.ancestor_author_ids
        assert fork.unchanged_fork  # a cosmetic edit leaves a copy (challenges.lineage)
        assert fork.current_revision.body.endswith(COSMETIC_EDIT.strip())
        assert sim.quality[fork.pk] == sim.quality[fork.parent_id]
    assert Vote.objects.filter(voter_id__in=farmers, solution__in=forks, value=Vote.UP).exists()

    # Bribery: bribed honest members upvoted the ring's work.
    assert sim.bribed and sim.bribe_votes
    assert all(sim.author[s] in ring for _pk, s in sim.bribe_votes)

    # Review bombing: every bomber gave the victim the lowest score on each criterion.
    assert sim.bomb_victim is not None
    bombs = Review.objects.filter(solution_id=sim.bomb_victim, reviewer_id__in=sim.bombers)
    assert bombs.count() == len(sim.bombers)
    assert set(ReviewScore.objects.filter(review__in=bombs).values_list("score", flat=True)) == {1}

    # Wash trading: completed, 5-star orders between the puppets, through the order services.
    traders = set(sim.ids("wash_trader"))
    orders = Order.objects.filter(buyer_id__in=traders)
    assert orders.exists()
    for order in orders:
        assert order.seller_id in traders and order.seller_id != order.buyer_id
        assert order.state == Order.State.COMPLETED
    assert set(OrderReview.objects.filter(order__in=orders).values_list("rating", flat=True)) == {5}

    # The figures come from the data.
    figures = shown(result)
    assert set(figures) == {"The run", "Camouflaged ring", "Sleepers", "Lineage farming",
                            "Bribery", "Review bombing", "Wash trading"}  # fmt: skip
    lineage = ReputationEvent.objects.filter(
        beneficiary_id=master,
        kind=ReputationEvent.Kind.LINEAGE_CREDIT,
        solution_id__in=sim.farm_forks,
    ).aggregate(s=Sum("amount"))["s"]
    assert figures["Lineage farming"]["Master's lineage credit from the farm"][0] == (
        f"{float(lineage or 0):,.0f} points"
    )
    from_farm = (
        ReputationEvent.objects.filter(beneficiary_id=master)
        .filter(Q(solution_id__in=sim.farm_forks) | Q(actor_id__in=farmers))
        .aggregate(s=Sum("amount"))["s"]
    )
    lift = by_prefix(figures["Lineage farming"], "Master's rank without what the farm gave him")
    assert f"{float(from_farm or 0):,.0f} points from the farm" in lift[0]
    lifted = figures["Lineage farming"]["Master lifted into the top 1 % by the farm"]
    assert lifted[1] == (lifted[0] == "no")
    wash = figures["Wash trading"]
    honest = Order.objects.filter(seller_id__in=sim.honest_offers, state=Order.State.COMPLETED)
    assert wash["Completed wash orders / honest orders beside them"][0] == (
        f"{orders.count()} / {honest.count()}"
    )
    caught = orders.filter(wash_suspected=True).count()
    assert by_prefix(wash, "Wash orders detected")[0].endswith(f"({caught} of {orders.count()})")
    low = trust.low_trust_ids()
    flagged = sum(1 for o in orders if o.buyer_id in low or o.seller_id in low)
    assert wash["Wash orders with a low-trust party"][0] == f"{flagged} of {orders.count()}"

    # Were the trust step to flag every wash trader, the figures would say so.
    monkeypatch.setattr(trust, "low_trust_ids", lambda *a, **k: low | traders)
    again = shown(sim._measure([1.0]))["Wash trading"]
    assert by_prefix(again, "The attackers flagged")[0] == f"{len(traders)} of {len(traders)}"

    # The directions on this fixed seed: no attacker reaches the top 1 %; the sleepers'
    # solutions gain no more than the goal's 10 % over their quality; the camouflaged and the
    # bribed ring's solutions gain less than 10 % more than honest ones of the same quality (3
    # members' solutions on 2 challenges over 4 days sit at +10.1 %, honest ones of their
    # quality at +5.9 %: too few to hold the goal itself, met at +0.4 to +1.0 % at its size);
    # the wash ring is caught, gains nothing an honest order would not and is counted as no
    # adoption. The farm and the bombing have their own test below.
    for name, group in figures.items():
        if name != "The run":
            top = [v for k, v in group.items() if k.startswith("Attackers in the top 1 %")]
            assert all(reached for _value, reached in top), (name, top)
    assert by_prefix(figures["Sleepers"], "Attackers' solutions: rank percentile")[1]
    for name in ("Camouflaged ring", "Bribery"):
        compared = by_prefix(figures[name], "Honest solutions of the same hidden quality")[0]
        own_gain = float(compared.split("(")[1].rstrip("%)"))  # "+5.9% (+4.2%)"
        assert own_gain < 10, (name, compared)
    for goal in (
        "Wash orders detected",
        "Honest orders wrongly suspected",
        "Reputation a detected wash order gives",
        "Adoption: completed orders counted",
    ):
        assert by_prefix(wash, goal)[1], (goal, by_prefix(wash, goal))

    page = simulation_report.render(result)
    assert "<h2>Adversaries</h2>" in page and "Lineage farming" in page


def test_the_public_page_quotes_each_adversarys_latest_figures(
    client, settings, tmp_path, page_cache_off
):
    settings.PEERHUB_SIMULATION_REPORT_DIR = tmp_path
    result = simulation.Simulation(dataclasses.replace(ALL, days=2)).run()
    simulation_report.write(result)
    page = client.get(reverse("reputation:how-it-works")).content.decode()
    assert "Against attackers who know these rules" in page
    for name, figures in result.adversary_figures():
        assert f"<caption>{escape(name)}</caption>" in page
        for row in simulation_report.figure_rows(figures):
            assert f"<td>{escape(row.name)}</td><td>{conditional_escape(row.value)}</td>" in page
    # A summary stored before the adversaries were kept shows the run's table alone.
    stored = simulation_report.latest_summary()
    del stored["adversaries"]
    simulation_report.figures_path().write_text(json.dumps(stored), encoding="utf-8")
    page = client.get(reverse("reputation:how-it-works")).content.decode()
    assert "Kendall" in page and "Against attackers" not in page


def test_wash_trading_is_skipped_without_the_marketplace(monkeypatch):
    monkeypatch.delattr(MarketplaceConfig, "simulation_wash_offer")
    monkeypatch.delattr(MarketplaceConfig, "simulation_wash_trade")
    sim = simulation.Simulation(dataclasses.replace(TINY, days=1, wash_traders=3))
    result = sim.run()
    assert not Order.objects.filter(buyer_id__in=sim.ids("wash_trader")).exists()
    figures = shown(result)["Wash trading"]
    assert figures["Wash trading"] == ("skipped: no marketplace answered its hooks", True)
    assert "skipped" in simulation_report.render(result)


def test_the_flags_size_each_adversary_and_all_switches_the_others_on():
    assert adversary_sizes({"adversaries": "none"}) == dict.fromkeys(DEFAULT_STRENGTH, 0)
    assert adversary_sizes({"adversaries": "all"}) == DEFAULT_STRENGTH
    sized = adversary_sizes({"adversaries": "all", "sleepers": 0, "wash_traders": 9})
    assert sized == {**DEFAULT_STRENGTH, "sleepers": 0, "wash_traders": 9}
    assert adversary_sizes({"camouflage": 2})["camouflage"] == 2
    with pytest.raises(CommandError, match="bribed-share"):
        call_command("simulate", "--members", "60", "--bribed-share", "1.5", "--i-know")
    with pytest.raises(CommandError, match="sleepers"):
        call_command("simulate", "--members", "60", "--sleepers", "-1", "--i-know")


def test_lineage_farming_and_review_bombing_do_not_pay_on_a_fixed_seed():
    """The directions of issue 23's rules: the farm harvests less than a tenth of what honest
    building of equal effort earns, and the bombed solution stays within 3 ranks. Two of the
    three veterans bomb, late enough that the third has reviewed the victim before: a
    solution's first reviews always count (reputation.outliers)."""
    config = dataclasses.replace(TINY, lineage_farmers=4, review_bombers=2, bomb_start=0.75)
    sim = simulation.Simulation(config)
    figures = shown(sim.run())
    harvest = by_prefix(figures["Lineage farming"], "Farm's harvest")
    assert harvest[1], harvest
    lifted = figures["Lineage farming"]["Master lifted into the top 1 % by the farm"]
    assert lifted == ("no", True), lifted
    rank = by_prefix(figures["Review bombing"], "Bombed solution's rank vs its rank without")
    assert rank[1], rank
    # The rank without the bombing was measured in a transaction rolled back: the bombing
    # stays on record.
    bombs = Review.objects.filter(solution_id=sim.bomb_victim, reviewer_id__in=sim.bombers)
    assert bombs.filter(outlier=True).count() == bombs.count() > 0
    assert Vote.objects.filter(solution_id=sim.bomb_victim, voter_id__in=sim.bombers).exists()
