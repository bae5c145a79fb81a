"""A signed-in member's home (issue 18): a "start here" checklist from real data, their own work
waiting for them, the challenges closing soon, the solutions rising this week and the feed;
gathered from the apps through hooks, and bounded in queries whatever the member's activity."""

import ast
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges import services as challenge_services
from challenges.models import Challenge
from peerhub import following, home
from reputation.models import Vote
from tests.factories import (
    ChallengeFactory,
    ManifestoSignatureFactory,
    ManifestoVersionFactory,
    UserFactory,
    make_fork,
    make_solution,
)
from tests.helpers import clear_caches
from tests.marketplace.factories import OfferFactory, paid_order, place

pytestmark = pytest.mark.django_db


def steps(member) -> dict[str, bool]:
    return {step.key: step.done for step in home.checklist(user=member)}


def test_a_new_members_checklist_has_every_step_undone_but_the_verified_address():
    ManifestoVersionFactory()
    assert steps(UserFactory()) == {
        "verified": True,
        "signed": False,
        "follow_challenge": False,
        "first_vote": False,
        "first_solution": False,
    }


def test_an_unverified_member_is_asked_to_verify(unverified_user):
    assert steps(unverified_user)["verified"] is False


def test_each_step_is_done_by_the_real_action(commit):
    version = ManifestoVersionFactory()
    member = UserFactory()
    challenge = ChallengeFactory()
    ManifestoSignatureFactory(version=version, user=member)
    following.follow_set(follower=member, target=challenge)
    Vote.objects.create(solution=make_solution(challenge), voter=member, value=Vote.UP)
    assert steps(member) == dict.fromkeys(steps(member), True) | {"first_solution": False}
    make_solution(challenge, author=member)
    assert all(steps(member).values())


def test_signing_an_older_manifesto_does_not_tick_the_step():
    old = ManifestoVersionFactory(number=1)
    ManifestoVersionFactory(number=2)
    member = UserFactory()
    ManifestoSignatureFactory(version=old, user=member)
    assert steps(member)["signed"] is False


def test_a_fork_counts_as_a_first_solution():
    member = UserFactory()
    make_fork(make_solution(), author=member)
    assert steps(member)["first_solution"] is True


def test_the_checklist_shows_until_every_step_is_done_then_disappears(client):
    ManifestoVersionFactory(number=1)
    member = UserFactory()
    client.force_login(member)
    html = client.get(reverse("home")).content.decode()
    assert "Start here" in html and "1 of 5 done" in html
    assert f'href="{reverse("manifesto")}">Sign the manifesto' in html

    version = ManifestoVersionFactory(number=9)
    ManifestoSignatureFactory(version=version, user=member)
    challenge = ChallengeFactory()
    following.follow_set(follower=member, target=challenge)
    Vote.objects.create(solution=make_solution(challenge), voter=member, value=Vote.UP)
    make_solution(challenge, author=member)
    html = client.get(reverse("home")).content.decode()
    assert "Start here" not in html
    assert "Welcome back" in html


def test_a_done_checklist_is_kept_done_until_a_new_manifesto_asks_again(client, settings):
    settings.PEERHUB_PAGE_CACHE = True
    version = ManifestoVersionFactory(number=1)
    member = UserFactory()
    ManifestoSignatureFactory(version=version, user=member)
    challenge = ChallengeFactory()
    following.follow_set(follower=member, target=challenge)
    Vote.objects.create(solution=make_solution(challenge), voter=member, value=Vote.UP)
    make_solution(challenge, author=member)
    client.force_login(member)
    with mock.patch.object(home, "checklist", wraps=home.checklist) as asked:
        assert "Start here" not in client.get(reverse("home")).content.decode()
        assert "Start here" not in client.get(reverse("home")).content.decode()
    assert asked.call_count == 1  # done is kept as done
    ManifestoVersionFactory(number=2)  # a new version to sign: the step is to do again
    html = client.get(reverse("home")).content.decode()
    assert "Start here" in html and "4 of 5 done" in html
    other = UserFactory()
    client.force_login(other)
    with mock.patch.object(home, "checklist", wraps=home.checklist) as asked:
        client.get(reverse("home"))
        client.get(reverse("home"))
    assert asked.call_count == 2  # steps to do: asked on every visit


