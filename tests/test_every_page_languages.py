"""Every main page in every shipped language (issue 22): the list of tests/e2e/pages.py (which
new pages must join), each page read signed out, as a member or as staff, in Spanish, French,
Brazilian Portuguese and Arabic, with no interface text left in English. "Interface text" is
every message of the catalogues of two words or more that the language translates otherwise:
were a template or a view to show one untranslated, it would be found here. An English visit
of the same pages is the control (it finds those messages everywhere)."""

import html
import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.test import Client

from tests.e2e.pages import seed_pages, sign_in_users

pytestmark = pytest.mark.django_db

LANGUAGES = {"es": "es", "fr": "fr", "pt-br": "pt_BR", "ar": "ar"}


@cache
def translated_messages(catalogue: str) -> frozenset[str]:
    """The messages of two words or more the language words otherwise (no placeholders or
    markup: they cannot be found whole in a page)."""
    path = Path(settings.BASE_DIR) / "locale" / catalogue / "LC_MESSAGES" / "django.po"
    with path.open("rb") as fh:
        messages = read_po(fh)
    return frozenset(
        m.id
        for m in messages
        if isinstance(m.id, str)
        and m.string
        and m.string != m.id
        and len(m.id.split()) >= 2
        and not re.search(r"%\(|\{|<", m.id)
    )


def readable_text(page: str) -> str:
    """What a reader meets: the text and the attributes read aloud or shown on hover."""
    page = re.sub(r"(?s)<(script|style)\b[^>]*>.*?</\1>", " ", page)
    attributes = re.findall(r'\b(?:aria-label|title|placeholder|alt|data-confirm)="([^"]*)"', page)
    text = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(re.sub(r"\s+", " ", f"{text} {' '.join(attributes)}"))


def english_left(text: str, catalogue: str) -> list[str]:
    return sorted(
        message
        for message in translated_messages(catalogue)
        if re.search(rf"(?<![\w-]){re.escape(message)}(?![\w-])", text)
    )


def visits(language: str):
    """Each main page as its reader sees it: (page, status, lang attribute, readable text)."""
    users = sign_in_users()
    for page in PAGES:
        client = Client()
        if page.needs_sign_in:
            client.force_login(users["staff"] if page.staff else users["member"])
        response = client.get(page.path, HTTP_ACCEPT_LANGUAGE=language, follow=True)
        body = response.content.decode()
        lang = re.search(r'<html[^>]*\blang="([^"]+)"', body)
        yield page, response.status_code, lang.group(1) if lang else None, readable_text(body)


PAGES = []


@pytest.fixture
def pages(db):
    PAGES[:] = seed_pages()
    yield PAGES
    PAGES.clear()


def test_every_main_page_reads_in_each_shipped_language(pages):
    problems = []
    for language, catalogue in LANGUAGES.items():
        for page, status, lang, text in visits(language):
            if status != 200:
                problems.append(f"{language} {page.name}: status {status}")
            if lang != language:
                problems.append(f"{language} {page.name}: lang={lang!r}")
            left = english_left(text, catalogue)
            if left:
                problems.append(f"{language} {page.name}: English left: {left[:8]}")
    assert not problems, "\n".join(problems)


def test_the_check_finds_english_on_an_english_visit(pages):
    """The control: read in English, every page shows messages the check looks for."""
    found = {page.name: english_left(text, "es") for page, _, _, text in visits("en")}
    assert all(found.values()), [name for name, left in found.items() if not left]
