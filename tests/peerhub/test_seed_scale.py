"""The scale dataset (marketplace.scale, `seed_scale`): a small seed satisfies the rules and the
books balance, sizes follow N, the same seed gives the same data, and only scratch databases
are seeded."""

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import F, Sum

from challenges.models import Challenge, Comment, Revision, Solution
from marketplace import ledger
from marketplace.models import LedgerEntry, Offer, Order
from marketplace.scale import Seeder, expected_counts
from marketplace.services.tallies import offer_tallies_expressions
from peerhub.models import User
from peerhub.scratch import is_scratch
from reputation.models import ReputationScore, Review, Vote

pytestmark = pytest.mark.django_db


def seed(members: int, **options) -> str:
    out = io.StringIO()
    call_command("seed_scale", members=members, i_know=True, stdout=out, **options)
    return out.getvalue()


def test_scratch_names():
    assert is_scratch("peerhub_scratch_10k") and is_scratch("/tmp/peerhub_sim.sqlite3")
    assert not is_scratch("peerhub") and not is_scratch("peerhub_production")


def test_the_command_refuses_a_database_not_named_as_scratch():
    with pytest.raises(CommandError, match="Refusing"):
        call_command("seed_scale", members=20, stdout=io.StringIO())
    assert not User.objects.exists()


def test_a_small_seed_keeps_every_rule_and_balances_the_books():
    output = seed(40)
    assert "recompute_reputation" in output and "compute_trust" in output
    assert ledger.audit() == []
    per_currency = LedgerEntry.objects.values("account__currency").annotate(total=Sum("amount"))
    assert per_currency and all(row["total"] == 0 for row in per_currency)
    assert not Vote.objects.filter(voter=F("solution__author")).exists()
    assert not Review.objects.filter(reviewer=F("solution__author")).exists()
    assert not Order.objects.filter(buyer=F("seller")).exists()
    solutions = {s.pk: s for s in Solution.objects.all()}
    children = Counter(s.parent_id for s in solutions.values() if s.parent_id)
    for s in solutions.values():
        ancestors = [solutions[pk] for pk in s.ancestor_ids]
        assert s.root_id == (ancestors[0].pk if ancestors else s.pk)
        assert s.generation == len(ancestors) and s.fork_count == children[s.pk]
        assert s.descendant_count == sum(1 for o in solutions.values() if f"/{s.pk}/" in o.path) - 1
        assert s.comment_count == Comment.objects.filter(solution=s).count()
        if s.parent_id:
            assert s.created_at >= solutions[s.parent_id].created_at
            assert s.author_id != solutions[s.parent_id].author_id
            lineage_authors = {a.author_id for a in ancestors}
            assert not Vote.objects.filter(solution=s, voter__in=lineage_authors).exists()
    for challenge in Challenge.objects.all():
        assert challenge.solution_count == challenge.solutions.count()
        assert challenge.comment_count == challenge.comments.count()
    tallies = offer_tallies_expressions()
    # What the services derive at write time: each reply's thread, the rendered Markdown, the
    # offers' tallies (the discussion and the marketplace list read them).
    assert not Comment.objects.filter(parent__isnull=False, thread__isnull=True).exists()
    assert not Comment.objects.exclude(body="").filter(body_html="").exists()
    assert not Revision.objects.exclude(body="").filter(body_html="").exists()
    counted = Offer.objects.annotate(**{f"true_{k}": v for k, v in tallies.items()})
    for offer in counted:
        for name in tallies:
            assert getattr(offer, name) == getattr(offer, f"true_{name}"), name
    assert ReputationScore.objects.filter(user__username="bench").exists()
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="bench").check_password("peerhub-scale")


@pytest.mark.parametrize("members", [40, 160])
def test_sizes_follow_the_number_of_members(members):
    Seeder(members, seed=3, log=lambda line: None).run()
    expected = expected_counts(members)
    assert User.objects.count() == members
    assert Challenge.objects.count() == expected["challenges"]
    assert Solution.objects.count() == expected["solutions"]
    # The generator drops the few pairs the rules refuse (own work, lineage, repeats).
    assert 0.8 * expected["votes"] <= Vote.objects.count() <= expected["votes"]
    assert 0.8 * expected["reviews"] <= Review.objects.count() <= expected["reviews"]
    assert Comment.objects.count() == expected["comments"]
    assert Order.objects.count() == expected["orders"]


def _fingerprint() -> tuple:
    return (
        list(User.objects.order_by("pk").values_list("username", "display_name")),
        list(Solution.objects.order_by("pk").values_list("author__username", "parent", "path")),
        list(Vote.objects.order_by("pk").values_list("solution", "voter__username", "value")),
        list(Comment.objects.order_by("pk").values_list("author__username", "parent", "body")),
        list(Order.objects.order_by("pk").values_list("buyer__username", "price", "state")),
    )


def test_the_same_seed_gives_the_same_community():
    prints = []
    for seed_value in (7, 7, 8):
        with transaction.atomic():
            Seeder(30, seed=seed_value, log=lambda line: None).run()
            prints.append(_fingerprint())
            transaction.set_rollback(True)
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]
