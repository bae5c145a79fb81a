from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms

from . import inputs
from .models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "bio", "skills"]
        field_classes = {"display_name": inputs.PlainCharField}
        widgets = {"bio": forms.Textarea(attrs={"rows": 6})}
        help_texts = {
            "display_name": "How your name appears next to your work.",
            "bio": "A few lines about you. Markdown works.",
        }


class LoginForm(AllauthLoginForm):
    """allauth's login form, with a label that says what may be typed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = "Username or e-mail"
        login.widget.attrs["placeholder"] = "Username or e-mail address"
