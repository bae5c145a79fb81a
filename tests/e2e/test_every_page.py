"""Every main page (tests/e2e/pages.py) in Chromium at a phone's width and a laptop's, signed out
and signed in, over data with long unbroken words: each page answers 200 where it was asked
(no redirect), and nothing makes it wider than the screen.

The same visits run in two more languages (issue 22), kept to one width each so that CI pays
for two runs, not eight: Arabic on a phone (right to left: `<html dir="rtl">` on every page) and
French on a laptop (French has the longest strings of the four catalogues, about 21% longer than
English: buttons, table headers and the header's links are where it shows).

One test per width: the data is seeded once, and each way of visiting (signed out, as a member,
as staff) gets one browser context in which its pages are visited in turn; the problems of all
pages are gathered into one failure message.

More checks per page go into PAGE_CHECKS (an axe-core run, for instance): each takes the
Playwright page and the visit, and answers a list of problems (empty when the page is fine)."""

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from .axe import axe_problems
from .pages import Page, seed_pages, sign_in_users

pytestmark = pytest.mark.browser

PHONE, DESKTOP = 360, 1280
# PEERHUB_PAGE_SHOTS=DIR saves a full-page screenshot of every visit there (to look at them).
SHOTS = os.environ.get("PEERHUB_PAGE_SHOTS", "")


@dataclass
class Visit:
    page: Page
    width: int
    signed_in: bool
    status: int | None
    url: str
    language: str = "en"


# Where an element sticks out past the right edge: the deepest ones, so the culprit is named.
_WIDE_ELEMENTS = """() => {
  const limit = window.innerWidth + 0.5;
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    }
    return false;
  };
  const wide = [...document.body.querySelectorAll('*')].filter(
    (el) => el.getBoundingClientRect().right > limit && !clipped(el));
  const deepest = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)));
  return deepest.slice(0, 4).map((el) => {
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string'
        ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    return name + ' (right edge ' + Math.round(el.getBoundingClientRect().right) + 'px)';
  });
}"""


def check_answered(page, visit: Visit) -> list[str]:
    problems = []
    if visit.status != 200:
        problems.append(f"status {visit.status}")
    if urlsplit(visit.url).path != urlsplit(visit.page.path).path:
        problems.append(f"ended at {visit.url}")
    return problems


def check_fits_the_screen(page, visit: Visit) -> list[str]:
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    if scroll_width <= inner_width:
        return []
    culprits = ", ".join(page.evaluate(_WIDE_ELEMENTS))
    return [f"{scroll_width}px wide in a {inner_width}px window: {culprits}"]


def check_axe(page, visit: Visit) -> list[str]:
    """axe-core (WCAG 2.2 A/AA and best practices): no critical or serious violation. Folded
    parts (<details>: the lineage trees' list views, for instance) are opened first, so that
    axe sees them too."""
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    return axe_problems(page)


def check_language(page, visit: Visit) -> list[str]:
    """The page came in the language the browser asked for, and Arabic right to left."""
    lang, direction = page.evaluate(
        "() => [document.documentElement.lang, document.documentElement.dir]"
    )
    problems = []
    if lang.lower() != visit.language.lower():
        problems.append(f"lang={lang!r}, asked for {visit.language!r}")
    wanted = "rtl" if visit.language in RIGHT_TO_LEFT else "ltr"
    if (direction or "ltr") != wanted:
        problems.append(f"dir={direction!r}, wanted {wanted!r}")
    return problems


# The checks run on every visit, in order. Add a check here to have it run on every main page.
PAGE_CHECKS: list[Callable[..., list[str]]] = [check_answered, check_fits_the_screen, check_axe]
# The language runs: the same checks but axe (a third of a run's time; what it checks is mostly
# the same markup in every language), plus the language's own. PEERHUB_LANGUAGE_AXE=1 keeps axe
# (worth a run after a catalogue changes: an aria-label worded apart from its visible text is a
# translation's doing).
LANGUAGE_CHECKS: list[Callable[..., list[str]]] = [
    *(c for c in PAGE_CHECKS if c is not check_axe or os.environ.get("PEERHUB_LANGUAGE_AXE")),
    check_language,
]
RIGHT_TO_LEFT = {"ar"}
# (language, width): one width per language, see the module's docstring.
LANGUAGE_RUNS = [("ar", PHONE), ("fr", DESKTOP)]


