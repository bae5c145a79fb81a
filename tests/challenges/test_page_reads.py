"""What the challenge and solution pages read in one statement (issue 17): the challenge with its
short lists, the solution with its challenge's organisers and vote tally. Nothing read that way
may be stale or shown to someone who may not see it."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.urls import reverse

from challenges import permissions, selectors
from challenges.models import Challenge
from reputation.services import vote_cast
from tests.factories import (
    ChallengeFactory,
    UserFactory,
    ValueFactory,
    make_fork,
    make_organiser,
    make_solution,
)

pytestmark = pytest.mark.django_db


def test_a_challenge_and_its_lists_are_one_query(django_assert_num_queries):
    organisers = [make_organiser(username="zed"), make_organiser(username="amy")]
    challenge = ChallengeFactory(organisers=organisers, criteria=["Works", "Cheap", "Open"])
    challenge.values.set(
        [ValueFactory(name="Care", position=2), ValueFactory(name="Open", position=1)]
    )
    challenge.tags.create(slug="water", name="water")
    challenge.tags.create(slug="energy", name="energy")
    with django_assert_num_queries(1):
        got = selectors.challenge_get(user=AnonymousUser(), slug=challenge.slug)
        criteria = [c.name for c in got.criteria.all()]
        values = [v.name for v in got.values.all()]
        tags = [t.name for t in got.tags.all()]
        names = [o.username for o in got.organisers.all()]
        assert list(got.invited.all()) == []
    assert criteria == ["Works", "Cheap", "Open"]
    assert values == ["Open", "Care"]
    assert tags == ["energy", "water"]
    assert names == ["amy", "zed"]


def test_a_private_challenge_is_read_for_its_invited_members_only():
    organiser = make_organiser()
    challenge = ChallengeFactory(
        organisers=[organiser], visibility=Challenge.Visibility.PRIVATE, created_by=organiser
    )
    guest, stranger = UserFactory(), UserFactory()
    challenge.invited.add(guest)
    got = selectors.challenge_get(user=guest, slug=challenge.slug)
    assert [m.pk for m in got.invited.all()] == [guest.pk]
    assert permissions.is_organiser(organiser, got) and not permissions.is_organiser(guest, got)
    for nobody in (stranger, AnonymousUser()):
        with pytest.raises(Http404):
            selectors.challenge_get(user=nobody, slug=challenge.slug)


def test_the_challenge_page_shows_its_organisers_tags_and_pages_of_solutions(client):
    challenge = ChallengeFactory(organisers=[make_organiser(display_name="Ada Organiser")])
    challenge.tags.create(slug="water", name="water")
    for n in range(27):
        make_solution(challenge, title=f"Idea {n:02d}")
    html = client.get(challenge.get_absolute_url()).content.decode()
    assert "Ada Organiser" in html and "?tag=water" in html
    second = client.get(challenge.get_absolute_url() + "?page=2&sort=newest").content.decode()
    assert "Idea 00" in second and "Idea 01" in second and "Idea 26" not in second
    # Past the end: the last page, as before.
    assert "Idea 00" in client.get(challenge.get_absolute_url() + "?page=9").content.decode()


def test_the_solution_page_shows_the_tally_and_the_members_vote_read_with_it(client):
    solution = make_solution()
    voter, other = UserFactory(), UserFactory()
    vote_cast(voter=voter, solution=solution, value=1)
    vote_cast(voter=other, solution=solution, value=1)
    client.force_login(voter)
    html = client.get(solution.get_absolute_url()).content.decode()
    assert 'aria-label="Score 2: 2 up, 0 down"' in html
    assert 'aria-pressed="true"' in html
    client.force_login(UserFactory())
    html = client.get(solution.get_absolute_url()).content.decode()
    assert 'aria-label="Score 2: 2 up, 0 down"' in html
    assert 'aria-pressed="true"' not in html


def test_a_lineage_hides_the_solutions_of_a_private_challenge_from_those_outside_it(client):
    organiser = make_organiser()
    secret = ChallengeFactory(
        organisers=[organiser], visibility=Challenge.Visibility.PRIVATE, created_by=organiser
    )
    source = make_solution(title="Open root")
    fork = make_fork(source, organiser, challenge=secret)
    fork.title = "Secret remix"
    fork.save(update_fields=["title"])
    url = reverse("challenges:solution-detail", args=[source.pk])
    assert "Secret remix" not in client.get(url).content.decode()
    client.force_login(organiser)
    assert "Secret remix" in client.get(url).content.decode()


def test_fields_not_read_with_the_challenge_load_when_asked_never_a_default():
    organiser = make_organiser(email="ada@example.org")
    challenge = ChallengeFactory(organisers=[organiser])
    got = selectors.challenge_get(user=AnonymousUser(), slug=challenge.slug)
    (read,) = got.organisers.all()
    assert read.username == organiser.username
    assert read.email == "ada@example.org"  # deferred, then loaded: not ""
    assert not read._state.adding
