"""The marketplace in every shipped language (issue 22): the service list, a service's page, the
offer form, the order list, an order's page (delivered, and in dispute), the Premium page, the
order services' refusals and the API's errors read in the reader's language, and none of their
English is left behind. Each page also has an English control, so the lists cannot go stale."""

import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from marketplace import services
from marketplace.models import Order
from peerhub.exceptions import DomainError
from tests.factories import UserFactory, make_solution
from tests.helpers import clear_caches
from tests.peerhub.test_chrome_languages import LANGUAGES, assert_page_reads_in, main

from .factories import OfferFactory, delivered_order, make_seller, paid_order, place

pytestmark = pytest.mark.django_db

# English of each page's own body, none of which is also the word in a shipped language
# ("Description", "Messages", "Premium", "Plan", "Links", "Status" are).
PAGE_ENGLISH = {
    # the service list, seen by a trusted member who may sell
    "offers": [
        "Revenue that funds the commons",
        "Everything generic on PeerHub is free",
        "Offer a service",
        ">My orders<",
        "Filter offers",
        "Search services",
        "Challenge slug",
        "Delivery within (days)",
        "Seller level",
        "Any seller",
        ">Newest<",
        "Price: low to high",
        "Fastest delivery",
        "Best rated",
        ">member+<",
        "Builds on ",
        "(level ",
        " days<",
        " completed<",
    ],
    # a service's page, seen by a member who may order it
    "offer": [
        " · service · ",
        "Edit history",
        "(level ",
        "reputation ",
        ">delivery<",
        "7 days",
        "slots in use",
        "completed orders",
        "Order this service",
        "Ordering holds a slot",
        "held in escrow",
        "What do you need?",
        "Files for the brief",
        "Required: what you need",
        "No reviews yet.",
        ">Flag<",
    ],
    # the seller's form for a new service
    "form": [
        "Offer a service",
        "A hand-made service",
        "List the offer",
        ">Title",
        "Base solution",
        "Delivery (days)",
        "Active (take new orders)",
        "What the buyer pays, fee included.",
        "How many orders may be active at once.",
        "Paused offers take no new orders.",
    ],
    # the buyer's orders
    "orders": [
        ">My orders<",
        ">Bought<",
        ">Sold<",
        ">With<",
        ">Placed<",
        ">State<",
        "<td>seller ",
        ">Delivered<",
        ">Disputed<",
        ">Balance<",
        "</span> available",
        "Request a payout",
        "A payout cannot be called back",
    ],
    # a delivered order, seen by its buyer
    "delivered": [
        "My orders",
        "order #",
        "Buyer <a",
        "the offer</a>",
        ">Delivered<",
        "Accept the delivery",
        "Something wrong?",
        "Open a dispute",
        "What went wrong?",
        ">Delivery<",
        ">Send<",
        ">Money<",
        "Held in escrow",
        "once completed",
        "Platform fee (",
        "For the seller",
        ">expected<",
        "completes by itself",
        ">Timeline<",
        "Waiting for payment",
        "Paid (in escrow)",
        "In progress",
        "Payment received into escrow.",
    ],
    # the same order in dispute, seen by its buyer
    "disputed": [
        ">Disputed<",
        "Held in escrow",
        "if released",
        ">Timeline<",
        "Payment received into escrow.",
        "Paid (in escrow)",
        ">Delivery<",
    ],
    # an order in progress, seen by its seller, who may deliver or decline it
    "working": [
        ">In progress<",
        "Decline and refund",
        "The buyer is refunded in full",
        ">Deliver<",
        "One per line",
        "No messages yet.",
        "For the seller, once completed",
    ],
    # a completed order, seen by its buyer, who may review it
    "completed": [
        ">Completed<",
        "Review this order",
        "Your rating",
        "(required)",
        "1 star<",
        "5 stars<",
        "Your review",
        "Publish the review",
        "Paid to the seller",
        "Platform fee kept",
        "Accepted by the buyer.",
    ],
    # the sandbox checkout of an order, seen by its buyer
    "checkout": [
        "Sandbox payment provider",
        "test mode",
        "No real money moves here",
        ">Pending<",
        "Pay (card accepted)",
        "Decline the card",
        "Leave pending",
        ">Back<",
    ],
    # the Free and Premium page, seen by a member without Premium
    "premium": [
        "Free and Premium",
        "Everything generic on PeerHub is free",
        "Premium is for organisers",
        " a month, or ",
        " a year",
        ">Subscribe<",
        "for ever",
        "Monthly",
        "Yearly",
        ">Free<",
    ],
}

