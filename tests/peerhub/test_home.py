"""The home page, the manifesto page and their figures at a community's size (issue 17): the
figures are counted once per change (peerhub.figures), the signatory list takes its total from
there, and every page runs the same queries whatever the number of members and signatures."""

import pytest
from django.db.models.signals import post_save
from django.urls import reverse

from challenges.models import Challenge
from peerhub import figures
from peerhub.models import User
from tests.factories import (
    ChallengeFactory,
    ManifestoSignatureFactory,
    ManifestoVersionFactory,
    UserFactory,
    make_solution,
)

pytestmark = pytest.mark.django_db


def shown(version=None) -> dict[str, int]:
    return dict(figures.site_figures(version=version))


def test_figures_count_members_signatories_challenges_and_solutions():
    version = ManifestoVersionFactory()
    ManifestoSignatureFactory.create_batch(2, version=version)
    make_solution(ChallengeFactory())
    ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    assert shown(version) == {
        "members": User.objects.filter(is_active=True).count(),
        "signed the manifesto": 2,
        "open challenges": 1,
        "published solutions": 1,
    }


def test_figures_are_counted_once_then_served_from_the_cache(django_assert_num_queries):
    version = ManifestoVersionFactory()
    shown(version)
    with django_assert_num_queries(0):
        shown(version)


@pytest.mark.parametrize(
    "change",
    [
        lambda version: UserFactory(),
        lambda version: ManifestoSignatureFactory(version=version),
        lambda version: ChallengeFactory(),
        lambda version: make_solution(),
        lambda version: User.objects.order_by("pk").last().delete(),
    ],
    ids=["member", "signature", "challenge", "solution", "member-deleted"],
)
def test_a_write_that_moves_a_figure_recounts_it(change, commit):
    version = ManifestoVersionFactory()
    make_solution(ChallengeFactory())
    UserFactory()
    before = shown(version)
    commit(change, version)
    after = shown(version)
    assert after != before
    assert after["members"] == User.objects.filter(is_active=True).count()


def test_a_challenge_closing_or_going_private_recounts_the_open_ones():
    challenge = ChallengeFactory()
    assert shown()["open challenges"] == 1
    challenge.status = Challenge.Status.CLOSED
    challenge.save(update_fields=["status"])
    assert shown()["open challenges"] == 0


def test_a_login_does_not_recount(client, django_assert_num_queries):
    member = UserFactory()
    shown()
    calls = []
    receiver = lambda **kwargs: calls.append(kwargs)  # noqa: E731
    post_save.connect(receiver, sender=User)
    try:
        member.save(update_fields=["last_login"])
    finally:
        post_save.disconnect(receiver, sender=User)
    assert calls, "the save happened"
    with django_assert_num_queries(0):
        shown()


def test_a_deactivated_member_leaves_the_figures():
    member = UserFactory()
    count = shown()["members"]
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert shown()["members"] == count - 1


@pytest.mark.parametrize("signed_in", [False, True])
def test_home_runs_the_same_queries_at_two_sizes(client, signed_in, django_assert_max_num_queries):
    version = ManifestoVersionFactory()
    viewer = UserFactory()
    if signed_in:
        client.force_login(viewer)
    ManifestoSignatureFactory(version=version)
    make_solution(ChallengeFactory())
    client.get(reverse("home"))  # figures counted once
    with django_assert_max_num_queries(12) as small:
        assert client.get(reverse("home")).status_code == 200
    budget = len(small)  # now: the next request clears the connection's query log
    for _ in range(15):
        ManifestoSignatureFactory(version=version)
        make_solution(ChallengeFactory())
    client.get(reverse("home"))
    with django_assert_max_num_queries(budget) as large:
        html = client.get(reverse("home")).content.decode()
    # Members see what to do next instead of the manifesto's front page (issue 18).
    assert ("Closing soon" if signed_in else "Recently signed") in html
    assert not [q for q in large.captured_queries if "COUNT(" in q["sql"].upper()]


def test_manifesto_page_counts_signatories_without_a_count_query(
    client, django_assert_max_num_queries, page_cache_off
):
    version = ManifestoVersionFactory()
    ManifestoSignatureFactory.create_batch(3, version=version)
    client.get(reverse("manifesto"))
    with django_assert_max_num_queries(12) as small:
        html = client.get(reverse("manifesto")).content.decode()
    budget = len(small)  # now: the next request clears the connection's query log
    assert '<span class="count">3</span>' in html
    ManifestoSignatureFactory.create_batch(60, version=version)
    client.get(reverse("manifesto"))
    with django_assert_max_num_queries(budget) as large:
        html = client.get(reverse("manifesto"), {"page": 2}).content.decode()
    assert '<span class="count">63</span>' in html and "Page 2 of 2" in html
    assert not [q for q in large.captured_queries if "COUNT(" in q["sql"].upper()]


def test_signing_shows_the_new_total_at_once(client, user):
    ManifestoVersionFactory()
    client.force_login(user)
    assert '<span class="count">0</span>' in client.get(reverse("manifesto")).content.decode()
    response = client.post(reverse("manifesto-sign"), HTTP_HX_REQUEST="true")
    assert '<span class="count">1</span>' in response.content.decode()
