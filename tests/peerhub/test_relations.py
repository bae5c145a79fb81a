"""Muting and blocking members (issue 21, peerhub.relations): a mute silences a member's social
notifications and nothing else; a block does so both ways and refuses new mentions and orders,
while an order placed before stays finishable; the profile buttons, the settings page and the
API twins."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from challenges import services as challenge_services
from marketplace import services as market_services
from marketplace.models import Order
from peerhub import relations
from peerhub.exceptions import DomainError, NotAllowed
from peerhub.following import follow_set
from peerhub.models import Follow, MemberRelation, Mention, Notification
from peerhub.notifications import get_kind, notify
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.helpers import assert_error
from tests.marketplace.factories import OfferFactory, make_seller, paid_order, place

pytestmark = pytest.mark.django_db


def kinds_for(member) -> list[str]:
    return sorted(Notification.objects.filter(recipient=member).values_list("kind", flat=True))


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def ana(db):
    return UserFactory(username="ana", display_name="Ana Lima")


@pytest.fixture
def ben(db):
    return UserFactory(username="ben", display_name="Ben Okafor")


# --- The rules ---------------------------------------------------------------------------------


def test_muting_twice_is_idempotent_and_keeps_one_row(ana, ben):
    assert relations.mute(member=ana, other=ben) is True
    assert relations.mute(member=ana, other=ben) is False
    assert MemberRelation.objects.filter(member=ana, other=ben, kind="mute").count() == 1
    assert relations.unmute(member=ana, other=ben) is True
    assert relations.unmute(member=ana, other=ben) is False
    assert not MemberRelation.objects.exists()


def test_a_member_cannot_mute_or_block_themselves(ana):
    with pytest.raises(DomainError) as muted:
        relations.mute(member=ana, other=ana)
    with pytest.raises(DomainError) as blocked:
        relations.block(member=ana, other=ana)
    assert muted.value.code == blocked.value.code == "self_relation"
    assert not MemberRelation.objects.exists()


def test_the_database_refuses_a_relation_with_oneself_and_a_duplicate(ana, ben):
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberRelation.objects.create(member=ana, other=ana, kind="mute")
    MemberRelation.objects.create(member=ana, other=ben, kind="block")
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberRelation.objects.create(member=ana, other=ben, kind="block")


def test_staff_may_be_muted_but_not_blocked(ana):
    moderator = UserFactory(is_staff=True)
    assert relations.mute(member=ana, other=moderator)
    with pytest.raises(NotAllowed) as refused:
        relations.block(member=ana, other=moderator)
    assert refused.value.code == "staff_not_blockable"


def test_a_block_works_both_ways_and_a_mute_one_way(ana, ben):
    relations.mute(member=ana, other=ben)
    assert relations.is_muted_by(other=ben, member=ana)
    assert not relations.is_muted_by(other=ana, member=ben)
    assert not relations.blocks_between(ana, ben)
    relations.unmute(member=ana, other=ben)
    relations.block(member=ana, other=ben)
    assert relations.blocks_between(ana, ben) and relations.blocks_between(ben, ana)
    assert relations.is_muted_by(other=ben, member=ana)
    assert relations.is_muted_by(other=ana, member=ben)


def test_notification_kinds_say_whether_they_are_social():
    for name in ("mentioned", "comment_reply", "solution_comment", "solution_forked"):
        assert get_kind(name).social, name
    for name in ("order_paid", "order_disputed", "order_message", "moderation_decided"):
        assert not get_kind(name).social, name


# --- Muting silences social notifications only --------------------------------------------------


def test_a_mute_silences_the_muted_members_forks_and_comments(commit, ana, ben):
    source = commit(make_solution, author=ana)
    relations.mute(member=ana, other=ben)
    commit(make_fork, source, ben)
    commit(challenge_services.comment_create, author=ben, target=source, body="Nice work")
    assert kinds_for(ana) == []
    # Others still reach her.
    cleo = UserFactory()
    commit(challenge_services.comment_create, author=cleo, target=source, body="Also nice")
    assert kinds_for(ana) == ["solution_comment"]


def test_a_mute_silences_mentions(commit, ana, ben):
    solution = commit(make_solution)
    relations.mute(member=ana, other=ben)
    commit(challenge_services.comment_create, author=ben, target=solution, body="Hi @ana")
    assert kinds_for(ana) == []
    # Muting is private: the mention itself is recorded, only the notice is silenced.
    assert Mention.objects.filter(mentioned=ana).count() == 1


def test_a_mute_lets_order_money_and_moderation_notices_through(commit, ana):
    seller = make_seller()
    relations.mute(member=ana, other=seller)
    order = commit(paid_order, buyer=ana, offer=OfferFactory(seller=seller))
    commit(market_services.order_start, order=order, by=seller)
    commit(market_services.order_message_post, order=order, by=seller, body="Starting now")
    moderator = UserFactory(is_staff=True)
    relations.mute(member=ana, other=moderator)
    commit(
        notify,
        "moderation_decided",
        [ana],
        actor=moderator,
        context={"item": "comment", "outcome": "it stays hidden"},
    )
    assert {"order_started", "order_message", "moderation_decided"} <= set(kinds_for(ana))


def test_a_block_silences_social_notices_in_both_directions(commit, ana, ben):
    hers, his = commit(make_solution, author=ana), commit(make_solution, author=ben)
    relations.block(member=ana, other=ben)
    commit(make_fork, hers, ben)
    commit(make_fork, his, ana)
    assert kinds_for(ana) == kinds_for(ben) == []


def test_unmuting_lets_notifications_through_again(commit, ana, ben):
    source = commit(make_solution, author=ana)
    relations.mute(member=ana, other=ben)
    relations.unmute(member=ana, other=ben)
    commit(make_fork, source, ben)
    assert kinds_for(ana) == ["solution_forked"]


def test_the_fan_out_costs_the_same_queries_with_mutes(commit, django_assert_max_num_queries):
    actor = UserFactory()
    followers = UserFactory.create_batch(30)
    with CaptureQueriesContext(connection) as unmuted:
        commit(notify, "challenge_opened", followers, actor=actor, url="/c/x/", key="first")
    assert Notification.objects.count() == 30
    Notification.objects.all().delete()
    for follower in followers[::2]:
        relations.mute(member=follower, other=actor)
    relations.block(member=actor, other=followers[1])
    # The mutes are one EXISTS in the query that picks the recipients: not one per recipient.
    with django_assert_max_num_queries(len(unmuted)):
        commit(notify, "challenge_opened", followers, actor=actor, url="/c/x/", key="second")
    told = set(Notification.objects.values_list("recipient_id", flat=True))
    assert told == {f.pk for f in followers[3::2]}


# --- Blocking refuses mentions and orders -------------------------------------------------------


def test_a_blocked_member_cannot_mention_the_blocker(commit, ana, ben):
    solution = commit(make_solution)
    relations.block(member=ana, other=ben)
    commit(challenge_services.comment_create, author=ben, target=solution, body="Hey @ana")
    commit(challenge_services.comment_create, author=ana, target=solution, body="And @ben")
    assert not Mention.objects.exists()
    assert kinds_for(ana) == kinds_for(ben) == []


def test_a_blocked_member_cannot_order_the_blockers_offer(ana):
    seller = make_seller()
    offer = OfferFactory(seller=seller)
    relations.block(member=seller, other=ana)
    with pytest.raises(NotAllowed) as refused:
        place(offer=offer, buyer=ana)
    assert refused.value.code == "blocked"
    # Nor the blocker the blocked member's: interaction stops both ways.
    their_offer = OfferFactory(seller=make_seller())
    relations.block(member=ana, other=their_offer.seller)
    with pytest.raises(NotAllowed):
        place(offer=their_offer, buyer=ana)
    assert not Order.objects.exists()


def test_ordering_across_a_block_is_refused_on_the_page(client, ana):
    offer = OfferFactory()
    relations.block(member=offer.seller, other=ana)
    client.force_login(ana)
    response = client.post(
        reverse("marketplace:order-place", args=[offer.pk]), {"brief": "Please"}, follow=True
    )
    assert response.status_code < 500
    assert "blocked" in response.content.decode()
    assert not Order.objects.exists()


def test_ordering_across_a_block_is_a_403_in_the_api(ana):
    offer = OfferFactory()
    relations.block(member=offer.seller, other=ana)
    response = client_for(ana).post(
        "/api/orders/", {"offer": offer.pk, "brief": "Please"}, format="json"
    )
    assert_error(response, 403, "blocked")
    assert not Order.objects.exists()


def test_an_order_placed_before_a_block_stays_finishable(commit, ana):
    order = commit(paid_order, buyer=ana)
    seller = order.seller
    relations.block(member=ana, other=seller)
    commit(market_services.order_start, order=order, by=seller)
    message = commit(market_services.order_message_post, order=order, by=ana, body="Still there?")
    assert message.pk
    commit(market_services.order_deliver, order=order, by=seller, message="Here it is")
    order = commit(market_services.order_accept, order=order, by=ana)
    assert order.state == Order.State.COMPLETED
    # Its messages still notify: an order's notices are not social.
    assert "order_message" in kinds_for(seller)


def test_the_editor_does_not_suggest_a_member_across_a_block(ana, ben):
    UserFactory(username="bea")
    challenge = ChallengeFactory()
    relations.block(member=ben, other=ana)
    response = client_for(ana).get(
        reverse("api-mention-suggestions"), {"challenge": challenge.slug, "q": "b"}
    )
    assert [m["username"] for m in response.json()] == ["bea"]


def test_a_block_ends_follows_both_ways_and_refuses_new_ones(ana, ben):
    follow_set(follower=ana, target=ben)
    follow_set(follower=ben, target=ana)
    relations.block(member=ana, other=ben)
    assert not Follow.objects.exists()
    with pytest.raises(NotAllowed) as refused:
        follow_set(follower=ben, target=ana)
    assert refused.value.code == "blocked"
    relations.unblock(member=ana, other=ben)
    assert follow_set(follower=ben, target=ana)


# --- The pages ------------------------------------------------------------------------------


def test_the_profile_shows_mute_and_block_buttons_and_their_state(client, ana, ben):
    client.force_login(ana)
    page = client.get(ben.get_absolute_url()).content.decode()
    assert reverse("member-mute", args=["ben"]) in page
    assert reverse("member-block", args=["ben"]) in page and "data-confirm" in page
    relations.mute(member=ana, other=ben)
    relations.block(member=ana, other=ben)
    page = client.get(ben.get_absolute_url()).content.decode()
    assert "Muted" in page and reverse("member-unmute", args=["ben"]) in page
    assert "Blocked" in page and reverse("member-unblock", args=["ben"]) in page
    # No buttons on one's own profile, nor for visitors.
    assert (
        reverse("member-mute", args=["ana"])
        not in client.get(ana.get_absolute_url()).content.decode()
    )


def test_muting_from_the_profile_page(client, ana, ben):
    client.force_login(ana)
    response = client.post(
        reverse("member-mute", args=["ben"]), {"next": ben.get_absolute_url()}, follow=True
    )
    assert response.redirect_chain[-1][0] == ben.get_absolute_url()
    assert relations.is_muted_by(other=ben, member=ana)
    assert "You muted" in response.content.decode()


def test_blocking_asks_first_without_javascript(client, ana, ben):
    client.force_login(ana)
    url = reverse("member-block", args=["ben"])
    asked = client.post(url)
    assert asked.status_code == 200 and f"Block {ben.name}?" in asked.content.decode()
    assert not relations.blocks_between(ana, ben)
    client.post(url, {"confirmed": "yes"})
    assert relations.blocks_between(ana, ben)


def test_muting_yourself_on_the_page_is_a_message_not_an_error(client, ana):
    client.force_login(ana)
    response = client.post(reverse("member-mute", args=["ana"]), follow=True)
    assert response.status_code == 200
    assert "cannot mute or block yourself" in response.content.decode()
    assert not MemberRelation.objects.exists()


def test_the_pages_need_a_member_and_a_post(client, ana, ben):
    url = reverse("member-mute", args=["ben"])
    assert client.post(url).status_code == 302  # to the login page
    client.force_login(ana)
    assert client.get(url).status_code == 405
    assert client.post(reverse("member-mute", args=["nobody"])).status_code == 404
    assert not MemberRelation.objects.exists()


def test_the_settings_page_lists_and_undoes(client, ana, ben):
    cleo = UserFactory(username="cleo")
    relations.mute(member=ana, other=ben)
    relations.block(member=ana, other=cleo)
    relations.mute(member=cleo, other=ana)  # someone else's: not shown
    client.force_login(ana)
    page = client.get(reverse("member-relations")).content.decode()
    assert reverse("member-unmute", args=["ben"]) in page
    assert reverse("member-unblock", args=["cleo"]) in page
    response = client.post(
        reverse("member-unblock", args=["cleo"]), {"next": reverse("member-relations")}
    )
    assert response.url == reverse("member-relations")
    assert not relations.blocks_between(ana, cleo)


def test_the_settings_page_needs_sign_in(client):
    assert client.get(reverse("member-relations")).status_code == 302


# --- The API -----------------------------------------------------------------------------------


def test_the_api_mutes_lists_and_unmutes(ana, ben):
    api = client_for(ana)
    created = api.post("/api/me/mutes/", {"username": "ben"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["member"]["username"] == "ben"
    assert created.json()["kind"] == "mute"
    again = api.post("/api/me/mutes/", {"username": "ben"}, format="json")
    assert again.status_code == 200
    listing = api.get("/api/me/mutes/").json()
    assert [row["member"]["username"] for row in listing["results"]] == ["ben"]
    assert api.get("/api/me/blocks/").json()["results"] == []
    assert api.delete("/api/me/mutes/ben/").status_code == 204
    assert api.delete("/api/me/mutes/ben/").status_code == 204
    assert not MemberRelation.objects.exists()


def test_the_api_blocks_and_unblocks(ana, ben):
    api = client_for(ana)
    assert api.post("/api/me/blocks/", {"username": "ben"}, format="json").status_code == 201
    assert relations.blocks_between(ana, ben)
    assert api.delete("/api/me/blocks/ben/").status_code == 204
    assert not relations.blocks_between(ana, ben)


def test_the_api_refuses_bad_input_with_4xx_json(ana):
    api = client_for(ana)
    assert_error(
        api.post("/api/me/mutes/", {"username": "ana"}, format="json"), 400, "self_relation"
    )
    assert_error(api.post("/api/me/mutes/", {"username": "nobody"}, format="json"), 400, "invalid")
    assert_error(api.post("/api/me/blocks/", {}, format="json"), 400, "invalid")
    staff = UserFactory(is_staff=True)
    assert_error(
        api.post("/api/me/blocks/", {"username": staff.username}, format="json"),
        403,
        "staff_not_blockable",
    )
    assert_error(api.delete("/api/me/blocks/nobody/"), 404)
    assert not MemberRelation.objects.exists()


def test_the_api_needs_sign_in(ben):
    anonymous = APIClient()
    assert anonymous.get("/api/me/mutes/").status_code in (401, 403)
    assert anonymous.post("/api/me/blocks/", {"username": "ben"}, format="json").status_code in (
        401,
        403,
    )
    assert anonymous.delete("/api/me/mutes/ben/").status_code in (401, 403)


def test_the_block_confirmation_does_not_say_it_cannot_be_undone(client):
    from tests.factories import UserFactory

    member, other = UserFactory(), UserFactory()
    client.force_login(member)
    html = client.post(f"/u/{other.username}/block/").content.decode()
    assert "Please confirm" in html and "cannot be undone" not in html
    assert "You can unblock at any time" in html
