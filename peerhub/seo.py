"""Being found (issue 21): robots.txt, the sitemap, absolute URLs and plain-text excerpts.

Every absolute URL search engines and feed readers see — sitemap entries, feed links, og:url and
the canonical link — starts with settings.SITE_URL, as e-mails' links do, so a page has one
address whichever host name or proxy served it.

What goes in the sitemap is what an anonymous visitor may open, decided by the apps' own
visibility rules: this module lists the site's pages and public profiles, and each app adds its
sections through the `sitemaps` hook (challenges.apps: challenges and solutions); peerhub never
imports the apps."""

import html
import re

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.db.models import Max
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from .hooks import collect
from .selectors import profiles_public

EXCERPT_LENGTH = 200
SITE_DESCRIPTION = _(
    "PeerHub: challenge-driven peer production. Frame real challenges, build on each other's "
    "solutions, and let the best ideas rise."
)
_SPACE = re.compile(r"\s+")


def absolute_url(path: str) -> str:
    """`path` (from get_absolute_url or reverse) on the site's canonical address."""
    if "://" in path:
        return path
    return settings.SITE_URL.rstrip("/") + path


def excerpt(rendered_html: str, limit: int = EXCERPT_LENGTH) -> str:
    """Plain text from sanitised, rendered Markdown: tags stripped, entities decoded (the
    template escapes it again), white space folded, cut at a word to at most `limit`
    characters."""
    text = _SPACE.sub(" ", html.unescape(strip_tags(str(rendered_html or "")))).strip()
    return Truncator(text).chars(limit)


class SiteSitemap(Sitemap):
    """A sitemap section whose URLs start with SITE_URL. A section with `lastmod_field` answers
    its latest lastmod with one aggregate (the index asks), not by reading every row."""

    limit = 10_000  # entries per sitemap page: the index links each page
    lastmod_field: str | None = None

    @property
    def protocol(self):
        # Read by Django's index too, which names each section's file on the host it was asked
        # on (in production, SITE_URL's): a crawler reads sitemaps of one host.
        return settings.SITE_URL.split("://", 1)[0]

    def get_domain(self, site=None):
        return settings.SITE_URL.split("://", 1)[1].rstrip("/")

    def get_latest_lastmod(self):
        if self.lastmod_field is None:
            return None
        return self.items().aggregate(latest=Max(self.lastmod_field))["latest"]


class SitePagesSitemap(SiteSitemap):
    """The site's own public pages."""

    changefreq = "weekly"

    def items(self):
        return ["home", "manifesto", "code-of-conduct"]

    def location(self, item):
        return reverse(item)


class ProfileSitemap(SiteSitemap):
    """Public profiles: active members with a verified address, not hidden by moderation."""

    def items(self):
        return profiles_public().order_by("pk").only("pk", "username")


def sitemap_sections() -> dict[str, Sitemap]:
    sections: dict[str, Sitemap] = {"pages": SitePagesSitemap(), "members": ProfileSitemap()}
    for name, sitemap in collect("sitemaps"):
        sections[name] = sitemap
    return sections


def sitemap_index(request):
    return sitemap_views.index(request, sitemap_sections(), sitemap_url_name="sitemap-section")


def sitemap_section(request, section: str):
    return sitemap_views.sitemap(request, sitemap_sections(), section=section)


def robots_txt(request):
    return render(
        request,
        "robots.txt",
        {"sitemap_url": absolute_url(reverse("sitemap"))},
        content_type="text/plain; charset=utf-8",
    )
