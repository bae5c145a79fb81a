"""The prize purse page and its rules, a member's earnings with the payout form, and staff's
money and wash-trading pages in every shipped language (issue 22), with an English control; and
the purse's refusals (a service's DomainError, the API's JSON error, a flash message) in the
reader's language."""

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from marketplace import wash
from peerhub.exceptions import DomainError
from tests.factories import UserFactory, make_fork, make_solution
from tests.helpers import clear_caches
from tests.marketplace.purse_helpers import contribute, funded_challenge, publish_winners
from tests.marketplace.test_wash import Market
from tests.peerhub.test_chrome_languages import LANGUAGES, assert_page_reads_in, main

pytestmark = pytest.mark.django_db

# English each page says (headings, rules, buttons, labels, table heads), none of which is also
# the phrase in a shipped language.
PAGE_ENGLISH = {
    # an open purse with a named and an anonymous backer, seen by a member who may contribute
    "purse": [
        "In the purse",
        "contributed by",
        "platform fee.",
        "Taking contributions",
        "Add to the purse",
        "Amount in EUR",
        "What you pay, the platform fee included.",
        "Name shown among the backers",
        "Leave empty to back anonymously.",
        "of what you pay as its fee",
        "The smallest contribution is",
        "You pay on the next page.",
        ">Contribute<",
        "The rules",
        "The purse is split by place",
        "for place",
        "of each award goes to the people",
        "Cents are rounded down",
        "PeerHub keeps a fee of",
        "Contributions are taken until",
        "every backer is refunded",
        "Prize money is not reputation",
        ">Backers<",
        "An anonymous backer",
    ],
    # the same purse once awarded to a fork of a fork: where the money went
    "flow": [
        "Where the money went",
        "Each winner's award",
        "The lineage of each winning solution",
        "Every payment from the purse",
        "Paid to",
        "For what and why",
        "Award for place",
        "before lineage shares",
        "Lineage share of the award to",
        "generation up",
        "generations up",
        ">Awarded<",
        "Where the purse of",
        "winner keeps",
    ],
    # the author of the root of a winning lineage, with a lineage share in their balance
    "earnings": [
        "Your earnings",
        "Available to pay out",
        "Request a payout",
        "Empty: everything available.",
        "two-factor authentication",
        "From prizes and lineage",
        "Prize awards",
        "Lineage shares of others' awards",
        "Royalties on services built on your work",
        "Money is not reputation",
        "Every payment<",
        ">When<",
        ">Reason<",
        ">Amount<",
        "Lineage share of a prize award",
        "Lineage share of the award to",
    ],
    # staff, with an open purse holding money
    "staff_money": [
        "Marketplace money",
        "The ledger audit passes",
        "Platform accounts",
        "Provider clearing",
        "Platform revenue",
        "Challenge prize escrow",
        "Revenue by month",
        "Prize purses and lineage money",
        "Paid so far",
        ">Held<",
        "Taking contributions",
        "Provider events for staff",
        "Verified events that named no payment",
        ">Attempts<",
        "None: every event matched its payment.",
        "Refunds and payouts not done",
        "Workers send them",
        "Last error",
        "None: every refund and payout is done.",
        "Latest provider events",
        "Every provider event",
        "every refund",
        "every payout",
        "Disputed orders",
        "Every ledger transaction",
    ],
    # staff, with a ring of two members buying from each other, one order cleared by staff
    "staff_wash": [
        "Suspected wash trades",
        "Not counted: buyer and seller trade mostly with each other.",
        "A completed order is suspected",
        "The public rule",
        "Orders (",
        "Buyer / seller",
        ">Completed<",
        "Staff decision<",
        "circle of 2",
        "of their orders",
        "Why it is honest",
        "Clear: count it",
        "Staff decisions",
        "The latest decision about an order",
        "By, when",
        ">cleared",
        "counted",
        "Why it is a wash trade",
        "Flag again",
    ],
}

# a phrase of each page in each language
PHRASE = {
    "purse": {
        "es": "Aportar a la bolsa",
        "fr": "Contribuer à la cagnotte",
        "pt-br": "Contribuir com a bolsa",
        "ar": "ساهم في الصندوق",
    },
    "flow": {
        "es": "Adónde fue el dinero",
        "fr": "Où est allé l\u2019argent",
        "pt-br": "Para onde foi o dinheiro",
        "ar": "أين ذهب المال",
    },
    "earnings": {
        "es": "Tus ganancias",
        "fr": "Vos gains",
        "pt-br": "Seus ganhos",
        "ar": "أرباحك",
    },
    "staff_money": {
        "es": "Dinero del mercado",
        "fr": "Argent de la place de marché",
        "pt-br": "Dinheiro do marketplace",
        "ar": "أموال السوق",
    },
    "staff_wash": {
        "es": "Posibles operaciones ficticias",
        "fr": "Transactions fictives présumées",
        "pt-br": "Suspeitas de operações fictícias",
        "ar": "صفقات يُشتبه في أنها وهمية",
    },
}


