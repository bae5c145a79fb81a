"""The site's chrome in every shipped language (issue 22): the header, the navigation, the footer,
the visitor's and the member's home, the challenge list and the challenge page read in the
reader's language, with the page's lang and direction set, and none of their English left behind."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges.models import Challenge
from tests.factories import (
    ChallengeFactory,
    ManifestoVersionFactory,
    UserFactory,
    make_fork,
    make_solution,
)
from tests.helpers import clear_caches
from tests.marketplace.purse_helpers import contribute, funded_challenge

pytestmark = pytest.mark.django_db

# English the chrome says (header, navigation, account links, footer), none of which is also the
# word in a shipped language ("Menu", "Manifesto" and "Notifications" are).
CHROME_ENGLISH = [
    "Skip to content",
    ">Challenges<",
    ">Proposals<",
    ">Rankings<",
    ">Leaderboard<",
    ">Marketplace<",
    "Search PeerHub",
    'placeholder="Search…"',
    ">Log in<",
    ">Log out<",
    "Join PeerHub",
    "Code of conduct",
    "How reputation works",
    "API docs",
    "challenge-driven peer production",
    'aria-label="Main"',
    'aria-label="Footer"',
]

# English of each page's own body (its headings, buttons, filters).
PAGE_ENGLISH = {
    "visitor": [
        "Explore the challenges",
        "How PeerHub works",
        "Frame a challenge",
        "Answer in the open",
        "Fork and remix",
        "Let the best rise",
        "PeerHub in figures",
        "open challenges",
    ],
    "member": [
        "Your PeerHub",
        "Welcome",
        "Start here",
        "Waiting for you",
        "Closing soon",
        "Rising this week",
        "From what you follow",
        "Sign the manifesto",
        "Follow a challenge",
        "closes ",
    ],
    "list": [
        "Identify challenges",
        "Search challenges",
        "Any status",
        "Any value",
        ">Newest<",
        ">Most active<",
        ">Apply<",
        ">Most solutions<",
        "closes ",
    ],
    # seen by its organiser, with a solution and a fork ("Solutions" and "Discussion" are also
    # the French words)
    "challenge": [
        "Edit history",
        "Post a solution",
        "Sort solutions",
        ">Rank<",
        ">Most reviewed<",
        ">Most built upon<",
        ">Most discussed<",
        ">Recently updated<",
        ">Follow<",
        "0 followers",
        "The problem",
        ">Why it matters<",
        ">revisions<",
        "fork of ",
        "No comments yet.",
        "Add to the discussion",
        "Success criteria",
        "Licence of contributions",
        "Add as organiser",
        "Not ranked yet",
        ">Reset<",
        "List view",
        "Discard draft",
        "Bulleted list",
        "Prize purse",
        "No prize purse yet.",
    ],
    # a fork seen by a member who did not write it ("Votes" is also the French word): its header,
    # fork note, files, lineage, the changes against its parent, the vote widget and the reviews
    "solution": [
        "Forked from ",
        "Fork and remix",
        "Shared under ",
        ">Lineage<",
        "direct forks",
        "See the whole tree",
        "What this fork changed",
        "Parent at fork point",
        "as a zip",
        "Vote up: this is useful",
        "Review scores",
        "Vote down: this needs work",
        "No reviews yet.",
        " up · ",
        "Lineage tree",
    ],
    # a challenge's prize purse, with a named and an anonymous backer, seen by a member
    "purse": [
        "Prize purse",
        " backers<",
        "By place:",
        "of each award goes to",
        "Backed by",
        "an anonymous backer",
        "Add to the purse",
        "Name shown among the backers",
        "as its fee",
        ">Contribute<",
        "All backers, the rules in full",
    ],
}

# a phrase of the challenge page in each language
CHALLENGE_PHRASE = {
    "es": "Criterios de éxito",
    "fr": "Critères de réussite",
    "pt-br": "Critérios de sucesso",
    "ar": "معايير النجاح",
}

# a phrase of the solution page in each language
SOLUTION_PHRASE = {
    "es": "Qué cambió esta bifurcación",
    "fr": "Ce que ce fork a changé",
    "pt-br": "O que este fork mudou",
    "ar": "ما غيّره هذا الفرع",
}

# a phrase of the prize purse card in each language
PURSE_PHRASE = {
    "es": "Bolsa de premios",
    "fr": "Cagnotte de prix",
    "pt-br": "Bolsa de prêmios",
    "ar": "صندوق الجوائز",
}

LANGUAGES = {
    # language: (lang attribute, dir, a phrase of the chrome, a phrase of the visitor's home)
    "es": ("es", "ltr", ">Retos<", "Cómo funciona PeerHub"),
    "fr": ("fr", "ltr", ">Défis<", "Comment fonctionne PeerHub"),
    "pt-br": ("pt-br", "ltr", ">Desafios<", "Como o PeerHub funciona"),
    "ar": ("ar", "rtl", ">التحديات<", "كيف يعمل PeerHub"),
}


def chrome(html: str) -> str:
    """The page without its main region: the header, the navigation and the footer."""
    before, _, rest = html.partition("<main")
    _, _, after = rest.partition("</main>")
    return before + after


def main(html: str) -> str:
    return html.partition("<main")[2].partition("</main>")[0]


def assert_page_reads_in(
    html: str, language: str, *, english: list[str], phrase: str, page: str
) -> None:
    """A page of an area in `language` (the areas' language tests): its `<html lang dir>`, none
    of its `english` phrases left in its main region, and a `phrase` of the language there."""
    lang, direction, _, _ = LANGUAGES[language]
    assert f'<html lang="{lang}" dir="{direction}">' in html
    body = main(html)
    left = [english_phrase for english_phrase in english if english_phrase in body]
    assert left == [], f"English left in the {language} {page} page"
    assert phrase in body


@pytest.fixture
def site():
    clear_caches()
    ManifestoVersionFactory()
    ChallengeFactory(
        status=Challenge.Status.OPEN, closes_at=timezone.now() + timedelta(days=3), title="Rain"
    )


def get(client, name: str, language: str) -> str:
    response = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    return response.content.decode()


def assert_in_language(html: str, language: str, page: str) -> None:
    lang, direction, chrome_phrase, _ = LANGUAGES[language]
    assert f'<html lang="{lang}" dir="{direction}">' in html
    assert chrome_phrase in chrome(html)
    left = [phrase for phrase in CHROME_ENGLISH if phrase in chrome(html)]
    assert left == [], f"English left in the {language} chrome of the {page} page"
    left = [phrase for phrase in PAGE_ENGLISH[page] if phrase in main(html)]
    assert left == [], f"English left in the {language} {page} page"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_visitors_home_is_in_their_browsers_language(client, site, language):
    html = get(client, "home", language)
    assert_in_language(html, language, "visitor")
    assert LANGUAGES[language][3] in main(html)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_members_home_is_in_their_browsers_language(client, site, language):
    client.force_login(UserFactory(language=""))
    assert_in_language(get(client, "home", language), language, "member")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_challenge_list_is_in_the_readers_language(client, site, language):
    html = get(client, "challenges:list", language)
    assert_in_language(html, language, "list")
    assert "Rain" in main(html)  # the members' own words stay as written


@pytest.fixture
def challenge_page(client):
    """The organiser's view of an open challenge with a solution and a fork of it."""
    clear_caches()
    organiser = UserFactory(language="")
    challenge = ChallengeFactory(
        status=Challenge.Status.OPEN,
        closes_at=timezone.now() + timedelta(days=3),
        title="Rain",
        created_by=organiser,
    )
    make_fork(make_solution(challenge, title="Barrels"))
    client.force_login(organiser)
    return challenge.get_absolute_url()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_challenge_page_is_in_the_readers_language(client, challenge_page, language):
    response = client.get(challenge_page, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    html = response.content.decode()
    assert_in_language(html, language, "challenge")
    assert CHALLENGE_PHRASE[language] in main(html)
    assert "Rain" in main(html) and "Barrels" in main(html)  # the members' own words


def test_the_challenge_page_in_english_says_what_the_languages_translate(client, challenge_page):
    html = main(client.get(challenge_page, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert [phrase for phrase in PAGE_ENGLISH["challenge"] if phrase not in html] == []


@pytest.fixture
def solution_page(client):
    """A member's view of a fork, with votes open, in a challenge with two review criteria."""
    clear_caches()
    challenge = ChallengeFactory(
        status=Challenge.Status.OPEN, closes_at=timezone.now() + timedelta(days=3), title="Rain"
    )
    fork = make_fork(make_solution(challenge, title="Barrels"))
    client.force_login(UserFactory(language=""))
    return fork.get_absolute_url()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_solution_page_is_in_the_readers_language(client, solution_page, language):
    response = client.get(solution_page, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    html = response.content.decode()
    assert_in_language(html, language, "solution")
    assert SOLUTION_PHRASE[language] in main(html)
    assert "Rain" in main(html) and "Barrels" in main(html)  # the members' own words


def test_the_solution_page_in_english_says_what_the_languages_translate(client, solution_page):
    html = main(client.get(solution_page, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert [phrase for phrase in PAGE_ENGLISH["solution"] if phrase not in html] == []


@pytest.fixture
def purse_page(client):
    """A member's view of a challenge whose purse has a named and an anonymous backer."""
    clear_caches()
    challenge = funded_challenge(amounts=(5000,))
    contribute(challenge, UserFactory(), 2000, name="Riverside school")
    client.force_login(UserFactory(language=""))
    return challenge.get_absolute_url()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_prize_purse_is_in_the_readers_language(client, purse_page, language):
    response = client.get(purse_page, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    assert_in_language(html, language, "purse")
    assert PURSE_PHRASE[language] in main(html)
    assert "Riverside school" in main(html)  # the backer's own words


def test_the_prize_purse_in_english_says_what_the_languages_translate(client, purse_page):
    html = main(client.get(purse_page, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert [phrase for phrase in PAGE_ENGLISH["purse"] if phrase not in html] == []


def test_english_stays_the_default(client, site):
    html = get(client, "home", "en")
    assert '<html lang="en" dir="ltr">' in html
    assert ">Challenges<" in chrome(html)
    assert "How PeerHub works" in main(html)
