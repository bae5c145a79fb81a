"""Sitemap sections of challenges (issue 21): what an anonymous visitor may open, by the rule of
challenges.permissions (challenges_public, solutions_public), gathered by peerhub.seo through the
`sitemaps` hook. Each page of a section is two queries (count and page), whatever its size."""

from peerhub.seo import SiteSitemap

from . import permissions


class ChallengeSitemap(SiteSitemap):
    """Public challenges past draft; private ones and drafts never."""

    lastmod_field = "updated_at"

    def items(self):
        return permissions.challenges_public().order_by("pk").only("pk", "slug", "updated_at")

    def lastmod(self, challenge):
        return challenge.updated_at


class SolutionSitemap(SiteSitemap):
    """Published solutions of public challenges: no draft, no withdrawn solution, nothing hidden
    by moderation."""

    lastmod_field = "updated_at"

    def items(self):
        return permissions.solutions_public().order_by("pk").only("pk", "updated_at")

    def lastmod(self, solution):
        return solution.updated_at