# a phrase of each page in each language
PHRASE = {
    "offers": {
        "es": "Ingresos que financian lo común",
        "fr": "Des revenus qui financent les communs",
        "pt-br": "Receita que financia o que é de todos",
        "ar": "دخل يموّل المشاع",
    },
    "offer": {
        "es": "Pedir este servicio",
        "fr": "Commander cette prestation",
        "pt-br": "Pedir este serviço",
        "ar": "اطلب هذه الخدمة",
    },
    "form": {
        "es": "Publicar el servicio",
        "fr": "Publier la prestation",
        "pt-br": "Publicar o serviço",
        "ar": "انشر الخدمة",
    },
    "orders": {
        "es": "Mis pedidos",
        "fr": "Mes commandes",
        "pt-br": "Meus pedidos",
        "ar": "طلباتي",
    },
    "delivered": {
        "es": "Aceptar la entrega",
        "fr": "Accepter la livraison",
        "pt-br": "Aceitar a entrega",
        "ar": "اقبل التسليم",
    },
    "disputed": {
        "es": "Pago recibido y guardado en depósito.",
        "fr": "Paiement reçu et placé sous séquestre.",
        "pt-br": "Pagamento recebido e retido em garantia.",
        "ar": "استُلم الدفع وحُفظ في الضمان.",
    },
    "working": {
        "es": "Rechazar y reembolsar",
        "fr": "Refuser et rembourser",
        "pt-br": "Recusar e reembolsar",
        "ar": "ارفض واسترد المبلغ",
    },
    "completed": {
        "es": "Valora este pedido",
        "fr": "Évaluez cette commande",
        "pt-br": "Avalie este pedido",
        "ar": "قيّم هذا الطلب",
    },
    "checkout": {
        "es": "Pagar (tarjeta aceptada)",
        "fr": "Payer (carte acceptée)",
        "pt-br": "Pagar (cartão aceito)",
        "ar": "ادفع (بطاقة مقبولة)",
    },
    "premium": {
        "es": "Gratis y Premium",
        "fr": "Gratuit et Premium",
        "pt-br": "Grátis e Premium",
        "ar": "المجاني وPremium",
    },
}


@pytest.fixture
def pages(client):
    """Every page of the area, each with the member who sees the most of it, as (url, member)."""
    clear_caches()
    seller = make_seller(language="")
    solution = make_solution(author=seller, title="Sand filter")
    offer = OfferFactory(seller=seller, title="Adapt the filter", base_solution=solution)
    buyer = UserFactory(language="")
    delivered = delivered_order(offer=offer, buyer=buyer)
    disputed = delivered_order(offer=OfferFactory(title="Solar pump"), buyer=buyer)
    services.order_dispute(order=disputed, by=buyer, reason="Wrong town")
    working = paid_order(offer=OfferFactory(seller=seller, title="Rain barrels"))
    services.order_start(order=working, by=seller)
    completed = delivered_order(offer=OfferFactory(title="Workshop"), buyer=buyer)
    services.order_accept(order=completed, by=buyer)
    unpaid = place(offer=OfferFactory(title="Review"), buyer=buyer)
    checkout = services.order_pay(order=unpaid, by=buyer).checkout_url
    return {
        "offers": (reverse("marketplace:offer-list"), seller),
        "offer": (offer.get_absolute_url(), UserFactory(language="")),
        "form": (reverse("marketplace:offer-create"), seller),
        "orders": (reverse("marketplace:order-list"), buyer),
        "delivered": (delivered.get_absolute_url(), buyer),
        "disputed": (disputed.get_absolute_url(), buyer),
        "working": (working.get_absolute_url(), seller),
        "completed": (completed.get_absolute_url(), buyer),
        "checkout": (checkout, buyer),
        "premium": (reverse("marketplace:subscription"), UserFactory(language="")),
    }


def page_html(client, pages, page: str, language: str) -> str:
    url, member = pages[page]
    client.force_login(member)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    return response.content.decode()


