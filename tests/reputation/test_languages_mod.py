"""Community moderation in every shipped language (issue 22): the flag form, my flags, the review
queue, a case page (for its reviewer and its author), the public moderation record and the staff's
trust review read in the reader's language, with none of their English left behind; flagging
refusals, flash messages and the moderation API's errors speak the reader's language too.

The labels of flag reasons, case statuses and moderation actions are model choices (reputation.
models), so the phrases below avoid them."""

import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from peerhub.exceptions import DomainError
from reputation import trust
from reputation.models import ModerationCase, Vote
from reputation.moderation import services
from tests.factories import ChallengeFactory, UserFactory, make_solution
from tests.helpers import assert_error, clear_caches
from tests.peerhub.test_chrome_languages import LANGUAGES, assert_page_reads_in, main
from tests.reputation.flag_helpers import make_item, member, moderator

pytestmark = pytest.mark.django_db

# English of each page's own body, none of which is also the words in a shipped language.
PAGE_ENGLISH = {
    "flag": [
        "Flag this solution",
        "Flags go to the review queue",
        "public moderation record",
        "What is wrong with it?",
        "Anything reviewers should know?",
        "required for “Something else”",
        ">Cancel<",
    ],
    "my flags": [
        "How reviewers judged your flags",
        "how flags weigh",
        "A declined flag never costs reputation",
        "</strong> helpful",
        "</strong> declined",
        "</strong> awaiting review",
        'aria-label="Your record"',
        'aria-label="Your flags"',
        ">Flagged<",
        ">Reason<",
        ">When<",
        ">Outcome<",
        ">A solution<",
    ],
    "queue": [
        "Review queue",
        "Flagged items, one card per item",
        "under your role, not your name",
        ">A solution<",
        "weight ",
        "joined ",
        "confirmed flag",
        "restored before",
        "See it in place",
        "Reasons:",
        "Agree: hide",
        "Agree: remove",
        "Disagree: restore",
        ">Defer<",
    ],
    "case": [
        "What happened",
        "See it in place",
        "Reasons:",
        "Agree: hide",
        "Disagree: restore",
        "confirmed flag",
    ],
    "appeal": [
        "Members flagged your solution",
        "You may edit it, and you may appeal below",
        "Why should it be shown again?",
        ">Appeal<",
        "What happened",
    ],
    "log": [
        "Moderation record",
        "Everything moderation did",
        "Flaggers and moderators are never named",
        "how flags weigh",
        'aria-label="Moderation actions"',
        ">When<",
        ">Rule<",
        ">By<",
        ">A solution<",
    ],
    "trust": [
        "Trust review",
        "staff only",
        "nobody is banned",
        "Snapshot ",
        "endorsement pairs",
        "members low-trust",
        "Densest mutual-voting clusters",
        "Voting clusters",
        "Mutual pairs",
        "Pairs of members who upvote each other",
        "Mean trust",
        "Lowest trust",
        ">Member<",
        ">ledger<",
    ],
}

# a phrase of each page in each language
PHRASES = {
    "flag": {
        "es": "Denunciar esta solución",
        "fr": "Signaler cette solution",
        "pt-br": "Denunciar esta solução",
        "ar": "الإبلاغ عن هذا الحل",
    },
    "my flags": {
        "es": "Mis denuncias",
        "fr": "Mes signalements",
        "pt-br": "Minhas denúncias",
        "ar": "بلاغاتي",
    },
    "queue": {
        "es": "De acuerdo: ocultar",
        "fr": "D'accord : masquer",
        "pt-br": "Concordo: ocultar",
        "ar": "موافق: إخفاء",
    },
    "case": {
        "es": "Qué ha pasado",
        "fr": "Historique",
        "pt-br": "O que aconteceu",
        "ar": "ما الذي جرى",
    },
    "appeal": {
        "es": "Algunos miembros denunciaron tu solución",
        "fr": "Des membres ont signalé votre solution",
        "pt-br": "Membros denunciaram seu conteúdo (solução)",
        "ar": "أبلغ أعضاء عن محتواك (حل)",
    },
    "log": {
        "es": "Registro de moderación",
        "fr": "Registre de modération",
        "pt-br": "Registro de moderação",
        "ar": "سجل الإشراف",
    },
    "trust": {
        "es": "Grupos de votos mutuos más densos",
        "fr": "Groupes de votes mutuels les plus denses",
        "pt-br": "Grupos de votos mútuos mais densos",
        "ar": "أكثف مجموعات التصويت المتبادل",
    },
}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def flagged(commit):
    """A solution flagged as spam past the threshold (hidden pending review), its author, its
    flaggers and a moderator-level member who may decide it."""
    clear_caches()
    item, author = make_item("solution", author=member(language=""))
    flaggers = [member(username=f"flagger{i}", language="") for i in range(3)]
    for flagger in flaggers:
        commit(services.flag_create, flagger=flagger, kind="solution", object_id=item.pk,
               reason="spam")  # fmt: skip
    case = ModerationCase.objects.get()
    return {
        "case": case,
        "item": item,
        "author": author,
        "flagger": flaggers[0],
        "reviewer": moderator(language=""),
    }


