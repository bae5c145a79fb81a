"""The review queue (issue 23): what most needs a review, the fewest reviews first, then the
newest; the page listing it to members who may review, and its link on the challenge page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges import services as challenge_services
from challenges.models import Solution
from reputation import fitness, services
from reputation.models import ReputationScore, SolutionScore
from reputation.review_queue import solutions_to_review
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution

pytestmark = pytest.mark.django_db


def member():
    """A member at trust level 2 (regular): may review."""
    user = UserFactory()
    ReputationScore.objects.create(user=user, total=Decimal(100), trust_level=2)
    return user


def review(reviewer, solution, value: int = 4):
    criteria = list(solution.challenge.criteria.order_by("position"))
    return services.review_save(
        reviewer=reviewer, solution=solution, comment="Works; could be cheaper.",
        scores={c.pk: value for c in criteria},
    )  # fmt: skip


def published(solution, days_ago: int):
    """Move the solution's publication back, on its score row too (a recompute copies it)."""
    at = timezone.now() - timedelta(days=days_ago)
    Solution.objects.filter(pk=solution.pk).update(published_at=at)
    SolutionScore.objects.filter(solution=solution).update(published_at=at)
    return solution


def test_fewest_reviews_first_then_newest():
    challenge = ChallengeFactory()
    old_unreviewed = published(make_solution(challenge), 3)
    new_unreviewed = published(make_solution(challenge), 1)
    reviewed_once = published(make_solution(challenge), 5)
    reviewed_twice = published(make_solution(challenge), 6)
    review(member(), reviewed_once)
    review(member(), reviewed_twice)
    review(member(), reviewed_twice)

    queue = solutions_to_review(user=member(), challenge=challenge, limit=10)

    assert [s.pk for s in queue] == [
        new_unreviewed.pk, old_unreviewed.pk, reviewed_once.pk, reviewed_twice.pk
    ]  # fmt: skip
    assert [s.n_reviews for s in queue] == [0, 0, 1, 2]
    assert len(solutions_to_review(user=member(), challenge=challenge, limit=2)) == 2


def test_only_what_the_member_may_review():
    challenge = ChallengeFactory()
    me = member()
    mine = make_solution(challenge, me)
    built_on_mine = make_fork(mine)
    done = make_solution(challenge)
    review(me, done)
    draft = make_solution(challenge, publish=False)
    open_one = make_solution(challenge)
    elsewhere = make_solution(ChallengeFactory())

    in_challenge = {s.pk for s in solutions_to_review(user=me, challenge=challenge, limit=10)}
    everywhere = {s.pk for s in solutions_to_review(user=me, limit=10)}

    assert in_challenge == {open_one.pk}
    assert everywhere == {open_one.pk, elsewhere.pk}
    assert not {mine.pk, built_on_mine.pk, done.pk, draft.pk} & everywhere


def test_a_copy_is_not_listed_until_its_author_changes_it():
    """Reviewing a copy is reviewing its source, and a copy has no rank to settle
    (reputation.fitness): the queue leaves it out until its author changes it."""
    challenge = ChallengeFactory()
    source = make_solution(challenge)
    review(member(), source)
    copy = make_fork(source, changed=False)
    me = member()
    assert [s.pk for s in solutions_to_review(user=me, challenge=challenge)] == [source.pk]
    assert [s.pk for s in solutions_to_review(user=me)] == [source.pk]

    # Changed, it is listed at once: its score row's copy flag, which the queue's index leaves
    # out, follows the solution's in the same transaction (and its next recompute agrees).
    challenge_services.solution_revise(
        solution=copy, by=copy.author, title=copy.title, body="My own take."
    )
    assert SolutionScore.objects.get(solution=copy).is_copy is False
    assert [s.pk for s in solutions_to_review(user=me, challenge=challenge)] == [
        copy.pk, source.pk
    ]  # fmt: skip
    fitness.recompute_challenge(challenge.pk)
    assert SolutionScore.objects.get(solution=copy).is_copy is False

    # Given back the body it copied, it is a copy again, and leaves the queue.
    challenge_services.solution_revise(
        solution=copy, by=copy.author, title=copy.title, body=source.current_revision.body
    )
    assert SolutionScore.objects.get(solution=copy).is_copy is True
    assert [s.pk for s in solutions_to_review(user=me, challenge=challenge)] == [source.pk]