def test_the_anonymous_home_is_unchanged(client):
    ManifestoVersionFactory()
    html = client.get(reverse("home")).content.decode()
    assert "Solve real challenges together" in html and "Your PeerHub" not in html
    assert "Start here" not in html


def test_upstream_offers_to_decide_wait_for_the_parents_author(client):
    author = UserFactory()
    parent = make_solution(author=author, title="Sand filter")
    fork = make_fork(parent)
    offer = challenge_services.upstream_propose(fork=fork, by=fork.author, message="Better.")
    texts = [(t.action, t.url) for t in home.tasks(user=author)]
    assert ("Decide", offer.get_absolute_url()) in texts
    assert home.tasks(user=fork.author) == []
    client.force_login(author)
    assert "Sand filter" in client.get(reverse("home")).content.decode()


def test_selections_wait_for_the_organisers():
    challenge = ChallengeFactory(status=Challenge.Status.SELECTING)
    organiser = challenge.organisers.get()
    assert [t.action for t in home.tasks(user=organiser)] == ["Select"]


def test_orders_wait_for_whoever_acts_next():
    unpaid = place()
    assert [t.action for t in home.tasks(user=unpaid.buyer)] == ["Pay"]
    assert home.tasks(user=unpaid.seller) == []
    order = paid_order(offer=OfferFactory())
    assert [t.action for t in home.tasks(user=order.seller)] == ["Start"]
    assert [t.action for t in home.tasks(user=order.buyer)] == []


def test_closing_soon_lists_open_visible_challenges_with_a_deadline_ahead(client):
    now = timezone.now()
    soon = ChallengeFactory(title="Soon", closes_at=now + timedelta(days=3, hours=1))
    ChallengeFactory(title="Later", closes_at=now + timedelta(days=40))
    ChallengeFactory(title="Hidden one", closes_at=now + timedelta(days=1), visibility="private")
    ChallengeFactory(title="No deadline")
    member = UserFactory()
    client.force_login(member)
    html = client.get(reverse("home")).content.decode()
    assert html.index("Soon") < html.index("Later")
    assert "Hidden one" not in html and "No deadline" not in html
    assert soon.get_absolute_url() in html
    assert "3\xa0days from now" in html  # one unit (timeuntil keeps the number and unit together)


def test_rising_lists_solutions_by_this_weeks_upvotes():
    clear_caches()
    challenge = ChallengeFactory()
    quiet, rising = make_solution(challenge, title="Quiet"), make_solution(challenge)
    for _ in range(3):
        Vote.objects.create(solution=rising, voter=UserFactory(), value=Vote.UP)
    old = Vote.objects.create(solution=quiet, voter=UserFactory(), value=Vote.UP)
    Vote.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    from reputation import home as reputation_home

    assert [s.pk for s in reputation_home.rising_solutions()] == [rising.pk]


def test_rising_leaves_out_private_challenges():
    clear_caches()
    private = ChallengeFactory(visibility="private")
    solution = make_solution(private, author=private.organisers.get())
    Vote.objects.create(solution=solution, voter=UserFactory(), value=Vote.UP)
    from reputation import home as reputation_home

    assert reputation_home.rising_solutions() == []


