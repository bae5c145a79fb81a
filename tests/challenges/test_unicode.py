"""Every script (issue 22): challenge titles in Chinese or Arabic make readable addresses that
open, tags in any script (or none) are never dropped, usernames in any script sign up and are
mentioned."""

import pytest
from django.urls import reverse

from challenges import services
from challenges.models import Challenge, Tag
from peerhub.markdown import mention_names
from peerhub.models import User
from peerhub.slugs import unicode_slugify
from tests.factories import ChallengeFactory, UserFactory, make_organiser

pytestmark = pytest.mark.django_db


def frame(client, organiser, title: str, tags: str) -> Challenge:
    client.force_login(organiser)
    response = client.post(
        reverse("challenges:create"),
        {"title": title, "summary": "x", "problem": "y", "visibility": "public",
         "licence": "CC BY-SA 4.0", "criteria": "Works", "tags": tags},
    )  # fmt: skip
    assert response.status_code == 302, response.content
    challenge = Challenge.objects.get(title=title)
    services.challenge_transition(challenge=challenge, to=Challenge.Status.OPEN, by=organiser)
    return challenge


@pytest.mark.parametrize(
    ("title", "slug", "tags", "tag_slugs"),
    [
        ("清洁的水过滤器", "清洁的水过滤器", "水, 太阳能", {"水", "太阳能"}),
        ("مياه نظيفة للقرية", "مياه-نظيفة-للقرية", "مياه, طاقة شمسية", {"مياه", "طاقة-شمسية"}),
    ],
)
def test_a_chinese_or_arabic_title_gets_a_readable_address_that_opens(
    client, title, slug, tags, tag_slugs
):
    challenge = frame(client, make_organiser(), title, tags)
    assert challenge.slug == slug
    assert set(challenge.tags.values_list("slug", flat=True)) == tag_slugs
    client.logout()
    for url in (
        challenge.get_absolute_url(),
        reverse("reputation:evolution", args=[slug]),
        reverse("challenges:selection", args=[slug]),
        reverse("api-challenge-detail", args=[slug]),
    ):
        assert client.get(url).status_code == 200, url
    page = client.get(challenge.get_absolute_url()).content.decode()
    assert title in page
    for name in tags.split(","):
        assert name.strip() in page  # the tags survive and are shown
    listed = client.get(reverse("challenges:list"), {"tag": sorted(tag_slugs)[0]})
    assert title in listed.content.decode()


def test_a_second_challenge_of_the_same_title_gets_its_own_address(client):
    organiser = make_organiser()
    first = frame(client, organiser, "清洁的水", "")
    second = services.challenge_create(organiser=organiser, title="清洁的水", summary="again")
    assert (first.slug, second.slug) == ("清洁的水", "清洁的水-2")


def test_no_tag_is_dropped():
    tags = services.tags_from_names(["Café", "🚰", "!!!", "Вода", "ውሃ", "  "])
    assert [tag.name for tag in tags] == ["Café", "🚰", "!!!", "Вода", "ውሃ"]
    assert all(tag.slug for tag in tags)
    assert [t.slug for t in tags if t.name in ("Café", "Вода", "ውሃ")] == ["café", "вода", "ውሃ"]
    # The same names again are the same tags, and a tag made before keeps its old slug.
    Tag.objects.create(name="Água", slug="agua")
    again = services.tags_from_names(["🚰", "Água"])
    assert again[0] == tags[1] and again[1].slug == "agua"


def test_slugs_keep_the_vowel_signs_of_scripts_that_need_them():
    assert unicode_slugify("स्वच्छ पानी") == "स्वच्छ-पानी"  # Hindi: the signs are combining marks
    assert unicode_slugify("  Clean   Water, for all!  ") == "clean-water-for-all"


def test_the_api_takes_a_slug_in_any_script(api_client):
    organiser = make_organiser()
    api_client.force_authenticate(organiser)
    response = api_client.post(
        reverse("api-challenge-list"),
        {"title": "Agua limpia", "summary": "x", "slug": "água-limpa"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert api_client.get(reverse("api-challenge-detail", args=["água-limpa"])).status_code == 200


def test_usernames_in_any_script_sign_up_and_are_mentioned(client, mailoutbox):
    for username in ("أحمد", "李小龙", "Алёна"):
        response = client.post(
            reverse("account_signup"),
            {"email": f"{len(username)}{ord(username[0])}@example.org", "username": username,
             "password1": "a long and unusual passphrase",
             "password2": "a long and unusual passphrase"},
        )  # fmt: skip
        assert response.status_code == 302, response.content
        client.logout()
        assert User.objects.filter(username=username).exists()
    for username in ("سارة", "王芳"):  # verified: their profiles are public
        UserFactory(username=username)
        page = client.get(reverse("profile", args=[username]))
        assert page.status_code == 200 and username in page.content.decode()
    assert mention_names("شكرا @أحمد! and @Алёна.") == {"أحمد", "алёна"}


def test_an_ascii_slug_still_opens(client):
    challenge = ChallengeFactory(slug="clean-water")
    assert client.get(challenge.get_absolute_url()).status_code == 200
    assert client.get("/challenges/no such/").status_code == 404


def test_a_hindi_title_keeps_its_vowel_signs_in_a_valid_address(client):
    challenge = services.challenge_create(
        organiser=make_organiser(), title="स्वच्छ पानी", summary="x", problem="y"
    )
    assert challenge.slug == "स्वच्छ-पानी"
    challenge.full_clean()  # the model's validator takes marks
    challenge.status = Challenge.Status.OPEN
    challenge.save()
    assert client.get(challenge.get_absolute_url()).status_code == 200
