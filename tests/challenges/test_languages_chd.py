"""The challenges' discussion threads, proposals, selection rounds, upstream offers and edit
histories in every shipped language (issue 22): each page reads in the reader's language with
none of its English left behind, and the rules' refusals (domain errors, API validation errors)
are said in that language too."""

import pytest
from django.urls import reverse
from django.utils import translation

from challenges import services
from challenges.models import Challenge, ChallengeProposal
from peerhub.exceptions import DomainError
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_organiser, make_solution
from tests.helpers import assert_error, clear_caches
from tests.peerhub.test_chrome_languages import LANGUAGES, main

pytestmark = pytest.mark.django_db

# English each page says in its main region, none of which is also the word in a shipped
# language. Labels of the forms' own fields (challenges/forms.py) are left out: they are the
# forms' owner's to translate.
PAGE_ENGLISH = {
    "thread": ["A thread of the discussion", "Back to the discussion"],
    "reply": ["Reply to Ada", ">Reply<"],
    "edit": ["Edit your comment", "Comments can be edited for a while", ">Save<", ">Cancel<"],
    "proposals": [
        "Members propose challenges",
        'aria-label="Filter proposals"',
        ">Most backed<",
        ">Newest<",
        "Propose a challenge",
        "backed by you",
        "proposed by ",
        ">Open for backing<",
        ">Adopted<",
        "backings",
    ],
    "proposal": [
        "Proposed by ",
        ">The problem<",
        ">Why it matters<",
        "s decision<",
        "Adopt as a draft challenge",
        "Back this proposal",
        "members back this proposal",
        "Decline this proposal?",
        ">Decline<",
    ],
    "proposal_form": [
        "Describe a real problem worth solving together",
        ">Propose<",
        "Propose a challenge",
    ],
    "selection": [
        "The organisers shortlist solutions",
        ">Selection<",
        ">In preparation<",
        "Why shortlisted:",
        "Why it won:",
        ">Winner<",
        ">Shortlisted<",
        "Why it wins",
        "Select as a winner",
        "Take off the shortlist",
        "Solution (best ranked first)",
        "Why it belongs on the shortlist",
        ">Shortlist<",
        "Publish the results",
        "Once published",
        "Back to the challenge",
        "Published ",
        "> by ",
    ],
    "upstream": [
        "Upstream proposal",
        "offered revision",
        "their fork",
        ">The change<",
        "added or changed",
        "Your decision",
        "Accept as a new revision",
        "Accept these changes",
        "Decline these changes",
        ">Decline<",
        ">The original<",
        ">The fork<",
    ],
    "upstream_form": [
        "offer upstream",
        "Offer your changes to",
        "will see this diff",
        "added or changed",
        ">The original now<",
        ">Your fork<",
        ">Offer the change<",
        ">Cancel<",
    ],
    "history": [
        "edit history",
        "Edited 1 time",
        "Every edit is kept",
        "Newest first",
        "Edit 1 by",
        'history-field">Comment ',
    ],
}