def _new_context(browser, width: int, language: str):
    """Playwright's `locale` sets the Accept-Language header the site picks its language from."""
    return browser.new_context(viewport={"width": width, "height": 900}, locale=language)


def _signed_in_context(browser, live_server, user, width: int, language: str):
    """A context holding the member's session (made by Django's test client: no login form)."""
    client = Client()
    client.force_login(user)
    context = _new_context(browser, width, language)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


def _visit_all(
    context, live_server, pages: list[Page], *, width: int, signed_in: bool, language: str, checks
):
    problems = []
    page = context.new_page()
    page.set_default_timeout(15_000)
    for entry in pages:
        response = page.goto(f"{live_server.url}{entry.path}", wait_until="domcontentloaded")
        visit = Visit(
            page=entry,
            width=width,
            signed_in=signed_in,
            status=response.status if response else None,
            url=page.url,
            language=language,
        )
        if SHOTS:
            folder = Path(SHOTS)
            folder.mkdir(parents=True, exist_ok=True)
            who = ("staff" if entry.staff else "in") if signed_in else "out"
            lang = "" if language == "en" else f"{language}-"
            name = f"{lang}{width}-{who}-{entry.name.replace(' ', '-')}.png"
            page.screenshot(path=str(folder / name), full_page=True)
        for check in checks:
            problems += [f"{entry.name} ({entry.path}): {p}" for p in check(page, visit)]
    page.wait_for_load_state("networkidle")
    page.close()
    return problems


def _widths() -> list[int]:
    """PEERHUB_PAGE_WIDTHS=390,1280 visits at other widths (for screenshots)."""
    given = os.environ.get("PEERHUB_PAGE_WIDTHS", "")
    return [int(w) for w in given.split(",") if w.strip()] or [PHONE, DESKTOP]


def _visit_every_kind(browser, live_server, width: int, language: str = "en", checks=PAGE_CHECKS):
    """Signed out, then signed in as a member and as staff: one context each, one seed, `checks`
    on every visit. Answers the problems found, one line each."""
    pages = seed_pages()
    users = sign_in_users()
    visits = [
        (None, [p for p in pages if not p.needs_sign_in]),
        (users["member"], [p for p in pages if not p.signed_out_only and not p.staff]),
        (users["staff"], [p for p in pages if p.staff]),
    ]
    problems = []
    for user, wanted in visits:
        if user is None:
            context = _new_context(browser, width, language)
        else:
            context = _signed_in_context(browser, live_server, user, width, language)
        problems += _visit_all(
            context,
            live_server,
            wanted,
            width=width,
            signed_in=bool(user),
            language=language,
            checks=checks,
        )
        context.close()
    return problems


@pytest.mark.parametrize("width", _widths())
def test_every_main_page_fits_the_screen(chromium_available, live_server, browser, width):
    problems = _visit_every_kind(browser, live_server, width)
    assert not problems, f"{len(problems)} problem(s) at {width}px:\n" + "\n".join(problems)


@pytest.mark.parametrize(("language", "width"), LANGUAGE_RUNS)
def test_every_main_page_fits_the_screen_in_another_language(
    chromium_available, live_server, browser, language, width
):
    """The same visits in Arabic (right to left) on a phone and in French on a laptop."""
    problems = _visit_every_kind(browser, live_server, width, language, LANGUAGE_CHECKS)
    assert not problems, f"{len(problems)} problem(s) in {language} at {width}px:\n" + "\n".join(
        problems
    )


def test_the_page_list_covers_every_kind_of_visit(db):
    """The list keeps its three kinds of page (public, members', staff) and no duplicates."""
    pages = seed_pages()
    assert len({p.path for p in pages}) == len(pages)
    assert {p.needs_sign_in for p in pages} == {False, True}
    assert any(p.staff for p in pages)
    assert all(p.needs_sign_in for p in pages if p.staff)