@pytest.mark.parametrize("page", PAGE_ENGLISH)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_marketplace_pages_are_in_the_readers_language(client, pages, page, language):
    html = page_html(client, pages, page, language)
    assert_page_reads_in(
        html, language, english=PAGE_ENGLISH[page], phrase=PHRASE[page][language], page=page
    )


@pytest.mark.parametrize("page", PAGE_ENGLISH)
def test_the_marketplace_pages_in_english_say_what_the_languages_translate(client, pages, page):
    body = main(page_html(client, pages, page, "en"))
    assert [phrase for phrase in PAGE_ENGLISH[page] if phrase not in body] == []


def test_the_members_own_words_stay_as_written(client, pages):
    body = main(page_html(client, pages, "offers", "fr"))
    assert "Adapt the filter" in body and "Sand filter" in body
    body = main(page_html(client, pages, "disputed", "ar"))
    assert "Wrong town" in body  # the buyer's reason, in the timeline and the thread


def test_money_reads_as_the_reader_writes_it(client, pages):
    body = main(page_html(client, pages, "orders", "fr"))
    assert "0,00\xa0€" in body  # the empty balance, in the site's currency
    assert "100,00\xa0€" in body


def test_an_order_services_refusal_is_in_spanish():
    order = paid_order()
    with translation.override("es"):
        with pytest.raises(DomainError) as refused:
            services.order_deliver(order=order, by=order.seller, message="Aquí está")
        assert refused.value.code == "invalid_transition"
        assert refused.value.message == (
            "Un pedido en estado «pagado (en depósito)» no se puede entregar."
        )
        with pytest.raises(DomainError) as refused:
            services.order_accept(order=order, by=order.seller)
        assert refused.value.message == "Solo el comprador puede aceptar este pedido."
        services.order_start(order=order, by=order.seller)
        with pytest.raises(DomainError) as refused:
            services.order_deliver(order=order, by=order.seller, message="  ")
        assert (refused.value.code, refused.value.message) == ("empty_delivery", "Di qué entregas.")
    order.refresh_from_db()
    assert order.state == Order.State.IN_PROGRESS


def test_an_api_error_is_in_french():
    offer = OfferFactory()
    api = APIClient()
    api.force_authenticate(offer.seller)
    response = api.post(
        "/api/orders/",
        {"offer": offer.pk, "brief": "Pour Lyon"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 403
    assert "Vous ne pouvez pas acheter votre propre prestation." in response.content.decode()
    buyer = APIClient()
    buyer.force_authenticate(UserFactory())
    response = buyer.post(
        "/api/orders/", {"offer": offer.pk}, format="json", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.status_code == 400
    assert "Dites au vendeur ce dont vous avez besoin" in response.content.decode()
    english = buyer.post("/api/orders/", {"offer": offer.pk}, format="json")
    assert "Tell the seller what you need" in english.content.decode()


def test_flash_messages_and_form_errors_are_in_the_readers_language(client):
    order = paid_order(buyer=UserFactory(language=""))
    client.force_login(order.seller)
    response = client.post(
        reverse("marketplace:order-step", args=[order.pk, "start"]),
        HTTP_ACCEPT_LANGUAGE="pt-br",
        follow=True,
    )
    assert "Iniciado: o comprador vê que o pedido está em andamento." in response.content.decode()
    client.force_login(order.buyer)
    response = client.post(
        reverse("marketplace:order-place", args=[OfferFactory().pk]),
        {"brief": ""},
        HTTP_ACCEPT_LANGUAGE="ar",
    )
    assert response.status_code == 400
    assert "أخبر البائع بما تحتاج إليه: وصف الطلب إلزامي." in response.content.decode()


def test_the_timeline_reads_its_notes_in_the_readers_language():
    order = delivered_order()
    services.order_accept(order=order, by=order.buyer)
    notes = [event.note_display for event in order.events.all() if event.note]
    assert notes == ["Payment received into escrow.", "Accepted by the buyer."]
    with translation.override("fr"):
        notes = [event.note_display for event in order.events.all() if event.note]
    assert notes == ["Paiement reçu et placé sous séquestre.", "Acceptée par l\u2019acheteur."]