# One phrase of each page in each language.
PAGE_PHRASE = {
    "thread": {
        "es": "Un hilo de la conversación",
        "fr": "Un fil de la discussion",
        "pt-br": "Um fio da conversa",
        "ar": "سلسلة من النقاش",
    },
    "reply": {
        "es": "Responder a Ada",
        "fr": "Répondre à Ada",
        "pt-br": "Responder a Ada",
        "ar": "الرد على Ada",
    },
    "edit": {
        "es": "Edita tu comentario",
        "fr": "Modifier votre commentaire",
        "pt-br": "Edite seu comentário",
        "ar": "عدِّل تعليقك",
    },
    "proposals": {
        "es": "Más apoyadas",
        "fr": "Les plus soutenues",
        "pt-br": "Mais apoiadas",
        "ar": "الأكثر دعمًا",
    },
    "proposal": {
        "es": "Apoyar esta propuesta",
        "fr": "Soutenir cette proposition",
        "pt-br": "Apoiar esta proposta",
        "ar": "ادعم هذا الاقتراح",
    },
    "proposal_form": {
        "es": "Proponer un reto",
        "fr": "Proposer un défi",
        "pt-br": "Propor um desafio",
        "ar": "اقترح تحديًا",
    },
    "selection": {
        "es": "Quitar de la preselección",
        "fr": "Retirer de la présélection",
        "pt-br": "Tirar da pré-seleção",
        "ar": "أزله من القائمة القصيرة",
    },
    "upstream": {
        "es": "Aceptar como nueva revisión",
        "fr": "Accepter comme nouvelle révision",
        "pt-br": "Aceitar como nova revisão",
        "ar": "اقبله مراجعةً جديدة",
    },
    "upstream_form": {
        "es": "Ofrece tus cambios a",
        "fr": "Proposer vos modifications à",
        "pt-br": "Ofereça suas mudanças para",
        "ar": "اعرض تعديلاتك على",
    },
    "history": {
        "es": "Editado 1 vez",
        "fr": "Modifié 1 fois",
        "pt-br": "Editado 1 vez",
        "ar": "عُدِّل مرة واحدة",
    },
}


@pytest.fixture
def area(client):
    """Everything the area's pages show, and for each page the member who sees the most of it
    and its address."""
    clear_caches()
    organiser = make_organiser(language="")
    ada = UserFactory(display_name="Ada", language="")
    bea = UserFactory(display_name="Bea", language="")

    # A discussion: Ada's comment, edited once, with Bea's reply.
    challenge = ChallengeFactory(created_by=organiser, title="Clean water")
    comment = services.comment_create(author=ada, target=challenge, body="Filters first?")
    services.comment_edit(comment=comment, by=ada, body="Sand filters first?")
    services.comment_create(author=bea, target=challenge, body="Yes.", parent=comment)

    # Proposals: Bea's, backed by Ada; one adopted; Ada's own.
    backed = services.proposal_create(
        proposer=bea, title="Quiet streets", summary="Less noise", problem="Traffic noise."
    )
    services.proposal_back(proposal=backed, user=ada)
    adopted = services.proposal_create(
        proposer=bea, title="Shade", summary="Trees", problem="Hot squares."
    )
    services.proposal_adopt(proposal=adopted, by=organiser)
    decided = services.proposal_create(
        proposer=ada, title="Bike racks", summary="Parking", problem="No racks.", context="Theft."
    )

    # A selection: round 1 published (Alpha won, Beta shortlisted), round 2 in preparation
    # with Beta shortlisted and Alpha still a candidate.
    selecting = ChallengeFactory(created_by=organiser, title="Cheap housing")
    alpha = make_solution(selecting, ada, title="Alpha")
    beta = make_solution(selecting, bea, title="Beta")
    services.challenge_transition(challenge=selecting, by=organiser, to=Challenge.Status.SELECTING)
    first = services.selection_round_open(challenge=selecting, by=organiser)
    for solution in (alpha, beta):
        services.selection_shortlist(round=first, by=organiser, solution=solution, reason="Solid")
    services.selection_select(round=first, by=organiser, solution=alpha, reason="Cheapest")
    services.selection_publish(round=first, by=organiser)
    second = services.selection_round_open(challenge=selecting, by=organiser)
    services.selection_shortlist(round=second, by=organiser, solution=beta, reason="Improved")

    # An upstream offer from Bea's fork of Ada's solution.
    original = make_solution(challenge, ada, title="Sand filter", body="Layer sand.\nPour.")
    fork = make_fork(original, bea)
    offer = services.upstream_propose(fork=fork, by=bea, message="Adds a gravel layer.")
    cara = UserFactory(display_name="Cara", language="")
    other_fork = make_fork(original, cara)

    return {
        "thread": (ada, reverse("challenges:comment-thread", args=[comment.pk])),
        "reply": (bea, reverse("challenges:comment-reply", args=[comment.pk])),
        "edit": (ada, reverse("challenges:comment-edit", args=[comment.pk])),
        "proposals": (ada, reverse("challenges:proposal-list") + "?status="),
        "proposal": (organiser, reverse("challenges:proposal-detail", args=[decided.pk])),
        "proposal_form": (ada, reverse("challenges:proposal-create")),
        "selection": (organiser, reverse("challenges:selection", args=[selecting.slug])),
        "upstream": (ada, reverse("challenges:upstream-detail", args=[offer.pk])),
        "upstream_form": (cara, reverse("challenges:upstream-create", args=[other_fork.pk])),
        "history": (ada, reverse("challenges:comment-history", args=[comment.pk])),
    }