@pytest.fixture
def trust_review():
    """A trust snapshot with a ring of members who upvote each other, seen by staff."""
    clear_caches()
    staff = UserFactory(is_staff=True, language="")
    honest = UserFactory.create_batch(6)
    ring = [UserFactory(username=f"ringer{i}") for i in range(4)]
    challenge = ChallengeFactory()
    posts = {m.pk: make_solution(challenge, m) for m in [staff, *honest, *ring]}
    for i, one in enumerate([staff, *honest]):
        for other in [staff, *honest][i + 1 : i + 4]:
            Vote.objects.create(voter=one, solution=posts[other.pk], value=1)
            Vote.objects.create(voter=other, solution=posts[one.pk], value=1)
    for a in ring:
        for b in ring:
            if a != b:
                Vote.objects.create(voter=a, solution=posts[b.pk], value=1)
    trust.trust_compute()
    return staff


def page_of(client, page: str, flagged=None, staff=None) -> tuple[object, str]:
    """(who reads it, its URL) for each page of the area."""
    if page == "flag":
        return member(language=""), reverse(
            "reputation:flag", args=["solution", flagged["item"].pk]
        )
    if page == "my flags":
        return flagged["flagger"], reverse("reputation:my-flags")
    if page == "queue":
        return flagged["reviewer"], reverse("reputation:review-queue")
    if page == "case":
        return flagged["reviewer"], reverse("reputation:moderation-case", args=[flagged["case"].pk])
    if page == "appeal":
        return flagged["author"], reverse("reputation:moderation-case", args=[flagged["case"].pk])
    if page == "log":
        return None, reverse("reputation:moderation-log")
    return staff, reverse("reputation:trust-moderation")


def read(client, user, url: str, language: str) -> str:
    if user is not None:
        client.force_login(user)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    return response.content.decode()


