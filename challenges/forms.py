from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from peerhub import inputs, limits
from peerhub.models import Value
from peerhub.widgets import MarkdownEditor

from . import permissions
from .models import Challenge, ChallengeProposal


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ChallengeForm(forms.Form):
    title = inputs.PlainCharField(label=_("Title"), max_length=limits.TITLE)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=limits.SUMMARY,
        help_text=_("One line that says what the challenge is."),
    )
    problem = forms.CharField(
        label=_("Problem"),
        widget=MarkdownEditor(attrs={"rows": 8}),
        max_length=limits.CHALLENGE_TEXT,
        required=False,
        help_text=_("Markdown. What needs solving? Required before the challenge can open."),
    )
    context = forms.CharField(
        label=_("Why it matters"),
        widget=MarkdownEditor(attrs={"rows": 6}),
        max_length=limits.CHALLENGE_TEXT,
        required=False,
        help_text=_("Markdown. The story: who is affected, what has been tried, what is at stake."),
    )
    criteria = forms.CharField(
        label=_("Success criteria"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=limits.CHALLENGE_TEXT,
        required=False,
        help_text=_("One per line, in order: “Name: how it will be judged”. Reviews score these."),
    )
    values = forms.ModelMultipleChoiceField(
        label=_("Values"),
        queryset=Value.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Which of the manifesto's values does this challenge serve?"),
    )
    tags = forms.CharField(
        label=_("Tags"), max_length=300, required=False, help_text=_("Comma-separated.")
    )
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Challenge.Visibility.choices)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        required=False,
        help_text=_("The language the brief is written in. Translations into others can follow."),
    )
    licence = forms.CharField(label=_("Licence"), max_length=60, initial="CC BY-SA 4.0")
    opens_at = inputs.DateTimeField(
        label=_("Opens at"), required=False, widget=DateTimeLocalInput()
    )
    closes_at = inputs.DateTimeField(
        label=_("Deadline"), required=False, widget=DateTimeLocalInput()
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # A date typed here is read in the organiser's time zone (peerhub.locales activates it)
        # and stored in UTC; readers see it in theirs.
        zone = timezone.get_current_timezone_name()
        for name in ("opens_at", "closes_at"):
            self.fields[name].help_text = format_html(
                gettext("In your time zone, <strong>{zone}</strong>."), zone=zone
            )
        if user is not None and not permissions.can_make_challenge_private(user):
            # Shown, not hidden: members should see what Premium would give them.
            private = Challenge.Visibility.PRIVATE
            self.fields["visibility"].choices = [
                (
                    value,
                    gettext("{label} (Premium)").format(label=label) if value == private else label,
                )
                for value, label in Challenge.Visibility.choices
            ]
            premium_url = getattr(settings, "PEERHUB_CHALLENGES", {}).get("premium_url", "")
            if premium_url:
                self.fields["visibility"].help_text = format_html(
                    gettext('Private challenges come with <a href="{url}">Premium</a>.'),
                    url=premium_url,
                )

    def clean_criteria(self) -> list[tuple[str, str]]:
        criteria = []
        for line in self.cleaned_data["criteria"].splitlines():
            name, _, description = line.partition(":")
            if name.strip():
                if len(name.strip()) > limits.CRITERION_NAME:
                    raise forms.ValidationError(
                        gettext("Keep each criterion's name to {limit} characters.").format(
                            limit=limits.CRITERION_NAME
                        )
                    )
                if len(description.strip()) > limits.CRITERION_DESCRIPTION:
                    raise forms.ValidationError(
                        gettext("Keep each criterion's description to {limit} characters.").format(
                            limit=limits.CRITERION_DESCRIPTION
                        )
                    )
                criteria.append((name.strip(), description.strip()))
        return criteria

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", gettext("The deadline must come after the opening date."))
        if not data.get("language"):
            data.pop("language", None)  # left as it is (a new challenge: the site's language)
        return data

    @classmethod
    def initial_for(cls, challenge: Challenge) -> dict:
        return {
            "title": challenge.title,
            "summary": challenge.summary,
            "problem": challenge.problem,
            "context": challenge.context,
            "criteria": "\n".join(
                f"{c.name}: {c.description}" if c.description else c.name
                for c in challenge.criteria.all()
            ),
            "values": list(challenge.values.all()),
            "tags": ", ".join(t.name for t in challenge.tags.all()),
            "visibility": challenge.visibility,
            "language": challenge.language,
            "licence": challenge.licence,
            "opens_at": challenge.opens_at,
            "closes_at": challenge.closes_at,
        }


def _criteria_lines(text: str) -> list[tuple[str, str]]:
    """“Name: description” per line, as the challenge form writes criteria."""
    pairs = []
    for line in text.splitlines():
        name, _, description = line.partition(":")
        if name.strip() or description.strip():
            pairs.append((name.strip(), description.strip()))
    return pairs


class ChallengeTranslationForm(forms.Form):
    """A challenge's brief in another language (challenges.services.translations)."""

    title = inputs.PlainCharField(label=_("Title"), max_length=limits.TITLE)
    summary = forms.CharField(label=_("Summary"), max_length=limits.SUMMARY)
    problem = forms.CharField(
        label=_("Problem"),
        widget=MarkdownEditor(attrs={"rows": 8}),
        max_length=limits.CHALLENGE_TEXT,
        required=False,
        help_text=_("Markdown."),
    )
    context = forms.CharField(
        label=_("Why it matters"),
        widget=MarkdownEditor(attrs={"rows": 6}),
        max_length=limits.CHALLENGE_TEXT,
        required=False,
        help_text=_("Markdown."),
    )
    criteria = forms.CharField(
        label=_("Success criteria"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=limits.CHALLENGE_TEXT,
        required=False,
        help_text=_(
            "One per line, in the original's order: “Name: how it will be judged”. "
            "Leave empty to show the original criteria."
        ),
    )

    def clean_criteria(self) -> list[tuple[str, str]]:
        return _criteria_lines(self.cleaned_data["criteria"])

    @classmethod
    def initial_for(cls, translation) -> dict:
        return {
            "title": translation.title,
            "summary": translation.summary,
            "problem": translation.problem,
            "context": translation.context,
            "criteria": "\n".join(
                f"{c['name']}: {c['description']}" if c.get("description") else c["name"]
                for c in translation.criteria
            ),
        }


def content_language_field() -> forms.ChoiceField:
    """The language a text is written in (issue 22): guessed from it when left to "detect"."""
    return forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("Detect from the text")), *settings.LANGUAGES],
        required=False,
        help_text=_("Readers' browsers and screen readers use it to read your words right."),
    )


