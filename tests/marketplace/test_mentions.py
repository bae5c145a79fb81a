"""@mentions in the marketplace: offers (public: whoever may see the offer may be named) and an
order's brief and messages (only its buyer, seller and staff may see it, so only they are linked
and told; a stranger named stays plain text and never hears of the order)."""

import pytest
from django.urls import reverse

from marketplace import services
from marketplace.models import Offer, Order, OrderMessage
from peerhub import relations
from peerhub.exceptions import DomainError
from peerhub.models import Mention, Notification, User
from tests.factories import UserFactory
from tests.marketplace.factories import OfferFactory, make_seller, paid_order, place

pytestmark = pytest.mark.django_db


def mentions_of(member) -> int:
    return Notification.objects.filter(recipient=member, kind="mentioned").count()


def link_to(member) -> str:
    return f'<a href="{member.get_absolute_url()}" class="mention"'


@pytest.fixture
def li(db):
    return UserFactory(username="li", display_name="Li Wei")


def new_offer(seller, description: str) -> Offer:
    return services.offer_create(
        seller=seller, title="Adapt the filter", description=description, price=5000,
        delivery_days=5,
    )  # fmt: skip


# --- Offers ----------------------------------------------------------------------------------


def test_an_offer_links_its_mentions_and_tells_the_member_once(commit, li):
    seller = make_seller()
    offer = commit(new_offer, seller, "Built with @li. Not @nobody.")
    assert link_to(li) in offer.description_html and "@nobody" in offer.description_html
    notice = Notification.objects.get(recipient=li, kind="mentioned")
    assert notice.actor == seller and notice.target_url == offer.get_absolute_url()
    assert "the offer “Adapt the filter”" in notice.text

    commit(services.offer_update, offer=offer, by=seller, description="With @li, still.")
    commit(services.offer_update, offer=offer, by=seller, price=6000)
    assert mentions_of(li) == 1
    assert Mention.objects.filter(mentioned=li).count() == 1


def test_an_offer_edit_tells_only_the_newly_mentioned_member(commit, li):
    seller, sofia = make_seller(), UserFactory(username="sofia")
    offer = commit(new_offer, seller, "With @li")
    commit(services.offer_update, offer=offer, by=seller, description="With @li and @sofia")
    assert (mentions_of(li), mentions_of(sofia)) == (1, 1)
    offer.refresh_from_db()
    assert link_to(sofia) in offer.description_html


def test_the_offer_page_shows_the_stored_html(client, li):
    offer = new_offer(make_seller(), "Ask @li")
    Offer.objects.filter(pk=offer.pk).update(
        description_html='<p>stored <a class="mention">x</a></p>'
    )
    assert "stored" in client.get(offer.get_absolute_url()).content.decode()


def test_a_paused_offer_tells_only_who_may_see_it(commit, li):
    seller = make_seller()
    offer = commit(new_offer, seller, "Draft for now")
    commit(services.offer_update, offer=offer, by=seller, is_active=False)
    commit(services.offer_update, offer=offer, by=seller, description="Paused, with @li")
    assert mentions_of(li) == 0
    # Resumed and still naming them: they may see it now, and hear of it then.
    commit(
        services.offer_update, offer=offer, by=seller, is_active=True,
        description="Back, with @li",
    )  # fmt: skip
    assert mentions_of(li) == 1


def test_a_member_blocked_by_the_seller_is_not_told(commit, li):
    seller = make_seller()
    relations.block(member=li, other=seller)
    commit(new_offer, seller, "Thanks @li")
    assert mentions_of(li) == 0 and not Mention.objects.exists()


def test_the_api_offer_twin_mentions_like_the_page(client, li, django_capture_on_commit_callbacks):
    seller = make_seller()
    client.force_login(seller)
    body = {"title": "Adapt", "description": "With @li", "price": 5000, "delivery_days": 3}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("api-offer-list"), body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert mentions_of(li) == 1
    offer = Offer.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            reverse("api-offer-detail", args=[offer.pk]),
            {"description": "With @li and @sofia"},
            content_type="application/json",
        )
    assert response.status_code == 200, response.content
    assert mentions_of(li) == 1


# --- Orders ----------------------------------------------------------------------------------


def test_a_brief_links_and_tells_the_seller_once_and_a_stranger_not_at_all(commit, li):
    seller = make_seller(username="sam")
    buyer = UserFactory()
    order = commit(place, OfferFactory(seller=seller), buyer, brief="For @sam, not @li.")
    assert link_to(seller) in order.brief_html
    assert link_to(li) not in order.brief_html and "@li" in order.brief_html
    assert mentions_of(li) == 0 and not Mention.objects.filter(mentioned=li).exists()
    # The seller hears of the order itself; the mention is recorded, not told twice.
    assert mentions_of(seller) == 0
    assert Mention.objects.filter(mentioned=seller, author=buyer).count() == 1


def test_an_order_message_tells_staff_it_names_but_never_a_stranger(commit, li):
    staff = UserFactory(username="stella", is_staff=True)
    order = paid_order()
    message = commit(
        services.order_message_post, order=order, by=order.buyer, body="@stella and @li, help"
    )
    assert link_to(staff) in message.body_html and link_to(li) not in message.body_html
    assert mentions_of(staff) == 1 and mentions_of(li) == 0
    notice = Notification.objects.get(recipient=staff, kind="mentioned")
    assert notice.target_url.endswith(f"#message-{message.pk}")


def test_an_order_message_does_not_tell_the_other_party_twice(commit):
    order = paid_order()
    seller = order.seller
    commit(services.order_message_post, order=order, by=order.buyer, body=f"@{seller.username}?")
    kinds = list(Notification.objects.filter(recipient=seller).values_list("kind", flat=True))
    assert "mentioned" not in kinds and "order_message" in kinds


