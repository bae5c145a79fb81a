from rest_framework import serializers

from peerhub import history, limits, locales, selectors
from peerhub.api.fields import PlainCharField
from peerhub.models import ManifestoSignature, ManifestoVersion, User, Value
from peerhub.moderation import HiddenFieldsMixin


class PublicUserSerializer(HiddenFieldsMixin, serializers.ModelSerializer):
    """A profile hidden by moderation (issue 21) shows no bio or skills but to its member and
    reviewers."""

    hidden_fields = ("bio", "skills")
    author_field = "pk"
    hidden_reason = serializers.CharField(
        read_only=True, help_text="Why moderation hid it; empty when shown."
    )
    name = serializers.CharField(read_only=True)
    skills = serializers.ListField(
        source="skill_list", child=serializers.CharField(), read_only=True
    )
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = User
        fields = [
            "username", "name", "display_name", "bio", "skills", "date_joined", "url",
            "hidden_reason",
        ]  # fmt: skip
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    email_verified = serializers.SerializerMethodField()
    display_name = PlainCharField(required=False, allow_blank=True, max_length=limits.DISPLAY_NAME)
    skills = serializers.CharField(required=False, allow_blank=True, max_length=limits.SKILLS)
    language = serializers.ChoiceField(
        # Blank ("as the browser asks") is allowed, not a choice: the schema's one LanguageEnum.
        choices=locales.language_choices(),
        required=False,
        allow_blank=True,
        help_text="A language code from the site's languages; empty: as Accept-Language asks.",
    )
    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        validators=[locales.validate_time_zone],
        help_text="An IANA time zone name, e.g. America/Sao_Paulo: times and digests follow it.",
    )

    class Meta:
        model = User
        fields = [
            "username", "email", "email_verified", "name", "display_name", "bio", "skills",
            "language", "time_zone", "is_staff", "date_joined",
        ]  # fmt: skip
        read_only_fields = ["username", "email", "email_verified", "is_staff", "date_joined"]

    def get_email_verified(self, user) -> bool:
        return selectors.user_is_verified(user)


class ValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = Value
        fields = ["slug", "name", "description", "position"]


class ManifestoSerializer(serializers.ModelSerializer):
    values = serializers.SerializerMethodField()
    signature_count = serializers.IntegerField(read_only=True)
    signed_by_me = serializers.BooleanField(read_only=True)

    class Meta:
        model = ManifestoVersion
        fields = [
            "number", "title", "preamble", "body", "published_at", "values",
            "signature_count", "signed_by_me",
        ]  # fmt: skip

    def get_values(self, version) -> list[dict]:
        return ValueSerializer(selectors.manifesto_values(), many=True).data


class SignatureSerializer(serializers.ModelSerializer):
    user = PublicUserSerializer(read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)

    class Meta:
        model = ManifestoSignature
        fields = ["version", "user", "signed_at"]


class TokenCredentialsSerializer(serializers.Serializer):
    """A password sign-in's fields; peerhub.api.tokens checks them, under the failed-login
    limits."""

    username = serializers.CharField(help_text="Username or e-mail address.")
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class EditVersionSerializer(serializers.Serializer):
    """One version of an edited item (peerhub.history): the first is the item as first
    written; each later one is an edit."""

    number = serializers.IntegerField()
    edited_by = serializers.CharField(
        source="edited_by.username", allow_null=True, default=None, help_text="A username."
    )
    edited_at = serializers.DateTimeField()
    fields = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text="The tracked fields as text, as they read from this version on.",
    )
    changed = serializers.SerializerMethodField(help_text="The fields this edit changed.")

    def get_changed(self, version) -> list[str]:
        return self.context.get("changed", {}).get(version.number, [])


def edit_history_data(versions, context: dict | None = None) -> list[dict]:
    """The versions (peerhub.history.versions) as the APIs answer them."""
    changed = history.changed_names(versions)
    return EditVersionSerializer(
        versions, many=True, context={**(context or {}), "changed": changed}
    ).data
