"""The Markdown editor: a textarea that peerhub/static/js/editor.js turns into GitHub-like
writing (Write and Preview tabs, a formatting toolbar, shortcuts, drafts kept in the browser,
@mention suggestions). Without JavaScript it stays a plain textarea."""

from django import forms
from django.urls import reverse


class MarkdownEditor(forms.Textarea):
    """A textarea for Markdown. `mentions_url`, when set (see `enable_mentions`), is where the
    editor asks for the members it may suggest after `@`: only those who may see the thing
    being written about."""

    template_name = "peerhub/widgets/markdown_editor.html"

    def __init__(self, attrs=None, *, mentions_url: str = ""):
        super().__init__(attrs)
        self.mentions_url = mentions_url

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["preview_url"] = reverse("markdown-preview")
        context["widget"]["mentions_url"] = self.mentions_url
        return context


def enable_mentions(form: forms.Form, field: str, url: str) -> forms.Form:
    """Let the editor of `form[field]` suggest members from `url` (a mention endpoint with the
    thing's query string)."""
    widget = form.fields[field].widget
    if isinstance(widget, MarkdownEditor):
        widget.mentions_url = url
    return form