def test_a_delivery_and_a_dispute_render_their_mentions(commit):
    staff = UserFactory(username="stella", is_staff=True)
    order = paid_order()
    services.order_start(order=order, by=order.seller)
    commit(services.order_deliver, order=order, by=order.seller, message="Done, cc @stella")
    delivery = OrderMessage.objects.get(order=order, is_delivery=True)
    assert link_to(staff) in delivery.body_html and mentions_of(staff) == 1
    commit(services.order_dispute, order=order, by=order.buyer, reason="Ask @stella")
    dispute = OrderMessage.objects.filter(order=order).latest("pk")
    assert link_to(staff) in dispute.body_html


def test_the_order_page_shows_the_stored_html(client):
    order = paid_order()
    services.order_message_post(order=order, by=order.buyer, body="Hello **there**")
    OrderMessage.objects.update(body_html="<p>stored message</p>")
    Order.objects.update(brief_html="<p>stored brief</p>")
    client.force_login(order.buyer)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "stored message" in page and "stored brief" in page


def test_the_api_message_twin_mentions_like_the_page(client, django_capture_on_commit_callbacks):
    staff = UserFactory(username="stella", is_staff=True)
    order = paid_order()
    client.force_login(order.buyer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("api-order-messages", args=[order.pk]),
            {"body": "@stella please"},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    assert mentions_of(staff) == 1


def test_an_empty_message_is_refused_and_records_nothing():
    order = paid_order()
    with pytest.raises(DomainError):
        services.order_message_post(order=order, by=order.buyer, body="  ")
    assert not Mention.objects.exists()


# --- Who may be suggested ----------------------------------------------------------------


NAMED = {"li", "lina", "lisbeth", "lior"}


def suggest(client, **params):
    # Factories give members random display names: none may start like the query by chance.
    User.objects.exclude(username__in=NAMED).update(display_name="Someone")
    return client.get(reverse("api-marketplace-mention-suggestions"), params)


def test_suggestions_on_an_order_are_its_parties_and_staff_only(client, li):
    buyer, seller = UserFactory(username="lina"), make_seller(username="lior")
    UserFactory(username="lisbeth", is_staff=True)
    order = place(OfferFactory(seller=seller), buyer)
    client.force_login(buyer)
    names = [m["username"] for m in suggest(client, order=order.pk, q="li").json()]
    assert names == ["lina", "lior", "lisbeth"]  # not li, a stranger to the order


def test_suggestions_for_a_brief_are_the_buyer_to_be_the_seller_and_staff(client, li):
    seller = make_seller(username="lior")
    offer = OfferFactory(seller=seller)
    client.force_login(UserFactory(username="lina"))
    names = [m["username"] for m in suggest(client, offer=offer.pk, order="new", q="li").json()]
    assert names == ["lina", "lior"]


def test_suggestions_on_a_public_offer_are_any_member(client, li):
    offer = OfferFactory()
    client.force_login(UserFactory(username="lina"))
    names = [m["username"] for m in suggest(client, offer=offer.pk, q="li").json()]
    assert names == ["li", "lina"]
    assert [m["username"] for m in suggest(client, q="li").json()] == ["li", "lina"]


def test_an_outsider_gets_404_for_an_order(member_api_client):
    order = place()
    assert suggest(member_api_client, order=order.pk).status_code == 404


@pytest.mark.parametrize("params", [{"order": "x"}, {"offer": "x"}, {"offer": "99999999"}])
def test_bad_suggestion_targets_get_404(member_api_client, params):
    assert suggest(member_api_client, **params).status_code == 404


def test_suggestions_need_a_signed_in_member(api_client):
    assert suggest(api_client, offer=OfferFactory().pk).status_code in (401, 403)


def test_the_order_page_editors_ask_the_orders_suggestions(client):
    order = paid_order()
    client.force_login(order.buyer)
    page = client.get(order.get_absolute_url()).content.decode()
    assert f"/api/marketplace/mentions/?order={order.pk}" in page


# --- The member's data ------------------------------------------------------------------------


def test_the_export_lists_an_order_mention_and_anonymising_forgets_it(commit):
    from peerhub import deletion, exports

    staff = UserFactory(username="stella", is_staff=True)
    order = paid_order()
    commit(services.order_message_post, order=order, by=order.buyer, body="@stella look")
    parts = {part.name: part for part in exports.site_parts(user=staff)}
    rows = parts["peerhub/mentions.json"].rows()
    assert [(r["item_type"], r["role"]) for r in rows] == [
        ("marketplace.ordermessage", "mentioned")
    ]
    deletion.account_anonymise(user=staff)
    assert not Mention.objects.filter(mentioned=staff).exists()


def test_the_mention_kind_has_its_icon_and_group_summary():
    from peerhub.notifications.kinds import get_kind

    kind = get_kind("mentioned")
    assert kind.icon == "at" and kind.social and kind.important
    assert kind.summary(3) == "3 mentions of you"


def test_an_offer_edited_in_the_admin_is_rendered_again_and_tells_no_one(rf, li, staff_user):
    from django.contrib.admin.sites import site

    offer = new_offer(make_seller(), "Before")
    offer.description = "After, with @li"
    site._registry[Offer].save_model(rf.post("/"), offer, form=None, change=True)
    offer.refresh_from_db()
    assert "After" in offer.description_html and link_to(li) in offer.description_html
    assert mentions_of(li) == 0


def test_selection_reasons_edited_in_the_admin_are_rendered_again(rf):
    from django.contrib.admin.sites import site

    from challenges.models import SelectionEntry

    admin = site._registry[SelectionEntry]
    assert admin.rendered_fields == {"reason": "reason_html", "winner_reason": "winner_reason_html"}