class SolutionForm(forms.Form):
    title = inputs.PlainCharField(label=_("Title"), max_length=limits.TITLE)
    body = forms.CharField(
        label=_("Body"),
        widget=MarkdownEditor(attrs={"rows": 18}),
        max_length=limits.SOLUTION_BODY,
        help_text=_("Markdown. Explain your solution."),
    )
    language = content_language_field()
    message = forms.CharField(
        label=_("What changed"),
        max_length=limits.REVISION_MESSAGE,
        required=False,
        help_text=_("A short note kept with this revision, like a commit message."),
    )


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one picker; checked one by one by challenges.files in the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"data-file-drop": ""}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class SolutionFilesMixin(forms.Form):
    """Files on a solution's forms: add (a picker, drag and drop with challenges/files.js) and,
    when editing, remove some of the current revision's."""

    files = MultipleFileField(
        label=_("Files"),
        required=False,
        help_text=_(
            "Photos, drawings, data, code: refer to an image in the text as "
            "![caption](files/name.jpg). A file with the name of one already there replaces it."
        ),
    )
    remove_files = forms.MultipleChoiceField(
        label=_("Remove files"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, current_files: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        if current_files:
            self.fields["remove_files"].choices = [(name, name) for name in current_files]
        else:
            del self.fields["remove_files"]


class NewSolutionForm(SolutionForm):
    publish = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Publish now"),
        help_text=_("Unticked, it stays a draft that only you can see."),
    )


class ForkForm(forms.Form):
    challenge = forms.ModelChoiceField(
        label=_("Challenge"),
        queryset=Challenge.objects.none(),
        empty_label=None,
        help_text=_("Remix into the same challenge, or into another open one."),
    )
    title = inputs.PlainCharField(label=_("Title"), max_length=limits.TITLE)

    def __init__(self, *args, challenges=None, **kwargs):
        super().__init__(*args, **kwargs)
        if challenges is not None:
            self.fields["challenge"].queryset = challenges


class UpstreamForm(forms.Form):
    message = forms.CharField(
        label=_("Message"),
        widget=MarkdownEditor(attrs={"rows": 5}),
        max_length=limits.UPSTREAM_MESSAGE,
        help_text=_("What your change does and why the original would be better with it."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=limits.DECISION_REASON,
        help_text=_("Say why, so the author can learn from it."),
    )


class ProposalForm(forms.ModelForm):
    class Meta:
        model = ChallengeProposal
        fields = ["title", "summary", "problem", "context"]
        field_classes = {"title": inputs.PlainCharField}
        widgets = {
            "problem": MarkdownEditor(attrs={"rows": 8}),
            "context": MarkdownEditor(attrs={"rows": 5}),
        }
        labels = {
            "title": _("Title"),
            "summary": _("Summary"),
            "problem": _("Problem"),
            "context": _("Why it matters"),
        }
        help_texts = {"problem": _("Markdown."), "context": _("Markdown: why it matters.")}


class CommentForm(forms.Form):
    body = forms.CharField(
        label=pgettext_lazy("noun", "Comment"),
        widget=MarkdownEditor(attrs={"rows": 3, "placeholder": _("Be specific and kind.")}),
        max_length=limits.COMMENT,
    )
    language = content_language_field()
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


class SolutionWithFilesForm(SolutionForm, SolutionFilesMixin):
    field_order = ["title", "body", "language", "files", "remove_files", "message"]


class NewSolutionWithFilesForm(NewSolutionForm, SolutionFilesMixin):
    field_order = ["title", "body", "language", "files", "message", "publish"]
