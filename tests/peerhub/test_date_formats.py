"""Dates and times in the reader's language (issue 22): templates and code name Django's formats
("SHORT_DATE_FORMAT"), worded per language by Django's locale formats and peerhub/formats, so a
Spanish reader sees "3 de marzo de 2027", a French one "3 mars 2027", a Brazilian one "3 de março
de 2027", an Arabic one "3 مارس 2027" — while English reads exactly as it always has."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from peerhub import locales
from peerhub.notifications.selectors import group_by_day
from tests.factories import ChallengeFactory, UserFactory

MOMENT = datetime(2027, 3, 3, 14, 5, tzinfo=UTC)

FORMATS = (
    "DATE_FORMAT",
    "SHORT_DATE_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MONTH_DAY_FORMAT",
)


def shown(language: str | None, source: str, when=MOMENT) -> str:
    template = Template("{% load peerhub %}" + source)
    if language is None:
        return template.render(Context({"when": when}))
    with translation.override(language):
        return template.render(Context({"when": when}))


def every_format(language: str | None) -> dict[str, str]:
    return {name: shown(language, f'{{{{ when|date:"{name}" }}}}') for name in FORMATS}


# What the templates spelled before they named a format, and so what English must still show.
ENGLISH_AS_BEFORE = {
    "DATE_FORMAT": "j F Y",
    "SHORT_DATE_FORMAT": "j M Y",
    "DATETIME_FORMAT": "j F Y, H:i",
    "SHORT_DATETIME_FORMAT": "j M Y, H:i",
    "YEAR_MONTH_FORMAT": "F Y",
    "MONTH_DAY_FORMAT": "j M",
}


@pytest.mark.parametrize("language", [None, "en"])
def test_english_reads_exactly_as_it_did(language):
    assert every_format(language) == {
        name: shown(language, f'{{{{ when|date:"{spelled}" }}}}')
        for name, spelled in ENGLISH_AS_BEFORE.items()
    }
    assert every_format(language) == {
        "DATE_FORMAT": "3 March 2027",
        "SHORT_DATE_FORMAT": "3 Mar 2027",
        "DATETIME_FORMAT": "3 March 2027, 14:05",
        "SHORT_DATETIME_FORMAT": "3 Mar 2027, 14:05",
        "YEAR_MONTH_FORMAT": "March 2027",
        "MONTH_DAY_FORMAT": "3 Mar",
    }
    # A deadline with its zone, as the e-mails and the export pages say it
    assert shown(language, '{{ when|with_zone:"SHORT_DATETIME_FORMAT" }}') == shown(
        language, '{{ when|date:"j M Y, H:i e" }}'
    )
    assert shown(language, '{{ when|with_zone:"DATETIME_FORMAT" }}') == "3 March 2027, 14:05 UTC"
    assert shown(language, "{{ when|zoned }}").endswith(">3 March 2027, 14:05 (UTC)</time>")


def test_spanish_writes_de_between_day_month_and_year():
    formats = every_format("es")
    assert formats["DATE_FORMAT"] == "3 de marzo de 2027"
    assert formats["SHORT_DATE_FORMAT"] == "3 mar 2027"
    assert formats["DATETIME_FORMAT"] == "3 de marzo de 2027 a las 14:05"
    assert formats["YEAR_MONTH_FORMAT"] == "marzo de 2027"
    assert formats["MONTH_DAY_FORMAT"] == "3 de marzo"
    assert "March" not in str(formats) and "Mar " not in str(formats)


def test_french_puts_the_day_before_a_lower_case_month():
    formats = every_format("fr")
    assert formats["DATE_FORMAT"] == "3 mars 2027"
    assert formats["SHORT_DATE_FORMAT"] == "3 mars 2027"
    assert formats["DATETIME_FORMAT"] == "3 mars 2027 à 14:05"
    assert formats["YEAR_MONTH_FORMAT"] == "mars 2027"
    assert shown("fr", '{{ when|date:"SHORT_DATE_FORMAT" }}', date(2027, 7, 3)) == "3 juil. 2027"


def test_brazilian_portuguese_writes_months_in_lower_case():
    formats = every_format("pt-br")
    assert formats["DATE_FORMAT"] == "3 de março de 2027"
    assert formats["SHORT_DATE_FORMAT"] == "3 de mar. de 2027"
    assert formats["DATETIME_FORMAT"] == "3 de março de 2027 às 14:05"
    assert formats["YEAR_MONTH_FORMAT"] == "março de 2027"
    assert "Março" not in str(formats)


def test_arabic_names_the_month_and_keeps_the_time_after_the_date():
    formats = every_format("ar")
    assert formats["DATE_FORMAT"] == "3 مارس، 2027"
    assert formats["SHORT_DATE_FORMAT"] == "3 مارس 2027"
    assert formats["SHORT_DATETIME_FORMAT"] == "3 مارس 2027، 14:05"
    assert formats["DATETIME_FORMAT"] == "3 مارس 2027، 14:05"
    assert not any(word in str(formats) for word in ("March", "Mar", "p.m."))


def test_a_deadline_with_its_zone_reads_in_spanish():
    with timezone.override("America/Sao_Paulo"):
        assert shown("es", "{{ when|zoned }}").endswith(
            ">3 de marzo de 2027 a las 11:05 (America/Sao_Paulo)</time>"
        )
        assert (
            shown("es", '{{ when|with_zone:"SHORT_DATETIME_FORMAT" }}') == "3 mar 2027, 11:05 -03"
        )
        with translation.override("es"):
            assert locales.format_moment(MOMENT) == (
                "3 de marzo de 2027 a las 11:05 (America/Sao_Paulo)"
            )


def test_machine_formats_stay_as_they_are():
    for language in ("es", "ar"):
        assert shown(language, '{{ when|date:"Y-m-d H:i" }}') == "2027-03-03 14:05"
        assert shown(language, '{{ when|date:"c" }}') == "2027-03-03T14:05:00+00:00"


@pytest.mark.django_db
def test_notifications_older_than_yesterday_are_grouped_under_a_date_in_the_readers_language():
    from peerhub.models import Notification

    member = UserFactory()
    old = Notification(recipient=member, created_at=timezone.now() - timedelta(days=10))
    day = timezone.localtime(old.created_at).date()
    assert group_by_day([old])[0].label == f"{day.day} {day:%B %Y}"
    with translation.override("es"):
        label = group_by_day([old])[0].label
    assert label.startswith(f"{day.day} de ") and label.endswith(f" de {day.year}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, joined, deadline",
    [
        ("en", "member since March 2026", "3 March 2027, 14:05 (UTC)"),
        ("es", "marzo de 2026", "3 de marzo de 2027 a las 14:05 (UTC)"),
        ("fr", "mars 2026", "3 mars 2027 à 14:05 (UTC)"),
        ("pt-br", "março de 2026", "3 de março de 2027 às 14:05 (UTC)"),
        ("ar", "مارس 2026", "3 مارس 2027، 14:05 (UTC)"),
    ],
)
def test_pages_show_dates_in_the_readers_language(client, language, joined, deadline):
    member = UserFactory(date_joined=datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    html = client.get(member.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert joined in html
    challenge = ChallengeFactory(closes_at=MOMENT, opens_at=datetime(2026, 3, 3, tzinfo=UTC))
    html = client.get(challenge.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert deadline in html
    if language != "en":
        assert "March 2027" not in html and "3 Mar" not in html


@pytest.mark.django_db
def test_premiums_notifications_word_their_day_in_the_readers_language(commit):
    from marketplace import services
    from marketplace.models import Subscription
    from peerhub.models import Notification

    member = UserFactory()
    payment = commit(services.subscription_start, user=member, interval="monthly")
    commit(services.sandbox_answer, payment=payment, by=member, outcome="succeed")
    end = Subscription.objects.get(pk=payment.subscription_id).current_period_end.date()
    notification = Notification.objects.get(recipient=member, kind="subscription_active")
    assert notification.context["until"] == end.isoformat()
    assert f"until {end.day} {end:%B %Y}" in notification.text
    assert f"until {end.day} {end:%B %Y}" in notification.message
    with translation.override("es"):
        assert f"{end.day} de " in notification.message
        assert f"{end:%B}" not in notification.message
