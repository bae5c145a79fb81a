"""Reputation in every shipped language (issue 22): "How reputation works", the leaderboard, the
rankings and a challenge's "why this rank?" table, a member's reputation history with several
kinds of ledger line, and the evolution view read in the reader's language, with none of their
English left; the ledger's lines are worded at display time from their kind and note. A vote
refused as the voter's own work, trust level names and a stored ledger note read in the reader's
language too."""

from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from reputation import fitness, presenters, rules, services
from reputation.models import ReputationEvent, ReputationScore, Vote
from tests.factories import ChallengeFactory, UserFactory, make_fork, make_solution
from tests.helpers import clear_caches
from tests.peerhub.test_chrome_languages import LANGUAGES, main

# English each page says, none of which is also the word in a shipped language.
ENGLISH = {
    "how": [
        "What earns reputation",
        "An upvote on your solution",
        "Lineage credit: building on others",
        "to the parent's author",
        "Trust levels and what they unlock",
        "Reputation needed",
        "a verified e-mail address",
        "vote solutions up",
        "Votes a day by level",
        "Trust, and why vote rings do not pay",
        "not counted: low trust",
        "not counted: unchanged fork",
        "Wash trading: buying from each other",
        "Other safeguards",
        "reversed: serial voting",
        "Review bombing",
        "Flags and the review queue",
        "moderation record",
        "Does it work? A simulation",
        "No simulation figures are published",
    ],
    "leaderboard": [
        "Who earned the most reputation",
        "Vote reputation counts up to the daily cap",
        "How reputation works",
        ">All time<",
        ">Last 30 days<",
        "Filter the leaderboard",
        "Every challenge",
        "Every value",
        ">Apply<",
        ">Trust level<",
    ],
    "rankings": [
        "Selective environment",
        "Solutions ranked by fitness",
        "Fittest this month",
        "Most built-upon lines",
        "Fittest solutions published in the last 30 days",
        "Rank in challenge",
        ">Fitness<",
    ],
    # The challenge page's "why this rank?" table.
    "why": [
        "How the fitness is made up",
        "What counts",
        ">Weight<",
        "Organiser selection",
        "Wilson lower bound",
        "No marketplace service is based on this solution yet.",
        "Not shortlisted in a published selection round.",
        "weighted sum; comparable within the challenge",
    ],
    "history": [
        "Reputation history",
        "Every line comes from a fact",
        "Over time",
        ">Ledger ",
        "upvoted your solution",
        "Someone downvoted your solution",
        "forked your solution",
        "was upvoted (lineage credit)",
        "Correction: vote removed",
        "Trust level 1",
        "Next: ",
        "over time: from",
    ],
    "evolution": [
        "How the solutions evolved",
        "Originals are generation 0",
        "Fitness per generation",
        "Selection rounds",
        "No selection round published yet.",
        "Lineages",
        "best fitness",
        "mean fitness",
        "Mean fitness",
        "Lineage of ",
    ],
}

# One phrase of each page in each language: (how, leaderboard, rankings, why, history, evolution).
PHRASES = {
    "es": (
        "Qué da reputación",
        "Quién ganó más reputación",
        "Entorno selectivo",
        "Cómo se compone la aptitud",
        "Ana votó a favor de tu solución «Rain barrel»",
        "Cómo evolucionaron las soluciones",
    ),
    "fr": (
        "Ce qui rapporte de la réputation",
        "Qui a gagné le plus de réputation",
        "Environnement sélectif",
        "aptitude est calculée",
        "Ana a voté pour votre solution « Rain barrel »",
        "Comment les solutions ont évolué",
    ),
    "pt-br": (
        "O que rende reputação",
        "Quem ganhou mais reputação",
        "Ambiente seletivo",
        "Como a aptidão é composta",
        "Ana votou a favor da sua solução “Rain barrel”",
        "Como as soluções evoluíram",
    ),
    "ar": (
        "ما الذي يكسبك السمعة",
        "من كسب أكبر قدر من السمعة",
        "البيئة الانتقائية",
        "كيف تتكوّن الجدارة",
        "صوّت Ana لصالح حلّك «Rain barrel»",
        "كيف تطوّرت الحلول",
    ),
}
PAGES = ("how", "leaderboard", "rankings", "why", "history", "evolution")


def regular(**kwargs):
    """A member at trust level 2: may vote down."""
    user = UserFactory(**kwargs)
    ReputationScore.objects.create(user=user, total=Decimal(100), trust_level=2)
    return user