FLAGGED_PAGES = ["flag", "my flags", "queue", "case", "appeal", "log"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", FLAGGED_PAGES)
def test_the_moderation_pages_are_in_the_readers_language(client, flagged, page, language):
    user, url = page_of(client, page, flagged)
    html = read(client, user, url, language)
    assert_page_reads_in(
        html, language, english=PAGE_ENGLISH[page], phrase=PHRASES[page][language], page=page
    )


@pytest.mark.parametrize("page", FLAGGED_PAGES)
def test_the_moderation_pages_in_english_say_what_the_languages_translate(client, flagged, page):
    user, url = page_of(client, page, flagged)
    html = main(read(client, user, url, "en"))
    assert [phrase for phrase in PAGE_ENGLISH[page] if phrase not in html] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_trust_review_is_in_the_staffs_language(client, trust_review, language):
    html = main(read(client, trust_review, reverse("reputation:trust-moderation"), language))
    assert [phrase for phrase in PAGE_ENGLISH["trust"] if phrase in html] == []
    assert PHRASES["trust"][language] in html
    assert "ringer0" in html  # the members' own names stay as written


def test_the_trust_review_in_english_says_what_the_languages_translate(client, trust_review):
    html = main(read(client, trust_review, reverse("reputation:trust-moderation"), "en"))
    assert [phrase for phrase in PAGE_ENGLISH["trust"] if phrase not in html] == []


def test_the_trust_review_without_a_snapshot_is_in_french(client):
    client.force_login(UserFactory(is_staff=True, language=""))
    html = main(read(client, None, reverse("reputation:trust-moderation"), "fr"))
    assert "No trust snapshot yet" not in html
    assert "Aucun instantané de confiance pour l'instant." in html


def test_an_empty_queue_and_record_in_portuguese(client):
    clear_caches()
    client.force_login(moderator(language=""))
    queue = main(read(client, None, reverse("reputation:review-queue"), "pt-br"))
    assert "Nada aguarda revisão. Obrigado." in queue
    flags = main(read(client, None, reverse("reputation:my-flags"), "pt-br"))
    assert "Você ainda não denunciou nada." in flags
    record = main(read(client, None, reverse("reputation:moderation-log"), "pt-br"))
    assert "Nada foi moderado ainda." in record


def test_flagging_refusals_are_in_spanish(flagged):
    item, flagger = flagged["item"], flagged["flagger"]
    with translation.override("es"):
        with pytest.raises(DomainError) as twice:
            services.flag_create(flagger=flagger, kind="solution", object_id=item.pk,
                                 reason="spam")  # fmt: skip
        with pytest.raises(DomainError) as own:
            services.flag_create(flagger=flagged["author"], kind="solution", object_id=item.pk,
                                 reason="spam")  # fmt: skip
        with pytest.raises(DomainError) as wordless:
            services.flag_create(flagger=member(), kind="solution", object_id=item.pk,
                                 reason="other")  # fmt: skip
    assert twice.value.message == "Ya lo has denunciado."
    assert twice.value.code == "already_flagged"  # the code stays the API's contract
    assert own.value.message == "No puedes denunciar tu propio trabajo."
    assert wordless.value.message == "Explica qué tiene de malo."


def test_the_flag_form_refuses_and_thanks_in_spanish(client, commit):
    item, _author = make_item("comment")
    client.force_login(member(language=""))
    url = reverse("reputation:flag", args=["comment", item.pk])
    refused = client.post(url, {"reason": "other", "text": ""}, HTTP_ACCEPT_LANGUAGE="es")
    assert refused.status_code == 400
    html = main(refused.content.decode())
    assert "Explica qué tiene de malo." in html and "Denunciar este comentario" in html
    done = commit(client.post, url, {"reason": "spam"}, HTTP_ACCEPT_LANGUAGE="es", follow=True)
    assert "Gracias: hemos registrado tu denuncia." in done.content.decode()


def test_a_decision_and_an_appeal_are_confirmed_in_arabic(client, flagged, commit):
    client.force_login(flagged["author"])
    url = reverse("reputation:moderation-case", args=[flagged["case"].pk])
    refused = client.post(url, {"appeal": "  "}, HTTP_ACCEPT_LANGUAGE="ar")
    assert "اشرح لماذا ينبغي إظهاره من جديد." in refused.content.decode()
    appealed = commit(
        client.post, url, {"appeal": "It is my own work."}, HTTP_ACCEPT_LANGUAGE="ar", follow=True
    )
    assert "اعتراضك الآن في قائمة المراجعة." in appealed.content.decode()
    client.force_login(flagged["reviewer"])
    decided = commit(
        client.post,
        reverse("reputation:case-decide", args=[flagged["case"].pk]),
        {"outcome": "restore"},
        HTTP_ACCEPT_LANGUAGE="ar",
        follow=True,
    )
    assert "سُجِّل القرار، وأُبلغ المُبلِّغون والكاتب به." in decided.content.decode()


def test_the_moderation_api_answers_errors_in_french(flagged):
    item = flagged["item"]
    again = api(flagged["flagger"]).post(
        "/api/flags/",
        {"kind": "solution", "object_id": item.pk, "reason": "spam"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert assert_error(again, 409, "already_flagged")["message"] == "Vous l'avez déjà signalé."
    queue = api(member(language="")).get("/api/moderation/queue/", HTTP_ACCEPT_LANGUAGE="fr")
    assert assert_error(queue, 403)["message"] == (
        "La file de modération s'ouvre au niveau de confiance de modération."
    )
    missing = api(flagged["reviewer"]).post(
        "/api/moderation/cases/999999/decision/",
        {"outcome": "hide"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert assert_error(missing, 404)["message"] == "Ce dossier n'existe pas."
    outcome = api(flagged["reviewer"]).post(
        f"/api/moderation/cases/{flagged['case'].pk}/decision/",
        {"outcome": "hide"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert outcome.status_code == 200
    decided = api(flagged["reviewer"]).post(
        f"/api/moderation/cases/{flagged['case'].pk}/decision/",
        {"outcome": "hide"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert (
        assert_error(decided, 409, "already_decided")["message"] == "Ce dossier est déjà tranché."
    )


def test_the_staff_dashboards_moderation_queues_are_in_spanish(client):
    clear_caches()
    client.force_login(UserFactory(is_staff=True, language=""))
    html = main(read(client, None, "/staff/", "es"))
    assert "Flagged items awaiting review" not in html
    assert "Members awaiting trust review" not in html
    assert "Elementos denunciados pendientes de revisión" in html
    assert "Miembros pendientes de revisión de confianza" in html
