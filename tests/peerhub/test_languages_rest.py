"""The texts the other areas left in English (issue 22): automatic revision notes, an offer's
edit-history values, a dispute's opening, the profile's reputation chart, a lineage drawing,
the hidden-comments queue, a challenge's history values, the ledger audit, the API's earning
reasons, the smallest purse contribution per currency and a selection round's name. Each reads
in the reader's language (checked in one or more shipped languages) and in English (the control)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from challenges import services as challenge_services
from challenges.history import challenge_value_shown
from challenges.models import Revision, SelectionRound
from challenges.revision_messages import shown_message
from marketplace import ledger
from marketplace import services as market_services
from marketplace.models import LedgerTransaction, OrderMessage
from marketplace.services import purses
from peerhub.exceptions import DomainError
from reputation import chart
from reputation.chart import Point
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.marketplace.factories import OfferFactory, delivered_order
from tests.marketplace.purse_helpers import contribute, funded_challenge, publish_winners
from tests.peerhub.test_chrome_languages import main

pytestmark = pytest.mark.django_db


def html_of(client, url, lang):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200, url
    return main(response.content.decode())


# --- 1. Automatic revision notes ---------------------------------------------------------------


def test_a_forks_note_is_stored_in_english_and_read_in_each_language(client):
    source = make_solution(title="Sand filter", author=UserFactory(display_name="Ana"))
    with translation.override("es"):  # whoever forks, the note is kept in English
        fork = challenge_services.solution_fork(source=source, by=UserFactory())
    note = fork.current_revision.message
    assert note == "Forked from “Sand filter” revision 1 by Ana"
    url = reverse("challenges:solution-history", args=[fork.pk])
    assert "Bifurcación de «Sand filter», revisión 1, de Ana" in html_of(client, url, "es")
    assert "Fork de « Sand filter », révision 1, par Ana" in html_of(client, url, "fr")
    assert "فرع من «Sand filter»، المراجعة 1، لـAna" in html_of(client, url, "ar")
    english = html_of(client, url, "en")
    assert "Forked from “Sand filter” revision 1 by Ana" in english
    first = reverse("challenges:solution-history", args=[source.pk])
    assert "Primera versión" in html_of(client, first, "es")
    assert "First version" in html_of(client, first, "en")


def test_old_notes_stored_in_another_language_are_read_in_the_readers():
    old = "Bifurcación de «Sand filter», revisión 3, de Ana"  # written before, by a Spanish reader
    with translation.override("pt-br"):
        assert shown_message(old) == "Fork de “Sand filter”, revisão 3, de Ana"
    with translation.override("en"):
        assert shown_message(old) == "Forked from “Sand filter” revision 3 by Ana"
        assert shown_message("Fixed the typo") == "Fixed the typo"  # the author's own words


def test_changes_taken_from_a_fork_are_noted_in_english_and_read_in_french():
    root = make_solution(title="Solar still", author=UserFactory(display_name="Ana"))
    fork = make_fork(root, UserFactory(display_name="Bo"))
    fork.title = "Solar still"
    proposal = challenge_services.upstream_propose(fork=fork, by=fork.author, message="Take it.")
    with translation.override("ar"):
        revision = challenge_services.upstream_accept(proposal=proposal, by=root.author)
    revision = Revision.objects.get(pk=revision.pk)
    assert revision.message.startswith("Accepted changes from the fork “")
    with translation.override("fr"):
        assert revision.shown_message.startswith("Modifications acceptées du fork « ")
        assert revision.shown_message.endswith("de Bo (révision 2)")


# --- 2. Offer edit-history values ---------------------------------------------------------------


def test_an_offers_history_values_read_in_the_readers_language(client):
    offer = OfferFactory(price=10000, delivery_days=7)
    market_services.offer_update(
        offer=offer, by=offer.seller, price=12500, delivery_days=1, is_active=False
    )
    client.force_login(offer.seller)
    url = reverse("marketplace:offer-history", args=[offer.pk])
    french = html_of(client, url, "fr")
    for english in ("paused", ">days<", ">day<", "EUR"):
        assert english not in french
    assert "non, en pause" in french and ">jours<" in french and "€" in french
    spanish = html_of(client, url, "es")
    assert "no, en pausa" in spanish and ">días<" in spanish
    english = html_of(client, url, "en")
    assert "no, paused" in english and ">days<" in english and "€<del>100</del>.00" in english


# --- 3. A dispute's opening ---------------------------------------------------------------------


def test_a_disputes_message_opens_in_the_readers_language(client):
    order = delivered_order()
    market_services.order_dispute(order=order, by=order.buyer, reason="Nothing came.")
    assert OrderMessage.objects.filter(body="Dispute: Nothing came.").exists()  # kept as is
    client.force_login(order.buyer)
    url = reverse("marketplace:order-detail", args=[order.pk])
    spanish = html_of(client, url, "es")
    assert "Dispute:" not in spanish and "<p>Disputa: Nothing came.</p>" in spanish
    assert "Litige : Nothing came." in html_of(client, url, "fr")
    assert "<p>Dispute: Nothing came.</p>" in html_of(client, url, "en")


# --- 4, 5. The profile's reputation chart, a lineage drawing --------------------------------------


def test_the_profile_chart_and_a_lineage_drawing_are_labelled_in_the_readers_language(
    client, monkeypatch
):
    day = timezone.now().date()
    points = [Point(day - timedelta(days=3), Decimal(1)), Point(day, Decimal(4))]
    monkeypatch.setattr(chart, "reputation_series", lambda member: points)
    member = UserFactory(display_name="Ana")
    root = make_solution(title="Sand filter", author=member)
    make_fork(root)
    profile = reverse("profile", args=[member.username])
    assert "Reputación de Ana a lo largo del tiempo" in html_of(client, profile, "es")
    assert "Reputation of Ana over time" not in html_of(client, profile, "es")
    assert "Reputation of Ana over time" in html_of(client, profile, "en")
    evolution = reverse("reputation:evolution", args=[root.challenge.slug])
    french = html_of(client, evolution, "fr")
    assert "Lineage of" not in french and "Lignée de" in french
    assert "Lineage of" in html_of(client, evolution, "en")


# --- 6. The staff dashboard's queues -------------------------------------------------------------


def test_the_hidden_comments_queue_is_named_in_the_readers_language(client, staff_user):
    client.force_login(staff_user)
    url = reverse("staff-dashboard")
    arabic = html_of(client, url, "ar")
    assert "Hidden comments" not in arabic and "التعليقات المخفية" in arabic
    assert "Comentários ocultos" in html_of(client, url, "pt-br")
    assert "Hidden comments" in html_of(client, url, "en")


# --- 7. A challenge's history values --------------------------------------------------------------


def test_a_challenges_kept_values_read_in_the_readers_language():
    with translation.override("es"):
        assert challenge_value_shown("closes_at", "none") == "ninguna"
        assert challenge_value_shown("visibility", "Public") == "Público"
        assert challenge_value_shown("title", "none") == "none"  # a title is its author's words
    with translation.override("en"):
        assert challenge_value_shown("visibility", "Public") == "Public"


# --- 8. The ledger audit and the API's earning reasons -------------------------------------------


def test_the_ledger_audit_speaks_the_readers_language():
    txn = LedgerTransaction.objects.create(key="test:empty", kind="correction")
    with translation.override("fr"):
        assert f"la transaction {txn.pk} n\u2019a aucune écriture" in ledger.audit()
    with translation.override("en"):
        assert f"transaction {txn.pk} has no entries" in ledger.audit()


def test_the_apis_earning_reason_is_the_earnings_pages():
    challenge = funded_challenge(amounts=(10000,), places=(100,))
    root = make_solution(challenge, title="The first filter")
    winner = make_fork(make_fork(root))
    publish_winners(challenge, [winner])
    api = APIClient()
    api.force_authenticate(root.author)
    portuguese = api.get("/api/earnings/", HTTP_ACCEPT_LANGUAGE="pt-br").json()["results"]
    assert portuguese[0]["reason"].startswith("Parte da linhagem do prêmio de ")
    english = api.get("/api/earnings/", HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    assert english[0]["reason"].startswith("Lineage share of the award to")


# --- 9. The smallest contribution per currency ---------------------------------------------------


def test_the_smallest_contribution_fits_each_currency(settings):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "purse_min_contribution": 500}
    assert purses.min_contribution("EUR") == 500  # 5.00 €
    assert purses.min_contribution("JPY") == 500  # ¥500, not ¥5
    assert purses.min_contribution("KWD") == 5000  # 5.000 KWD, not 0.500


def test_the_smallest_contribution_is_told_in_the_readers_format(settings):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "purse_min_contribution": 500}
    challenge = funded_challenge(amounts=())
    with translation.override("fr"), pytest.raises(DomainError) as refused:
        contribute(challenge, UserFactory(), 499)
    assert "5,00\xa0€" in refused.value.message
    with translation.override("en"), pytest.raises(DomainError) as refused:
        contribute(challenge, UserFactory(), 499)
    assert refused.value.message == "The smallest contribution is €5.00."


# --- 10. A selection round's name -----------------------------------------------------------------


def test_an_untitled_round_is_named_in_the_readers_language():
    selection_round = SelectionRound(challenge=ChallengeFactory(), number=2, title="")
    with translation.override("es"):
        assert str(selection_round) == "Ronda 2"
    with translation.override("en"):
        assert str(selection_round) == "Round 2"
