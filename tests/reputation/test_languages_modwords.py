"""Moderation's stored words read in each reader's language (issue 22): the notifications of
hidden content and decisions, the note a hidden item shows, and the flag form per kind."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from peerhub import moderation as registry
from peerhub.exceptions import NotFound
from peerhub.models import Notification
from peerhub.notifications import get_kind
from reputation.models import ModerationCase
from reputation.moderation import services
from tests.peerhub.test_chrome_languages import main
from tests.reputation.flag_helpers import KINDS, make_item, member, moderator

pytestmark = pytest.mark.django_db


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def hide_by_flags(commit, kind="solution", reason="spam"):
    item, author = make_item(kind)
    for flagger in [member() for _ in range(3)]:
        commit(services.flag_create, flagger=flagger, kind=kind, object_id=item.pk, reason=reason)
    return item, author


def test_a_hidden_content_notice_written_in_english_reads_in_spanish_and_arabic(commit):
    with translation.override("en"):
        _item, author = hide_by_flags(commit, "comment", reason="off_topic")
    told = Notification.objects.get(recipient=author, kind="flagged_content_hidden")
    assert told.context["reason_code"] == "off_topic" and told.context["kind"] == "comment"
    english = told.message
    assert english == (
        "Your comment was hidden pending review: members flagged it as off-topic. You may edit "
        "it or appeal."
    )
    with translation.override("es"):
        spanish = told.message
    assert "tu comentario" in spanish and "«fuera de tema»" in spanish
    assert "comment" not in spanish and "off-topic" not in spanish
    with translation.override("ar"):
        arabic = told.message
    assert "تعليق" in arabic and "خارج الموضوع" in arabic
    assert "comment" not in arabic and "off-topic" not in arabic


def test_a_notice_written_in_another_language_is_stored_in_english(commit):
    with translation.override("fr"):
        _item, author = hide_by_flags(commit, "offer", reason="abusive")
    told = Notification.objects.get(recipient=author, kind="flagged_content_hidden")
    assert told.context["item"] == "offer" and told.context["reason"] == "abusive or offensive"
    assert "Your offer was hidden pending review" in told.message


def test_a_moderation_decision_reads_in_french(commit):
    item, author = hide_by_flags(commit, "solution", reason="abusive")
    case = ModerationCase.objects.get(object_id=item.pk, kind="solution")
    commit(services.case_decide, case=case, by=moderator(), outcome="remove")
    decided = Notification.objects.get(recipient=author, kind="moderation_decided")
    assert decided.message == "Moderators reviewed your solution: removed."
    with translation.override("fr"):
        french = decided.message
    assert french == "Les modérateurs ont examiné votre solution. Décision : suppression."
    resolved = Notification.objects.filter(kind="flag_resolved").first()
    assert resolved.message == "Your flag on a solution was reviewed: helpful."
    with translation.override("fr"):
        assert resolved.message == "Votre signalement sur une solution a été examiné : utile."


def test_an_old_notice_without_codes_reads_as_stored():
    kind = get_kind("moderation_decided")
    stored = {"actor": "", "target": "case", "item": "offer", "outcome": "hidden"}
    with translation.override("es"):
        text = kind.render(context=stored, captured=True)
    assert "offer" in text and "hidden" in text  # the English words it kept
    assert text.startswith("El equipo de moderación")
    hidden = get_kind("flagged_content_hidden")
    old = {"actor": "", "target": "case", "item": "comment", "reason": "spam"}
    assert hidden.render(context=old, captured=True).startswith("Your comment was hidden")


def test_the_hidden_note_on_a_solution_page_reads_in_brazilian_portuguese_and_english(commit):
    item, _author = hide_by_flags(commit, "solution", reason="spam")
    item.refresh_from_db()
    assert item.hidden_reason == "Hidden pending review: members flagged this as spam."
    url = item.get_absolute_url()
    portuguese = main(browser().get(url, HTTP_ACCEPT_LANGUAGE="pt-br").content.decode())
    assert "Conteúdo oculto até ser revisado: membros o denunciaram por “spam”." in portuguese
    assert "Hidden pending review" not in portuguese and "members flagged" not in portuguese
    english = main(browser().get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "Hidden pending review: members flagged this as spam." in english
    api = browser(member())
    spanish = api.get(f"/api/solutions/{item.pk}/", HTTP_ACCEPT_LANGUAGE="es").json()
    assert spanish["hidden_reason"] == (
        "Contenido oculto hasta su revisión: varios miembros lo denunciaron por «spam»."
    )


def test_hidden_notes_of_every_state_and_old_rows():
    with translation.override("es"):
        assert registry.hidden_note("Removed by moderators: spam.") == (
            "Contenido eliminado por el equipo de moderación: spam."
        )
        assert registry.hidden_note("Hidden by moderators: a breach of the code of conduct.") == (
            "Contenido ocultado por el equipo de moderación: incumplimiento del código de conducta."
        )
        # a note these words did not write reads as stored
        assert registry.hidden_note("Hidden for a reason of its own.") == (
            "Hidden for a reason of its own."
        )
        assert registry.hidden_note("") == ""


FLAG_TITLES_ES = {
    "solution": "Denunciar esta solución",
    "revision": "Denunciar esta revisión",
    "comment": "Denunciar este comentario",
    "offer": "Denunciar este servicio",
    "order_message": "Denunciar este mensaje del pedido",
    "profile": "Denunciar este perfil",
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_flag_form_heading_and_button_per_kind_in_spanish(kind):
    item, _author = make_item(kind)
    flagger = item.order.seller if kind == "order_message" else member()
    url = reverse("reputation:flag", args=[kind, item.pk])
    html = main(browser(flagger).get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode())
    title = FLAG_TITLES_ES[kind]
    assert f"<h1>{title}</h1>" in html and f'<button type="submit">{title}</button>' in html
    english = main(browser(flagger).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    noun = registry.flaggable(kind).noun_label
    with translation.override("en"):
        assert f"<h1>Flag this {noun}</h1>" in english


def test_flaggable_labels_and_errors_in_the_readers_language():
    with translation.override("fr"):
        assert str(registry.flaggable("offer").label) == "une prestation"
        assert registry.flaggable("order_message").noun == "message de commande"
        with pytest.raises(NotFound) as error:
            registry.flaggable("nothing")
        assert error.value.message == "Rien de ce type ne peut être signalé."
        with pytest.raises(NotFound) as error:
            registry.flag_target_get(user=member(), name="comment", pk=999999)
        assert error.value.message == "Il n’y a rien à signaler ici."  # noqa: RUF001
    assert registry.flaggable("offer").noun == "offer"


def test_a_suspension_and_a_deferral_read_in_spanish():
    kind = get_kind("moderation_decided")
    stored = {
        "actor": "",
        "target": "case",
        "item": "profile",
        "kind": "profile",
        "outcome": "hidden; your new account is suspended",
        "outcome_code": "hide",
        "suspended": "1",
    }
    with translation.override("es"):
        assert kind.render(context=stored, captured=True) == (
            "El equipo de moderación revisó tu perfil. Decisión: se oculta y tu cuenta nueva "
            "queda suspendida."
        )
        deferred = {**stored, "outcome_code": "defer", "suspended": ""}
        assert kind.render(context=deferred, captured=True).endswith(
            "Decisión: pasa a otro revisor."
        )
    assert kind.render(context=stored, captured=True) == (
        "Moderators reviewed your profile: hidden; your new account is suspended."
    )