@pytest.fixture
def purse_page(client):
    clear_caches()
    challenge = funded_challenge(amounts=(5000,))
    contribute(challenge, UserFactory(), 2000, name="Riverside school")
    client.force_login(UserFactory(language=""))
    return reverse("marketplace:purse", kwargs={"slug": challenge.slug})


@pytest.fixture
def awarded():
    clear_caches()
    challenge = funded_challenge(amounts=(10000,), places=(100,))
    root = make_solution(challenge, title="The first filter")
    winner = make_fork(make_fork(root))
    publish_winners(challenge, [winner])
    return challenge, root


@pytest.fixture
def flow_page(client, awarded):
    challenge, _root = awarded
    client.force_login(UserFactory(language=""))
    return reverse("marketplace:purse", kwargs={"slug": challenge.slug})


@pytest.fixture
def earnings_page(client, awarded):
    _challenge, root = awarded
    root.author.language = ""
    root.author.save(update_fields=["language"])
    client.force_login(root.author)
    return reverse("marketplace:earnings")


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True, language="")


@pytest.fixture
def staff_money_page(client, staff):
    clear_caches()
    funded_challenge(amounts=(5000,))
    client.force_login(staff)
    return reverse("marketplace:staff-money")


@pytest.fixture
def staff_wash_page(client, staff):
    clear_caches()
    market = Market(2)
    cleared = market.trade(0, 1)
    market.trade(1, 0)
    with TestCase.captureOnCommitCallbacks(execute=True):
        wash.wash_clear(order=cleared, by=staff, reason="Partners, invoiced elsewhere.")
    client.force_login(staff)
    return reverse("marketplace:staff-wash")


PAGES = {
    "purse": "purse_page",
    "flow": "flow_page",
    "earnings": "earnings_page",
    "staff_money": "staff_money_page",
    "staff_wash": "staff_wash_page",
}


def read(client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return main(response.content.decode())


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_is_in_the_readers_language(client, request, page, language):
    url = request.getfixturevalue(PAGES[page])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    html = response.content.decode()
    assert_page_reads_in(
        html, language, english=PAGE_ENGLISH[page], phrase=PHRASE[page][language], page=page
    )


@pytest.mark.parametrize("page", PAGES)
def test_the_page_in_english_says_what_the_languages_translate(client, request, page):
    body = read(client, request.getfixturevalue(PAGES[page]), "en")
    assert [phrase for phrase in PAGE_ENGLISH[page] if phrase not in body] == []


def test_the_members_own_words_stay_as_written(client, purse_page):
    assert "Riverside school" in read(client, purse_page, "fr")


# --- Texts made in Python -----------------------------------------------------------------------


def test_a_contribution_below_the_minimum_is_refused_in_spanish(settings):
    challenge = funded_challenge(amounts=())
    too_little = settings.PEERHUB_MARKETPLACE["purse_min_contribution"] - 1
    with translation.override("es"), pytest.raises(DomainError) as refused:
        contribute(challenge, UserFactory(), too_little)
    assert refused.value.code == "too_small"
    assert refused.value.message.startswith("La aportación mínima es de ")


def test_the_purse_rules_refusal_is_in_french():
    from marketplace.services import purses

    challenge = funded_challenge(amounts=())
    with translation.override("fr"), pytest.raises(DomainError) as refused:
        purses.purse_configure(
            challenge=challenge, by=challenge.created_by, mode="places", places=[30, 70]
        )
    assert refused.value.code == "invalid_places"
    assert refused.value.message == (
        "Un meilleur rang ne reçoit jamais moins qu\u2019un rang inférieur."
    )


def test_the_api_refuses_a_small_contribution_in_arabic(settings):
    challenge = funded_challenge(amounts=())
    client = APIClient()
    client.force_authenticate(UserFactory(language=""))
    response = client.post(
        f"/api/purses/{challenge.slug}/contributions/",
        {"amount": settings.PEERHUB_MARKETPLACE["purse_min_contribution"] - 1},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ar",
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "too_small"
    assert error["message"].startswith("أقل مساهمة ممكنة")


def test_a_wash_decision_is_confirmed_in_portuguese(client, staff):
    market = Market(2)
    market.trade(0, 1)
    order = market.trade(1, 0)
    client.force_login(staff)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("marketplace:staff-wash-decide", args=[order.pk, "clear"]),
            {"reason": "Parceiros antigos."},
            HTTP_ACCEPT_LANGUAGE="pt-br",
            follow=True,
        )
    assert f"Pedido nº {order.pk} liberado: ele volta a contar." in response.content.decode()


def test_the_rules_form_speaks_the_organisers_language(client):
    challenge = funded_challenge(amounts=())
    organiser = challenge.created_by
    organiser.language = ""
    organiser.save(update_fields=["language"])
    client.force_login(organiser)
    url = reverse("marketplace:purse", kwargs={"slug": challenge.slug})
    body = read(client, url, "es")
    assert "Cambiar las reglas del premio" in body
    assert "Porcentaje por puesto" in body and "Reembolsar a todos los mecenas" in body
    for english in ("Percentage per place", "Refund every backer", "Save the prize rules"):
        assert english not in body