@pytest.fixture
def world():
    """A challenge with a voted solution and a voted fork: the author's ledger holds upvotes, a
    downvote, a fork, lineage credit and a correction; the challenge is ranked."""
    clear_caches()
    challenge = ChallengeFactory(title="Water")
    author = UserFactory(display_name="Bea")
    solution = make_solution(challenge, author=author, title="Rain barrel")
    fork = make_fork(solution, author=UserFactory(display_name="Cy"))
    services.vote_cast(voter=UserFactory(display_name="Ana"), solution=solution, value=Vote.UP)
    services.vote_cast(voter=UserFactory(display_name="Dee"), solution=fork, value=Vote.UP)
    services.vote_cast(voter=regular(display_name="Eli"), solution=solution, value=Vote.DOWN)
    gone = UserFactory(display_name="Flo")
    services.vote_cast(voter=gone, solution=solution, value=Vote.UP)
    services.vote_remove(voter=gone, solution=solution)
    fitness.recompute_challenge(challenge.pk)
    return {
        "how": reverse("reputation:how-it-works"),
        "leaderboard": reverse("reputation:leaderboard"),
        "rankings": reverse("reputation:rankings"),
        "why": challenge.get_absolute_url(),
        "history": reverse("reputation:history", args=[author.username]),
        "evolution": reverse("reputation:evolution", args=[challenge.slug]),
    }


def read(client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return unescape(main(response.content.decode()))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_reputation_pages_are_in_the_readers_language(client, world, language):
    for page, phrase in zip(PAGES, PHRASES[language], strict=True):
        html = read(client, world[page], language)
        left = [english for english in ENGLISH[page] if english in html]
        assert not left, f"{language} {page}: English left: {left}"
        assert phrase in html, f"{language} {page}: {phrase!r} missing"
    assert "Rain barrel" in read(client, world["rankings"], language)  # members' words stay


@pytest.mark.django_db(transaction=True)
def test_the_reputation_pages_in_english_say_what_the_languages_translate(client, world):
    for page in PAGES:
        html = read(client, world[page], "en")
        missing = [english for english in ENGLISH[page] if english not in html]
        assert not missing, f"{page}: {missing}"
    assert "Ana upvoted your solution “Rain barrel”" in read(client, world["history"], "en")


@pytest.mark.django_db
def test_voting_on_your_own_work_is_refused_in_the_voters_language():
    solution = make_solution(title="Rain barrel")
    with translation.override("es"), pytest.raises(services.DomainError) as refused:
        services.vote_cast(voter=solution.author, solution=solution, value=Vote.UP)
    assert refused.value.message == "No puedes votar tu propia solución."
    assert refused.value.code == "own_solution"
    api = APIClient()
    api.force_authenticate(solution.author)
    response = api.post(
        f"/api/solutions/{solution.pk}/vote/", {"value": 1}, format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )  # fmt: skip
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "own_solution"
    assert error["message"] == "Vous ne pouvez pas voter pour votre propre solution."


def test_trust_level_names_and_privileges_read_in_arabic():
    with translation.override("ar"):
        names = [str(rules.LEVEL_NAMES[level]) for level in sorted(rules.LEVEL_NAMES)]
        assert names == ["جديد", "عضو", "منتظم", "موثوق", "قائد"]
        assert str(rules.PRIVILEGE_LABELS["reputation.add_review"]) == "مراجعة الحلول وفق المعايير"
    assert str(rules.LEVEL_NAMES[2]) == "regular"


@pytest.mark.django_db
def test_a_stored_ledger_note_is_worded_in_the_readers_language():
    """A line keeps its note in English (the ledger compares it); the reader sees it in theirs."""
    solution = make_solution(title="Rain barrel")
    line = ReputationEvent.objects.create(
        beneficiary=solution.author,
        kind=ReputationEvent.Kind.UPVOTE_RECEIVED,
        fact_key=f"up:{solution.pk}:0",
        seq=1,
        amount=Decimal(0),
        fact_at=solution.published_at,
        solution=solution,
        actor=UserFactory(display_name="Ana"),
        note=rules.LOW_TRUST_NOTE,
    )
    with translation.override("es"):
        [explained] = presenters.event_lines(viewer=solution.author, events=[line])
    assert explained.text == "Voto de Ana en tu solución «Rain barrel»: no cuenta: poca confianza"
    [explained] = presenters.event_lines(viewer=solution.author, events=[line])
    assert explained.text == "Ana's vote on your solution “Rain barrel”: not counted: low trust"


def test_a_new_trust_level_notice_is_worded_in_the_readers_language():
    """A stored notice keeps the level's name as it was written; it is worded again from the
    level for each reader."""
    from peerhub.notifications import get_kind

    kind = get_kind("trust_level_gained")
    stored = {"level": "2", "level_name": "regular", "unlocks": "vote solutions down unlocked"}
    with translation.override("ar"):
        text = kind.render(context=stored, captured=True)
    assert "2 (منتظم)" in text
    assert "يمكنك الآن" in text and "التصويت ضد الحلول" in text and "regular" not in text
    english = kind.render(context=stored, captured=True)
    assert english.startswith("You reached trust level 2 (regular): now you can ")
    assert "vote solutions down" in english
