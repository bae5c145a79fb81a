"""The rank-gain figures of the simulation's adversaries (issue 23): an attacker's solutions
gain over their hidden quality, and what honest solutions of the same quality gain beside them,
so that the report can tell the attack's own gain from the ranking's error at the bottom of the
scale."""

import math
from types import SimpleNamespace

import pytest

from reputation.simulation_adversary_figures import AdversaryFigures
from reputation.simulation_text import english


class Run(AdversaryFigures):
    """Only what the rank-gain figures read: challenges, their ranking, hidden qualities,
    authors and roles."""

    def __init__(self, ranked: list[int], quality: dict[int, float], author: dict[int, int]):
        self.challenges = [SimpleNamespace(pk=1)]
        self.ranked = {1: ranked}
        self.quality = quality
        self.author = author
        self.roles = {"ring": [666]}
        self.rank_of_member, self.top_1pct = {}, set()
        self.role = {pk: "ring" if pk == 666 else "builder" for pk in author.values()}

    def ids(self, role):
        return self.roles.get(role, [])

    def attackers(self):
        return set()


def test_gains_compare_rank_with_quality_and_honest_solutions_of_the_same_quality():
    # Quality order: 1 > 2 > 3 > 4 > 5. Ranked 1, 3, 2, 5, 4: the ring's solution 5 is one place
    # above its quality (+1/4), and so is the honest 3 (also +1/4), while 2 and 4 lose a place.
    quality = {1: 0.9, 2: 0.7, 3: 0.6, 4: 0.32, 5: 0.31}
    author = {1: 10, 2: 11, 3: 12, 4: 13, 5: 666}
    run = Run([1, 3, 2, 5, 4], quality, author)
    assert run._rank_gains() == {1: 0.0, 3: 0.25, 2: -0.25, 5: 0.25, 4: -0.25}
    assert run._percentiles([5]) == 0.25
    # Honest 4 is in the ring's solution's band of quality (0.30-0.35) and lost a place.
    assert run._honest_percentiles([5]) == -0.25
    fig = english(run._gain_figures([666], [5]))[-1]
    assert fig[1] == "-25.0% (+50.0%)"


def test_without_an_honest_solution_of_the_same_quality_nothing_is_compared():
    run = Run([2, 1], {1: 0.9, 2: 0.1}, {1: 10, 2: 666})
    assert run._percentiles([2]) == 1.0
    assert math.isnan(run._honest_percentiles([2]))
    assert english(run._gain_figures([666], [2]))[-1][1] == "none comparable"


@pytest.mark.parametrize("quality, band", [(0.0, 0), (0.049, 0), (0.05, 1), (0.99, 19), (1.0, 19)])
def test_bands_are_twentieths_of_the_scale(quality, band):
    run = Run([1], {1: quality}, {1: 10})
    assert run._band(1) == band
