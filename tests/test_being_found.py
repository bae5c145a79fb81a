"""Being found (issue 21): robots.txt, the sitemap, Atom feeds and OpenGraph tags show the world
what an anonymous visitor may see, and nothing private: no private challenge or anything in it,
no draft, no withdrawn or hidden solution, no inactive, unverified or hidden member."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import timezone

from challenges import services
from challenges.models import Challenge
from tests.factories import (
    ChallengeFactory,
    ManifestoVersionFactory,
    UserFactory,
    make_solution,
)

pytestmark = pytest.mark.django_db

SITE = "https://peerhub.example"
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
ATOM_NS = {"a": "http://www.w3.org/2005/Atom"}


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


def parse_xml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314  (the site's own answer, in a test)


def url(path: str) -> str:
    return SITE + path


@pytest.fixture
def world():
    """A public challenge with what belongs in public and what does not, beside a private and a
    draft challenge with solutions of their own."""
    author = UserFactory(username="alice", bio="I build **water** filters & pumps.")
    public = ChallengeFactory(title="Clean water", summary="Water for <every> village & town.")
    published = make_solution(public, author, title="Sand filter", body="Use **sand**.")
    draft = make_solution(public, author, title="Secret draft", publish=False)
    withdrawn = make_solution(public, author, title="Withdrawn idea")
    services.solution_withdraw(solution=withdrawn, by=author)
    hidden = make_solution(public, author, title="Hidden by moderation")
    hidden.__class__.objects.filter(pk=hidden.pk).update(
        hidden_at=timezone.now(), hidden_reason="Spam."
    )
    private = ChallengeFactory(
        title="Private board", visibility=Challenge.Visibility.PRIVATE, slug="private-board"
    )
    private.invited.add(author)
    in_private = make_solution(private, author, title="Inside the private one")
    draft_challenge = ChallengeFactory(
        title="Not yet open", status=Challenge.Status.DRAFT, slug="not-yet"
    )
    services.comment_create(author=author, target=public, body="A public remark.")
    services.comment_create(author=author, target=published, body="On my own filter.")
    services.comment_create(author=author, target=private, body="A private remark.")
    members = {
        "inactive_member": UserFactory(username="gone", is_active=False),
        "unverified_member": UserFactory(username="unverified", verified=False),
        "hidden_member": UserFactory(username="hiddenmember", hidden_at=timezone.now()),
    }
    return {
        "author": author,
        "public": public,
        "published": published,
        "draft": draft,
        "withdrawn": withdrawn,
        "hidden": hidden,
        "private": private,
        "in_private": in_private,
        "draft_challenge": draft_challenge,
        **members,
    }


def sitemap_locations(client) -> set[str]:
    index = client.get("/sitemap.xml")
    assert index.status_code == 200
    assert index["Content-Type"].startswith("application/xml")
    sections = [loc.text for loc in parse_xml(index.content).findall("s:sitemap/s:loc", SITEMAP_NS)]
    assert {s.rsplit("/", 1)[1] for s in sections} >= {
        "sitemap-pages.xml",
        "sitemap-members.xml",
        "sitemap-challenges.xml",
        "sitemap-solutions.xml",
    }
    locations = set()
    for section in sections:
        page = client.get(section.split("testserver", 1)[1])
        assert page.status_code == 200
        root = parse_xml(page.content)
        locations |= {loc.text for loc in root.findall("s:url/s:loc", SITEMAP_NS)}
    return locations


# --- robots.txt ---------------------------------------------------------------------------------


def test_robots_allows_the_site_keeps_out_private_areas_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    lines = text.splitlines()
    assert lines[0] == "User-agent: *"
    assert "Allow: /" in lines
    for area in ("/admin/", "/staff/", "/accounts/", "/settings/", "/moderation/queue/", "/api/"):
        assert f"Disallow: {area}" in lines
    assert "Disallow: /challenges/" not in text and "Disallow: /search/" not in text
    assert f"Sitemap: {SITE}/sitemap.xml" in lines


# --- The sitemap --------------------------------------------------------------------------------


def test_sitemap_lists_public_items_with_absolute_urls(client, world):
    locations = sitemap_locations(client)
    assert url("/") in locations
    assert url(reverse("manifesto")) in locations
    assert url(world["public"].get_absolute_url()) in locations
    assert url(world["published"].get_absolute_url()) in locations
    assert url(world["author"].get_absolute_url()) in locations


def test_sitemap_leaks_nothing_private(client, world):
    locations = sitemap_locations(client)
    left_out = [
        world["private"],
        world["in_private"],
        world["draft_challenge"],
        world["draft"],
        world["withdrawn"],
        world["inactive_member"],
        world["unverified_member"],
        world["hidden_member"],
    ]
    for thing in left_out:
        assert url(thing.get_absolute_url()) not in locations, thing
    # Staff, organisers and invited members see the same map as anyone.
    client.force_login(world["author"])
    assert url(world["private"].get_absolute_url()) not in sitemap_locations(client)


def test_sitemap_gives_lastmod_from_updated_at(client, world):
    page = client.get("/sitemap-challenges.xml")
    root = parse_xml(page.content)
    entry = next(
        e
        for e in root.findall("s:url", SITEMAP_NS)
        if e.find("s:loc", SITEMAP_NS).text == url(world["public"].get_absolute_url())
    )
    lastmod = entry.find("s:lastmod", SITEMAP_NS).text
    assert lastmod == world["public"].updated_at.date().isoformat()


def test_an_unknown_sitemap_section_or_page_is_404(client, world):
    assert client.get("/sitemap-nothing.xml").status_code == 404
    assert client.get("/sitemap-challenges.xml?p=99").status_code == 404
    assert client.get("/sitemap-challenges.xml?p=x").status_code == 404


def test_sitemap_queries_do_not_grow_with_the_site(client, world, django_assert_max_num_queries):
    for i in range(15):
        challenge = ChallengeFactory()
        make_solution(challenge, UserFactory(), title=f"More {i}")
    with django_assert_max_num_queries(8):
        client.get("/sitemap.xml")
    for section in ("pages", "members", "challenges", "solutions"):
        with django_assert_max_num_queries(2):
            assert client.get(f"/sitemap-{section}.xml").status_code == 200


# --- Feeds --------------------------------------------------------------------------------------


def feed_entries(response) -> dict[str, str]:
    """Entry link → title."""
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = parse_xml(response.content)
    return {
        entry.find("a:link", ATOM_NS).get("href"): entry.find("a:title", ATOM_NS).text
        for entry in root.findall("a:entry", ATOM_NS)
    }


def test_challenge_feed_lists_only_published_solutions(client, world):
    entries = feed_entries(client.get(reverse("challenges:feed", args=[world["public"].slug])))
    assert entries == {url(world["published"].get_absolute_url()): "Sand filter"}
    body = client.get(reverse("challenges:feed", args=[world["public"].slug])).content.decode()
    assert f'href="{url(world["public"].get_absolute_url())}"' in body
    assert "Use sand." in body  # the excerpt: plain text, Markdown stripped
    assert "Secret draft" not in body and "Hidden by moderation" not in body


def test_feed_summaries_are_plain_text_escaped_for_readers(client, world):
    make_solution(world["public"], world["author"], title="Tags", body="Write `<script>` here.")
    response = client.get(reverse("challenges:feed", args=[world["public"].slug]))
    root = parse_xml(response.content)
    summaries = {
        entry.find("a:title", ATOM_NS).text: entry.find("a:summary", ATOM_NS)
        for entry in root.findall("a:entry", ATOM_NS)
    }
    assert summaries["Tags"].get("type") == "html"
    assert summaries["Tags"].text == "Write &lt;script&gt; here."


def test_feed_of_a_private_or_draft_challenge_is_404_even_to_its_members(client, world):
    client.force_login(world["author"])  # invited to the private one
    assert client.get(reverse("challenges:feed", args=["private-board"])).status_code == 404
    organiser = world["draft_challenge"].created_by
    client.force_login(organiser)
    assert client.get(reverse("challenges:feed", args=["not-yet"])).status_code == 404
    assert client.get(reverse("challenges:feed", args=["no-such"])).status_code == 404


def test_member_feed_shows_public_activity_only(client, world):
    client.force_login(world["author"])  # what the author may see themselves changes nothing
    response = client.get(reverse("challenges:member-feed", args=["alice"]))
    entries = feed_entries(response)
    titles = sorted(entries.values())
    assert titles == sorted(["Sand filter", "Comment on Clean water", "Comment on Sand filter"])
    body = response.content.decode()
    for secret in ("Secret draft", "Inside the private one", "Private board", "private remark"):
        assert secret not in body
    assert "Withdrawn idea" not in body and "Hidden by moderation" not in body


def test_member_feed_is_404_for_members_without_a_public_profile(client, world):
    for username in ("gone", "unverified", "hiddenmember", "nobody"):
        response = client.get(reverse("challenges:member-feed", args=[username]))
        assert response.status_code == 404, username


def test_feeds_run_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    for i in range(12):
        solution = make_solution(world["public"], UserFactory(), title=f"Another {i}")
        services.comment_create(author=world["author"], target=solution, body=f"Nice {i}.")
    with django_assert_max_num_queries(2):
        client.get(reverse("challenges:feed", args=[world["public"].slug]))
    with django_assert_max_num_queries(3):
        client.get(reverse("challenges:member-feed", args=["alice"]))


# --- OpenGraph, Twitter cards, canonical links --------------------------------------------------


def meta(html: str, key: str) -> str | None:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', html)
    return match.group(1) if match else None


def canonical(html: str) -> str | None:
    match = re.search(r'<link rel="canonical" href="([^"]*)">', html)
    return match.group(1) if match else None


def test_challenge_page_describes_itself_with_absolute_urls(client, world):
    html = client.get(world["public"].get_absolute_url() + "?sort=forked").content.decode()
    assert canonical(html) == url(world["public"].get_absolute_url())
    assert meta(html, "og:url") == url(world["public"].get_absolute_url())
    assert meta(html, "og:title") == "Clean water"
    assert meta(html, "og:type") == "article"
    assert meta(html, "og:site_name") == "PeerHub"
    assert meta(html, "twitter:card") == "summary"
    # Plain text, escaped once.
    assert meta(html, "og:description") == "Water for &lt;every&gt; village &amp; town."
    feed = reverse("challenges:feed", args=[world["public"].slug])
    assert '<link rel="alternate" type="application/atom+xml"' in html and feed in html


def test_solution_and_profile_pages_describe_themselves(client, world):
    html = client.get(world["published"].get_absolute_url()).content.decode()
    assert meta(html, "og:url") == url(world["published"].get_absolute_url())
    assert meta(html, "og:description") == "Use sand."
    html = client.get(world["author"].get_absolute_url()).content.decode()
    assert meta(html, "og:type") == "profile"
    assert meta(html, "og:description") == "I build water filters &amp; pumps."
    assert canonical(html) == url("/u/alice/")
    assert reverse("challenges:member-feed", args=["alice"]) in html


def test_home_and_manifesto_pages_describe_themselves(client, db):
    ManifestoVersionFactory(title="Build together", preamble="We solve *real* problems.")
    html = client.get("/").content.decode()
    assert meta(html, "og:type") == "website"
    assert canonical(html) == url("/")
    assert meta(html, "og:description").startswith("PeerHub: challenge-driven peer production.")
    html = client.get(reverse("manifesto")).content.decode()
    assert meta(html, "og:title") == "Build together"
    assert meta(html, "og:description") == "We solve real problems."


def test_long_descriptions_are_cut_to_200_characters(client, world):
    body = "word " * 200
    solution = make_solution(world["public"], world["author"], body=body)
    description = meta(client.get(solution.get_absolute_url()).content.decode(), "og:description")
    assert len(description) <= 200 and description.endswith("…")


def test_private_and_draft_pages_get_no_description_and_no_feed_link(client, world):
    client.force_login(world["author"])
    for thing in (world["private"], world["in_private"], world["draft"], world["withdrawn"]):
        html = client.get(thing.get_absolute_url()).content.decode()
        assert meta(html, "og:title"), thing  # the viewer's own page still has its title
        assert meta(html, "og:description") is None, thing
        assert meta(html, "twitter:description") is None, thing
        assert "application/atom+xml" not in html, thing
    client.force_login(world["draft_challenge"].created_by)
    html = client.get(world["draft_challenge"].get_absolute_url()).content.decode()
    assert meta(html, "og:description") is None


def test_a_hidden_solution_page_shows_no_title_or_description(client, world):
    html = client.get(world["hidden"].get_absolute_url()).content.decode()
    assert meta(html, "og:title") == "Hidden solution"
    assert meta(html, "og:description") is None
    assert "Hidden by moderation" not in html.split("</head>")[0]


def test_a_hidden_profile_gets_no_description(client, world):
    """A member hidden by moderation keeps a page (with a stub), but not their words."""
    response = client.get(world["hidden_member"].get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert meta(html, "og:description") is None
    assert "application/atom+xml" not in html