def test_queue_is_two_queries(django_assert_max_num_queries):
    challenge = ChallengeFactory()
    me = member()
    make_solution(challenge, me)
    for _ in range(6):
        make_solution(challenge)
    with django_assert_max_num_queries(2):
        queue = solutions_to_review(user=me, challenge=challenge, limit=10)
        [(s.challenge.slug, s.author.name) for s in queue]
    assert len(queue) == 6


def url(challenge):
    return reverse("reputation:to-review", args=[challenge.slug])


def test_page_asks_anonymous_visitors_to_sign_in(client):
    challenge = ChallengeFactory()
    response = client.get(url(challenge))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_page_refuses_members_who_may_not_review(client):
    challenge = ChallengeFactory()
    client.force_login(UserFactory())  # a new member: level 1 at most
    assert client.get(url(challenge)).status_code == 403
    assert "to-review" not in client.get(challenge.get_absolute_url()).content.decode()


def test_page_lists_with_reasons_and_is_linked(client, django_assert_max_num_queries):
    challenge = ChallengeFactory()
    fresh = make_solution(challenge, title="Fresh idea")
    seen = make_solution(challenge, title="Seen idea")
    review(member(), seen)
    me = member()
    client.force_login(me)
    client.get(url(challenge))  # warm the per-process caches (rules, site settings)
    with django_assert_max_num_queries(12):
        response = client.get(url(challenge))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(fresh.title) < html.index(seen.title)
    assert "No review yet." in html
    assert "Only 1 review so far." in html
    assert url(challenge) in client.get(challenge.get_absolute_url()).content.decode()


# --- Across every challenge: /reviews/to-review/ ---------------------------------------------

EVERYWHERE = "/reviews/to-review/"


def test_the_platform_wide_page_is_at_its_address():
    assert reverse("reputation:to-review-everywhere") == EVERYWHERE


def test_everywhere_page_asks_anonymous_visitors_to_sign_in(client):
    response = client.get(EVERYWHERE)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_everywhere_page_refuses_level_one_saying_what_unlocks_it(client):
    newcomer = UserFactory()
    ReputationScore.objects.create(user=newcomer, total=Decimal(10), trust_level=1)
    client.force_login(newcomer)
    for address in (EVERYWHERE, url(ChallengeFactory())):
        response = client.get(address)
        assert response.status_code == 403
        assert "Reviewing unlocks at trust level 2" in response.content.decode()
    assert EVERYWHERE not in client.get(reverse("home")).content.decode()


def test_everywhere_page_lists_every_challenge_fewest_reviews_first(client):
    water, energy = ChallengeFactory(title="Clean water"), ChallengeFactory(title="Cheap energy")
    twice = published(make_solution(water, title="Reviewed twice"), 1)
    once = published(make_solution(energy, title="Reviewed once"), 2)
    old_fresh = published(make_solution(water, title="Old and unreviewed"), 9)
    new_fresh = published(make_solution(energy, title="New and unreviewed"), 3)
    review(member(), twice)
    review(member(), twice)
    review(member(), once)
    me = member()
    client.force_login(me)

    response = client.get(EVERYWHERE)

    assert response.status_code == 200
    html = response.content.decode()
    order = [new_fresh, old_fresh, once, twice]
    positions = [html.index(s.title) for s in order]
    assert positions == sorted(positions)
    assert [s.pk for s in solutions_to_review(user=me, limit=20)] == [s.pk for s in order]
    for challenge in (water, energy):
        assert f'href="{challenge.get_absolute_url()}"' in html
    assert f'href="{new_fresh.get_absolute_url()}"' in html
    assert new_fresh.author.name in html
    assert "No review yet." in html and "Only 2 reviews so far." in html
    assert "Published 3\xa0days ago." in html
    # Linked from the member's home and from each challenge's own queue.
    assert EVERYWHERE in client.get(reverse("home")).content.decode()
    assert EVERYWHERE in client.get(url(water)).content.decode()