def page(client, area, name: str, language: str) -> str:
    who, url = area[name]
    client.force_login(who)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, (name, response.status_code)
    assert response["Content-Language"] == language
    return main(response.content.decode())


@pytest.mark.parametrize("name", PAGE_ENGLISH)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_areas_pages_are_in_the_readers_language(client, area, name, language):
    html = page(client, area, name, language)
    left = [phrase for phrase in PAGE_ENGLISH[name] if phrase in html]
    assert left == [], f"English left in the {language} {name} page"
    assert PAGE_PHRASE[name][language] in html


@pytest.mark.parametrize("name", PAGE_ENGLISH)
def test_in_english_the_pages_say_what_the_languages_translate(client, area, name):
    html = page(client, area, name, "en")
    missing = [phrase for phrase in PAGE_ENGLISH[name] if phrase not in html]
    assert missing == [], f"the English {name} page no longer says these"


def test_a_refused_comment_says_why_in_spanish():
    challenge = ChallengeFactory()
    with translation.override("es"), pytest.raises(DomainError) as refused:
        services.comment_create(author=UserFactory(), target=challenge, body="   ")
    assert refused.value.message == "Escribe algo primero."
    assert refused.value.code == "body_required"


def test_a_refused_proposal_backing_and_selection_say_why_in_french():
    proposer = UserFactory()
    proposal = services.proposal_create(
        proposer=proposer, title="Quiet", summary="Less noise", problem="Noise."
    )
    with translation.override("fr"), pytest.raises(DomainError) as refused:
        services.proposal_back(proposal=proposal, user=proposer)
    assert refused.value.message == "Vous ne pouvez pas soutenir votre propre proposition."
    assert ChallengeProposal.objects.get(pk=proposal.pk).backing_count == 0

    organiser = make_organiser()
    challenge = ChallengeFactory(created_by=organiser)
    with translation.override("fr"), pytest.raises(DomainError) as refused:
        services.selection_round_open(challenge=challenge, by=organiser)
    assert refused.value.code == "not_selecting"
    assert "pendant la phase de sélection" in refused.value.message


def test_a_flash_message_of_the_area_is_in_the_readers_language(client):
    member = UserFactory(language="")
    client.force_login(member)
    response = client.post(
        reverse("challenges:proposal-create"),
        {"title": "Quiet", "summary": "Less noise", "problem": "Noise."},
        HTTP_ACCEPT_LANGUAGE="pt-br",
        follow=True,
    )
    assert "Proposta enviada. Peça a outros que a apoiem." in response.content.decode()


def test_an_api_validation_error_is_in_arabic(client):
    solution = make_solution()
    client.force_login(UserFactory(language=""))
    response = client.post(
        "/api/comments/",
        {"challenge": solution.challenge.slug, "solution": solution.pk, "body": "مرحبًا"},
        HTTP_ACCEPT_LANGUAGE="ar",
    )
    error = assert_error(response, 400, "invalid")
    assert error["fields"]["non_field_errors"] == ["علِّق على هدف واحد فقط: تحدٍّ أو حل."]
    missing = client.get("/api/challenge-proposals/999999/", HTTP_ACCEPT_LANGUAGE="ar")
    assert "هذا الاقتراح غير موجود." in missing.content.decode()
    english = client.post(
        "/api/comments/",
        {"challenge": solution.challenge.slug, "solution": solution.pk, "body": "Hi"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.json()["error"]["fields"]["non_field_errors"] == [
        "Comment on exactly one target: a challenge or a solution."
    ]
