"""Reads for the site: the current manifesto, its signatories and members (the home page's
figures are in peerhub.figures)."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, FilteredRelation, OuterRef, Q, QuerySet

from . import languages
from .models import AccountDeletion, ManifestoSignature, ManifestoVersion, User, Value


def user_is_verified(user) -> bool:
    """A member may contribute once one of their e-mail addresses is verified."""
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_peerhub_verified", None)
    if cached is None:
        cached = EmailAddress.objects.filter(user=user, verified=True).exists()
        user._peerhub_verified = cached
    return cached


def manifesto_current(*, language: str | None = None) -> ManifestoVersion | None:
    """The newest published version; with `language`, its translation into that language (if
    any) joined in the same query (read by `manifesto_text`)."""
    versions = ManifestoVersion.objects.published()
    if language and language != settings.LANGUAGE_CODE:
        versions = versions.annotate(
            reader_translation=FilteredRelation(
                "translations", condition=Q(translations__language=language)
            )
        ).select_related("reader_translation")
    return versions.order_by("-number").first()


@dataclass(frozen=True)
class ManifestoText:
    """The manifesto as a reader sees it: their language's translation, or the original."""

    title: str
    preamble: str  # Markdown
    body: str
    language: str
    translated: bool
    translation_available: bool
    outdated: bool  # the translation is older than the version's last edit

    @property
    def rtl(self) -> bool:
        return languages.is_rtl(self.language)

    @property
    def language_name(self) -> str:
        return languages.name(self.language)

    @property
    def original_language(self) -> str:
        return settings.LANGUAGE_CODE

    @property
    def original_language_name(self) -> str:
        return languages.name(settings.LANGUAGE_CODE)


def manifesto_text(
    version: ManifestoVersion, *, language: str, original: bool = False
) -> ManifestoText:
    translation = None
    if language != settings.LANGUAGE_CODE:
        if "reader_translation" in version._state.fields_cache:
            translation = version._state.fields_cache["reader_translation"]
        else:
            translation = version.translations.filter(language=language).first()
    if translation is None or original:
        return ManifestoText(
            title=version.title,
            preamble=version.preamble,
            body=version.body,
            language=settings.LANGUAGE_CODE,
            translated=False,
            translation_available=translation is not None,
            outdated=False,
        )
    return ManifestoText(
        title=translation.title,
        preamble=translation.preamble,
        body=translation.body,
        language=translation.language,
        translated=True,
        translation_available=True,
        outdated=translation.updated_at < version.text_edited_at,
    )


def manifesto_values() -> QuerySet[Value]:
    return Value.objects.all()


def manifesto_signatures(*, version: ManifestoVersion) -> QuerySet[ManifestoSignature]:
    return version.signatures.select_related("user").order_by("-signed_at", "-id")


def manifesto_has_signed(*, user, version: ManifestoVersion | None) -> bool:
    if version is None or not getattr(user, "is_authenticated", False):
        return False
    return ManifestoSignature.objects.filter(user=user, version=version).exists()


def members_active() -> QuerySet[User]:
    return get_user_model().objects.filter(is_active=True)


def members_public() -> QuerySet[User]:
    """The members others may see and count: active, with a verified address. An account that
    never verified has no profile, no place in the API's lists or search, and is not a member
    on the home page's figures (issue 18)."""
    verified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    return members_active().filter(Exists(verified))


def profiles_public() -> QuerySet[User]:
    """The profiles put before search engines and feed readers (sitemap, a member's feed): the
    members anyone may see (members_public) whose profile moderation has not hidden. Same rule
    as profile_is_public, for lists."""
    return members_public().filter(hidden_at__isnull=True)


def profile_is_public(member: User) -> bool:
    """profiles_public for one member loaded by profile_member (which annotates is_verified)."""
    return bool(getattr(member, "is_verified", False)) and member.is_active and not member.hidden_at


def profile_member(*, viewer, username: str) -> User | None:
    """The member whose profile `viewer` may open, or None: an active member with a verified
    address, or an unverified one to themselves and to staff. One query, loaded with the answers
    the request's own member is loaded with (verified address, trust level's inputs, Premium:
    peerhub.auth_backends.request_user_annotations), which the profile shows about them."""
    from .auth_backends import request_user_annotations

    member = (
        members_active().filter(username=username).annotate(**request_user_annotations()).first()
    )
    if member is None:
        return None
    member.is_verified = member._peerhub_verified
    if member.is_verified:
        return member
    if getattr(viewer, "is_authenticated", False) and (viewer.pk == member.pk or viewer.is_staff):
        return member
    return None


def member_left(*, username: str) -> User | None:
    """A member who left (peerhub.deletion): anonymised, shown only as a stub."""
    done = AccountDeletion.objects.filter(user=OuterRef("pk"), done_at__isnull=False)
    return (
        get_user_model()
        .objects.filter(username=username, is_active=False)
        .filter(Exists(done))
        .first()
    )
