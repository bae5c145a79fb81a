"""The translation catalogues stay complete (issue 22): every string the code marks for
translation is translated, not fuzzy, in every shipped language, and each compiled .mo is its
.po. A change that adds a string and no translation fails here."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from peerhub.management.commands import catalogues

HEADER = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\\n"

"""


def test_every_shipped_catalogue_is_complete_and_compiled():
    call_command("catalogues", "--check")


def test_every_language_but_english_ships_a_catalogue():
    assert catalogues.shipped_locales() == ["es", "fr", "pt_BR", "ar"]
    for locale in catalogues.shipped_locales():
        assert (Path(settings.BASE_DIR) / "locale" / locale / "LC_MESSAGES" / "django.mo").exists()


def test_untranslated_and_fuzzy_messages_are_named(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        HEADER + 'msgid "Done"\nmsgstr "Feito"\n\n'
        'msgid "Open"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Closed"\nmsgstr "Fechado"\n\n'
        'msgid "{count} fork"\nmsgid_plural "{count} forks"\n'
        'msgstr[0] "{count} fork"\nmsgstr[1] ""\n',
        encoding="utf-8",
    )
    assert catalogues.problems(po) == [
        "untranslated: 'Open'",
        "fuzzy: 'Closed'",
        "untranslated: '{count} fork'",
    ]


def test_a_stale_compiled_catalogue_is_caught(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(HEADER + 'msgid "Done"\nmsgstr "Feito"\n', encoding="utf-8")
    po.with_suffix(".mo").write_bytes(b"not this catalogue")
    assert not catalogues.compiled_matches(po)


def test_the_check_changes_nothing_it_checks():
    """--check works on a copy: the shipped catalogues are byte for byte as before."""
    shipped = Path(settings.BASE_DIR) / "locale"
    before = {path: path.read_bytes() for path in shipped.rglob("*.[pm]o")}
    call_command("catalogues", "--check")
    assert {path: path.read_bytes() for path in shipped.rglob("*.[pm]o")} == before
