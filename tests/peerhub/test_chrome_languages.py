"""The site's chrome in every shipped language (issue 22): the header, the navigation, the footer,
the visitor's and the member's home and the challenge list read in the reader's language, with
the page's lang and direction set, and none of their English left behind."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges.models import Challenge
from tests.factories import ChallengeFactory, ManifestoVersionFactory, UserFactory
from tests.helpers import clear_caches

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


def test_english_stays_the_default(client, site):
    html = get(client, "home", "en")
    assert '<html lang="en" dir="ltr">' in html
    assert ">Challenges<" in chrome(html)
    assert "How PeerHub works" in main(html)