def test_everywhere_page_says_when_nothing_is_left(client):
    client.force_login(member())
    response = client.get(EVERYWHERE)
    assert response.status_code == 200
    assert "Nothing left for you to review" in response.content.decode()


def test_everywhere_lists_only_what_the_member_may_review(client):
    from challenges import services as challenge_services
    from challenges.models import Challenge

    me = member()
    challenge = ChallengeFactory()
    mine = make_solution(challenge, me, title="Mine")
    fork_of_mine = make_fork(mine)
    fork_of_fork = make_fork(fork_of_mine)
    reviewed = make_solution(challenge, title="Reviewed by me")
    review(me, reviewed)
    draft = make_solution(challenge, publish=False, title="A draft")
    withdrawn = make_solution(challenge, title="Withdrawn")
    challenge_services.solution_withdraw(solution=withdrawn, by=withdrawn.author)
    hidden = make_solution(challenge, title="Hidden")
    Solution.objects.filter(pk=hidden.pk).update(hidden_at=timezone.now())
    insider = UserFactory()
    secret = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    secret.invited.add(insider)
    not_invited = make_solution(secret, insider, title="Secret")
    invited_to = ChallengeFactory(visibility=Challenge.Visibility.PRIVATE)
    invited_to.invited.add(me, insider)
    invited = make_solution(invited_to, insider, title="Invited")
    no_criteria = make_solution(ChallengeFactory(criteria=[]), title="No criteria")
    open_one = make_solution(challenge, title="Open to review")

    listed = {s.pk for s in solutions_to_review(user=me, limit=20)}

    assert listed == {open_one.pk, invited.pk}
    excluded = [mine, fork_of_mine, fork_of_fork, reviewed, draft, withdrawn, hidden,
                not_invited, no_criteria]  # fmt: skip
    assert not listed & {s.pk for s in excluded}
    client.force_login(me)
    html = client.get(EVERYWHERE).content.decode()
    assert "Open to review" in html and "Invited" in html
    assert "Secret" not in html


def test_everywhere_page_queries_do_not_grow_with_the_data(client, django_assert_max_num_queries):
    me = member()
    client.force_login(me)

    def page_queries(challenges: int, solutions: int) -> int:
        for _ in range(challenges):
            challenge = ChallengeFactory()
            make_solution(challenge, me)
            for _ in range(solutions):
                review(member(), make_solution(challenge))
        client.get(EVERYWHERE)  # warm the per-process caches (rules, site settings)
        with django_assert_max_num_queries(12) as captured:
            response = client.get(EVERYWHERE)
        assert response.status_code == 200
        return len(captured.captured_queries)

    small = page_queries(2, 2)
    large = page_queries(6, 5)
    assert small == large


def test_the_challenge_page_sorts_by_the_kept_review_counts(client):
    challenge = ChallengeFactory()
    most = published(make_solution(challenge, title="Twice reviewed"), days_ago=3)
    once = published(make_solution(challenge, title="Once reviewed"), days_ago=2)
    newest = make_solution(challenge, title="Not reviewed yet")
    reviewers = [member(), member()]
    for reviewer in reviewers:
        review(reviewer, most)
    review(reviewers[0], once)
    html = client.get(f"{challenge.get_absolute_url()}?sort=reviewed").content.decode()
    assert html.index("Twice reviewed") < html.index("Once reviewed") < html.index(newest.title)

    most.reviews.filter(reviewer=reviewers[0]).delete()  # reviews go in the admin only
    review(member(), once)
    html = client.get(f"{challenge.get_absolute_url()}?sort=reviewed").content.decode()
    assert html.index("Once reviewed") < html.index("Twice reviewed")
