from django import forms

from .models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "bio", "skills"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 6})}
        help_texts = {
            "display_name": "How your name appears next to your work.",
            "bio": "A few lines about you. Markdown works.",
        }
