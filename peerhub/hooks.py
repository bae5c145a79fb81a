"""Plug-in hooks between apps that must not import each other.

An app's AppConfig may define a method named after a hook (`site_figures`, `profile_sections`,
`solution_sections`, `solution_row_figures`, `solution_row_sections`, `solution_sorts`,
`challenge_links`, `challenge_sections`, `trust_endorsements`, `sitemaps`); the page that shows
them calls `collect` or `collect_by_key` and never imports the app that contributes.
`challenge_related()` answers select_related paths read with a challenge by
challenges.selectors.challenge_get (one query for the page's challenge and what apps show with it);
`solution_annotations(user)` answers [{name: expression}] read with a solution by solution_get.
`sitemaps()` answers [(section name, django.contrib.sitemaps.Sitemap)] for /sitemap.xml
(peerhub.seo).
`member_export(user)` answers [peerhub.exports.ExportPart] for a member's data export: the
JSON files and stored files of that app's part of the archive.

`rendered_markdown()` answers [(model, source field, link mentions?)] for the Markdown the app
keeps rendered in `<source>_html` (manage.py rerender_markdown renders them all again).

Leaving (peerhub.deletion): `account_deletion_blockers(user)` answers [peerhub.deletion.Blocker]
(what must be settled before the member may leave, with a link to settle it), and
`account_anonymise(user, remove_drafts)` erases the personal data the app holds about a member
being anonymised (inside the anonymisation's transaction) and answers [what it did, as text].

The community simulation (reputation.simulation) reaches prize purses the same way:
`simulation_purse_fund(challenge, organiser, places, backers)` funds a purse and answers [its
net in cents], `simulation_award_tasks()` names the tasks that pay purses once results publish,
`simulation_money(member_ids, challenge_ids)` answers [what the purses took in and paid, per
member and kind], and `simulation_deferred_tasks()` names per-fact ledger syncs the run may hold
for its nightly full rebuild (which derives the same lines). With no app answering, the
simulation runs without prizes. Its wash traders (issue 23) list a service with
`simulation_wash_offer(seller, base_solution)` ([the offer's id]) and trade with
`simulation_wash_trade(buyer, offer_id)` ([the order's figures, or None]); with no app
answering, that adversary is skipped. `simulation_orders_judged(order_ids)` answers [{order id:
{"suspected": bool, "reputation": what its review gave}}] for its figures."""

from django.apps import apps
from django.utils.safestring import mark_safe


def _providers(hook: str):
    for config in apps.get_app_configs():
        provider = getattr(config, hook, None)
        if provider is not None:
            yield provider


def collect(hook: str, **kwargs) -> list:
    """Every app's answer to `hook(**kwargs)` (a list), concatenated in app order."""
    results: list = []
    for provider in _providers(hook):
        results.extend(provider(**kwargs))
    return results


def collect_by_key(hook: str, **kwargs) -> dict:
    """Every app's answer to `hook(**kwargs)` (a dict of lists), merged key by key."""
    merged: dict = {}
    for provider in _providers(hook):
        for key, values in provider(**kwargs).items():
            merged.setdefault(key, []).extend(values)
    return merged


def rendered_section(html: str) -> tuple[str, dict]:
    """A section (of `profile_sections` and the like) an app rendered itself, to keep it
    rendered: the page includes it as it is."""
    return ("peerhub/_rendered_section.html", {"html": mark_safe(html)})  # noqa: S308