def _busy_member(member, n: int) -> None:
    """`n` of everything around `member`: follows, feed items, offers to decide, orders."""
    now = timezone.now()
    for i in range(n):
        challenge = ChallengeFactory(closes_at=now + timedelta(days=i + 1))
        following.follow_set(follower=member, target=challenge)
        mine = make_solution(challenge, author=member)
        fork = make_fork(mine)
        challenge_services.upstream_propose(fork=fork, by=fork.author, message="Take it.")
        Vote.objects.create(solution=fork, voter=UserFactory(), value=Vote.UP)
        place(buyer=member)
        paid_order(offer=OfferFactory(seller=member)) if i == 0 else None


def test_the_signed_in_home_runs_the_same_bounded_queries_however_busy(
    client, commit, django_assert_max_num_queries
):
    ManifestoVersionFactory()
    member = UserFactory()
    commit(_busy_member, member, 2)
    client.force_login(member)
    client.get(reverse("home"))  # the rising list and the figures are cached once
    with django_assert_max_num_queries(14) as small:
        html = client.get(reverse("home")).content.decode()
    assert "Decide" in html and "Pay" in html and "Closing soon" in html
    budget = len(small)
    commit(_busy_member, member, 6)
    client.get(reverse("home"))
    with django_assert_max_num_queries(budget):
        html = client.get(reverse("home")).content.decode()
    assert html.count('class="task"') == 5 + 5  # five from each app at most: bounded


@pytest.mark.parametrize("module", ["home.py", "views.py", "staff.py", "hooks.py"])
def test_the_site_never_imports_the_apps_at_module_level(module):
    tree = ast.parse((Path(home.__file__).parent / module).read_text())
    top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    names = [getattr(node, "module", None) or node.names[0].name for node in top]
    assert not [
        n for n in names if n and n.split(".")[0] in {"challenges", "reputation", "marketplace"}
    ]


def test_a_member_may_hide_the_checklist_before_finishing_it(client):
    ManifestoVersionFactory(number=1)
    member = UserFactory()
    client.force_login(member)
    assert "Start here" in client.get(reverse("home")).content.decode()
    assert client.get(reverse("checklist-hide")).status_code == 405  # a POST only
    response = client.post(reverse("checklist-hide"), headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.content == b""
    member.refresh_from_db()
    assert member.checklist_hidden_at is not None
    assert "Start here" not in client.get(reverse("home")).content.decode()
    # Hidden: the home asks nothing of the checklist any more.
    assert home.checklist_shown(user=member) is None


def test_hiding_the_checklist_needs_a_member(client):
    response = client.post(reverse("checklist-hide"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_compiled_task_reads_are_their_querysets_and_name_the_other_party():
    """The home's task reads are compiled once (peerhub.statements): for each member, what the
    kept statement gives is what a fresh queryset gives, and the task names the other party by
    their display name, or their username without one."""
    from challenges import home as challenge_home
    from marketplace import home as market_home

    buyer = UserFactory(display_name="")
    order = paid_order(offer=OfferFactory(), buyer=buyer)
    pending = place(buyer=buyer)
    pending.seller.display_name = "Ama the potter"
    pending.seller.save(update_fields=["display_name"])
    author = UserFactory()
    fork = make_fork(make_solution(author=author))
    challenge_services.upstream_propose(fork=fork, by=fork.author, message="Better.")
    organiser = ChallengeFactory(status=Challenge.Status.SELECTING).organisers.get()
    since = timezone.now() - timedelta(days=30)
    for member in (buyer, order.seller, author, fork.author, organiser):
        waiting = market_home._waiting(home.TASKS_PER_APP)
        assert waiting.rows(member.pk, since) == list(waiting.build(member.pk, since))
        for read in (challenge_home._offers, challenge_home._selecting):
            kept = read(home.TASKS_PER_APP)
            assert kept.rows(member.pk) == list(kept.build(member.pk))
    (start,) = home.tasks(user=order.seller)
    assert start.action == "Start" and buyer.username in start.text
    assert start.url == order.get_absolute_url()
    (pay,) = home.tasks(user=buyer)
    assert pay.action == "Pay" and "Ama the potter" in pay.text
