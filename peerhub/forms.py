import secrets

from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from . import inputs, locales, tokens
from .models import AccessToken, User
from .widgets import MarkdownEditor


class ProfileForm(forms.ModelForm):
    # Language and time zone (issue 22): saved by services.member_locale_set.
    LOCALE_FIELDS = ("language", "time_zone")

    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=lambda: [("", _("As my browser asks")), *locales.language_choices()],
        help_text=_("The language of PeerHub's pages and e-mails for you."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        choices=locales.time_zone_choices,
        help_text=_("Times are shown in this zone, and deadlines you set are read in it."),
    )

    class Meta:
        model = User
        fields = ["display_name", "bio", "skills", "language", "time_zone"]
        field_classes = {"display_name": inputs.PlainCharField}
        widgets = {"bio": MarkdownEditor(attrs={"rows": 6})}
        labels = {
            "display_name": _("Display name"),
            "bio": _("Bio"),
            "skills": _("Skills"),
        }
        help_texts = {
            "display_name": _("How your name appears next to your work."),
            "bio": _("A few lines about you. Markdown works."),
            "skills": _("Comma-separated, e.g. “civic tech, soldering”."),
        }

    def profile_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in self.LOCALE_FIELDS}

    def locale_data(self) -> dict:
        """What the member sent of their language and zone; a field left out stays as it is."""
        data = {k: self.cleaned_data[k] for k in self.LOCALE_FIELDS if k in self.data}
        if not data.get("time_zone"):
            data.pop("time_zone", None)
        return data


class LoginForm(AllauthLoginForm):
    """allauth's login form, with a label that says what may be typed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = _("Username or e-mail")
        login.widget.attrs["placeholder"] = _("Username or e-mail address")


NEVER = "never"


def _in_days_now(days: int) -> str:
    return ngettext("in {count} day", "in {count} days", days).format(count=days)


# "in 30 days", worded when the form is shown (in the reader's language), not at import.
_in_days = lazy(_in_days_now, str)

# The scopes as the token form names them (peerhub.models.AccessToken.Scope keeps its English).
SCOPE_LABELS = {
    AccessToken.Scope.READ: pgettext_lazy("token scope", "Read"),
    AccessToken.Scope.WRITE: pgettext_lazy("token scope", "Write"),
    AccessToken.Scope.MARKETPLACE: pgettext_lazy("token scope", "Marketplace"),
}


class AccessTokenForm(forms.Form):
    """A new personal access token, on the API tokens settings page (peerhub.tokens)."""

    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("What will use it, e.g. “nightly backup script”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=[
            (scope, format_lazy(_("{scope}: {meaning}"), scope=SCOPE_LABELS[scope], meaning=text))
            for scope, text in tokens.SCOPE_HELP.items()
        ],
        widget=forms.CheckboxSelectMultiple,
        initial=[AccessToken.Scope.READ],
        help_text=_("Give a token only what its script needs."),
    )
    expires_in = forms.ChoiceField(
        label=_("Expires"),
        choices=[
            (
                str(days) if days else NEVER,
                _in_days(days) if days else _("never (not advised)"),
            )
            for days in tokens.EXPIRY_CHOICES
        ],
        initial=lambda: str(tokens.default_expiry_days()),
    )
    # One form, one token: sending the same form twice (a reload) makes no second one.
    nonce = forms.CharField(widget=forms.HiddenInput, initial=lambda: secrets.token_urlsafe(16))

    def token_kwargs(self) -> dict:
        expires_in = self.cleaned_data["expires_in"]
        return {
            "name": self.cleaned_data["name"],
            "scopes": self.cleaned_data["scopes"],
            "expires_in_days": None if expires_in == NEVER else int(expires_in),
        }


class AccountDeletionForm(forms.Form):
    """The confirmation step before leaving (peerhub.deletion): the member's password again, or
    their username typed out when the account has no password."""

    remove_drafts = forms.BooleanField(
        required=False,
        label=_("Also remove my drafts that were never published"),
        help_text=_("Published solutions and comments stay under their licence either way."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.has_usable_password():
            self.fields["password"] = forms.CharField(
                label=_("Your password"),
                strip=False,
                widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                help_text=_("To confirm that it is you."),
            )
        else:
            self.fields["username"] = forms.CharField(
                label=_("Type your username to confirm"),
                help_text=gettext("It is “{username}”.").format(username=user.username),
            )

    def clean(self):
        data = super().clean()
        password, username = data.get("password"), data.get("username")
        if password is not None and not self.user.check_password(password):
            self.add_error("password", gettext("That is not your password."))
        if username is not None and username.strip() != self.user.username:
            self.add_error("username", gettext("That is not your username."))
        return data
