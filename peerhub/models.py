"""The site's own models: members, the manifesto and its values."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import limits, locales


class User(AbstractUser):
    """A member. Custom from the first migration so that profiles can grow without a swap."""

    display_name = models.CharField(max_length=limits.DISPLAY_NAME, blank=True)
    bio = models.TextField(max_length=limits.BIO, blank=True, help_text=_("Markdown."))
    skills = models.CharField(
        max_length=limits.SKILLS,
        blank=True,
        help_text=_("Comma-separated, e.g. “civic tech, soldering”."),
    )
    # A profile hidden by moderation (issue 21, peerhub.moderation): the public stub says why.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=200, blank=True, default="")
    # The member hid the "start here" checklist of their home (peerhub.home) before finishing it.
    checklist_hidden_at = models.DateTimeField(null=True, blank=True)
    # The member's language and time zone (issue 22, peerhub.locales): a blank language means
    # "as my browser asks"; times are shown in `time_zone`, and digests go out at 07:00 there.
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        default="",
        choices=settings.LANGUAGES,
        help_text=_("Blank: the language your browser asks for."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=locales.DEFAULT_TIME_ZONE,
        validators=[locales.validate_time_zone],
        help_text=_("Times are shown in this zone, and deadlines you set are read in it."),
    )

    class Meta:
        ordering = ["username"]
        constraints = [limits.length_check("bio", limits.BIO, name="user_bio_max_length")]
        indexes = [
            # The few deactivated members, so that a board leaves them out without joining
            # every member (reputation.leaderboards).
            models.Index(fields=["id"], condition=models.Q(is_active=False), name="user_inactive"),
        ]

    def __str__(self) -> str:
        return self.username

    # The columns a member is named and linked by (`name`, `get_absolute_url`): what a list
    # that only names members reads of them (`.only(...)`).
    NAME_FIELDS = ("id", "username", "display_name")

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def skill_list(self) -> list[str]:
        return [s.strip() for s in self.skills.split(",") if s.strip()]

    def get_absolute_url(self) -> str:
        return reverse("profile", kwargs={"username": self.username})


class Value(models.Model):
    """One of the manifesto's values; challenges say which values they serve."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80, unique=True)
    description = models.TextField(max_length=limits.VALUE_DESCRIPTION, help_text="Markdown.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            limits.length_check(
                "description", limits.VALUE_DESCRIPTION, name="value_description_max_length"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("manifesto") + f"#value-{self.slug}"


class ManifestoVersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__isnull=False, published_at__lte=timezone.now())


class ManifestoVersion(models.Model):
    """A version of the platform's manifesto. The newest published one is the current one;
    signatures belong to a version, so publishing a new one asks every member to sign again."""

    number = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    preamble = models.TextField(
        max_length=limits.MANIFESTO_PREAMBLE,
        help_text="Markdown: the heart of the manifesto, shown on home.",
    )
    body = models.TextField(max_length=limits.MANIFESTO_BODY, help_text="Markdown.")
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When its words (title, preamble, body) last changed: translations older than this say so.
    text_edited_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ManifestoVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        get_latest_by = "number"
        constraints = [
            limits.length_check(
                "preamble", limits.MANIFESTO_PREAMBLE, name="manifesto_preamble_max_length"
            ),
            limits.length_check("body", limits.MANIFESTO_BODY, name="manifesto_body_max_length"),
        ]

    def __str__(self) -> str:
        return f"v{self.number}: {self.title}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None and self.published_at <= timezone.now()


class ManifestoTranslation(models.Model):
    """A manifesto version in another of the site's languages (issue 22), written by staff in
    the admin. The manifesto is written in settings.LANGUAGE_CODE."""

    version = models.ForeignKey(
        ManifestoVersion, on_delete=models.CASCADE, related_name="translations"
    )
    language = models.CharField(max_length=10, choices=settings.LANGUAGES)
    title = models.CharField(max_length=200)
    preamble = models.TextField(max_length=limits.MANIFESTO_PREAMBLE, help_text="Markdown.")
    body = models.TextField(max_length=limits.MANIFESTO_BODY, help_text="Markdown.")
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["version", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "language"], name="one_manifesto_translation_per_language"
            ),
            models.CheckConstraint(
                condition=~models.Q(language=settings.LANGUAGE_CODE),
                name="manifesto_translation_not_in_the_original_language",
            ),
            limits.length_check(
                "preamble", limits.MANIFESTO_PREAMBLE, name="manifesto_translation_preamble_max"
            ),
            limits.length_check(
                "body", limits.MANIFESTO_BODY, name="manifesto_translation_body_max"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version_id} in {self.language}"

    def save(self, *args, **kwargs):
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.language == settings.LANGUAGE_CODE:
            raise ValidationError(
                {"language": "The manifesto is written in that language: edit the version."}
            )


class ManifestoSignature(models.Model):
    version = models.ForeignKey(
        ManifestoVersion, on_delete=models.PROTECT, related_name="signatures"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="manifesto_signatures"
    )
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "user"], name="one_signature_per_member_and_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} signed v{self.version.number}"


# --- Notifications, following and the activity feed --------------------------------------------
# Targets are generic (a content type and an id, plus a URL captured when the row is written), so
# the site never imports the apps whose objects it points at.


class Channel(models.TextChoices):
    """How a member wants to hear about one kind of event."""

    IMMEDIATE = "immediate", _("In the app and by e-mail at once")
    DIGEST = "digest", _("In the app and in the daily e-mail digest")
    IN_APP = "in_app", _("In the app only")
    OFF = "off", _("Not at all")


class NotificationDigest(models.Model):
    """One daily digest e-mail. The unique (recipient, day) pair is what makes sending twice on
    the same day impossible, whoever runs the task and however often."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_digests"
    )
    day = models.DateField()
    notification_count = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "day"], name="one_digest_per_member_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"digest for {self.recipient_id} on {self.day}"


class Notification(models.Model):
    class Email(models.TextChoices):
        NONE = "none", "No e-mail"
        IMMEDIATE = "immediate", "E-mail at once"
        DIGEST = "digest", "Daily digest"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    target_type = models.ForeignKey(
        "contenttypes.ContentType", null=True, blank=True, on_delete=models.CASCADE
    )
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    target_url = models.CharField(max_length=500, blank=True)
    # The words in the site's language when it was written; `message` words it in the reader's
    # language from the kind and `context` (what peerhub.notifications.Kind.capture kept).
    text = models.CharField(max_length=300)
    context = models.JSONField(default=dict, blank=True)
    # One notification per (recipient, kind, key): the same event notified twice stays one.
    dedupe_key = models.CharField(max_length=120)
    email = models.CharField(max_length=10, choices=Email, default=Email.NONE)
    emailed_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey(
        NotificationDigest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_new"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(
                fields=["recipient"],
                condition=models.Q(email="digest", digest__isnull=True),
                name="notification_digest_pending",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "dedupe_key"], name="one_notification_per_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.text}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def message(self) -> str:
        """The notification worded in the active language (the reader's). One written before
        notifications kept their context, or of a kind no longer declared, shows as written."""
        from peerhub.notifications.kinds import get_kind

        if not self.context:
            return self.text
        try:
            return get_kind(self.kind).render(context=self.context, captured=True)
        except (LookupError, KeyError, IndexError, ValueError):
            return self.text


class NotificationPreference(models.Model):
    """A member's choice for one kind; without a row the kind's default applies."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=60)
    channel = models.CharField(max_length=10, choices=Channel)

    class Meta:
        ordering = ["user", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind"),
            models.CheckConstraint(
                condition=models.Q(channel__in=[c.value for c in Channel]),
                name="notification_preference_channel_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.channel}"


class Follow(models.Model):
    """A member follows a member, a challenge or a solution (the types registered in
    peerhub.following)."""

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    target_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="follow_target")]
        constraints = [
            models.UniqueConstraint(
                fields=["follower", "target_type", "target_id"], name="one_follow_per_target"
            ),
            models.CheckConstraint(condition=models.Q(target_id__gt=0), name="follow_has_target"),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.target_type_id}:{self.target_id}"


class Activity(models.Model):
    """Something that happened, shown in the feeds of those who follow one of its subjects
    (e.g. a fork: its author, the solution it forks, its challenge)."""

    verb = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    target_type = models.ForeignKey(
        "contenttypes.ContentType", null=True, blank=True, on_delete=models.CASCADE
    )
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target_url = models.CharField(max_length=500, blank=True)
    # The line in the site's language as recorded; `message` words it in the reader's from the
    # verb's registered text and `context` (peerhub.following.register_verb).
    text = models.CharField(max_length=300)
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.text

    @property
    def message(self) -> str:
        """The line in the active language; one recorded before lines kept their context, or
        of a verb no longer declared, as it was written."""
        from peerhub.following import activity_words

        if not self.context:
            return self.text
        try:
            return activity_words(self.verb, self.context)
        except (LookupError, KeyError, IndexError, ValueError):
            return self.text


class ActivitySubject(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="subjects")
    subject_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    subject_id = models.PositiveBigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="activity_subject")]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "subject_type", "subject_id"], name="one_subject_per_activity"
            )
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} about {self.subject_type_id}:{self.subject_id}"


class OutboxTask(models.Model):
    """Work a committed fact promises (a reputation sync, a rankings recompute, notifications,
    an e-mail), written in the fact's own transaction and published to Celery after commit
    (peerhub.outbox). The row lives until its task succeeds: the relay's sweep publishes again
    whatever the broker lost, a worker died on, or is due, so the work is done at least once;
    the tasks are idempotent, so a second run is harmless."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the sweep may publish it (again): a grace after creation for the after-commit relay,
    # a lease after each publication for the worker, a backoff after a failed publication.
    next_attempt_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    failed = models.BooleanField(default=False, help_text="Gave up after every attempt.")
    last_error = models.CharField(max_length=300, blank=True)
    # The request that made the promise: its id follows the task into the worker's logs.
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(failed=False),
                name="peerhub_outbox_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


# --- Personal access tokens (issue 16) ---------------------------------------------------------


class AccessToken(models.Model):
    """A member's named API token (peerhub.tokens). Only a SHA-256 of the secret is stored, and
    its first characters to recognise it by: the secret is 256 random bits, so a fast hash
    leaves nothing to guess, and a copy of the database lets no one in."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"
        MARKETPLACE = "marketplace", "Marketplace"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, help_text="The secret's first characters.")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the secret.")
    scopes = models.CharField(max_length=40, help_text="Space-separated: read write marketplace.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="access_token_user_live")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(scopes=""), name="token_has_scopes")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class Mention(models.Model):
    """A member named with `@username` in a piece of writing (a comment, a solution). One row per
    member and item, whatever the edits and revisions: the unique pair is what makes the
    mention notify once (peerhub.mentions.mentions_record)."""

    mentioned = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    item_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    item_id = models.PositiveBigIntegerField()
    item = GenericForeignKey("item_type", "item_id")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item_type", "item_id", "mentioned"], name="one_mention_per_member_and_item"
            )
        ]

    def __str__(self) -> str:
        return f"@{self.mentioned_id} in {self.item_type_id}:{self.item_id}"


class EditVersion(models.Model):
    """One version of an edited item (a challenge's brief, criteria and deadline, a comment, an
    offer), kept so that anyone who may see the item can see how it changed (peerhub.history).
    `fields` holds the item's tracked fields as text, as they read from this version on; the
    first version is the item as first written, kept on its first edit."""

    item_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    item_id = models.PositiveBigIntegerField()
    number = models.PositiveIntegerField()
    fields = models.JSONField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["item_type", "item_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["item_type", "item_id", "number"], name="one_edit_version_per_number"
            ),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="edit_version_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.item_type_id}:{self.item_id} v{self.number}"


# --- Muting and blocking (issue 21) ------------------------------------------------------------


class MemberRelation(models.Model):
    """A member's mute or block of another member (peerhub.relations holds the rules). Muting
    silences the other's social notifications for the member alone; blocking does that both
    ways and stops new interaction between the two (mentions, orders)."""

    class Kind(models.TextChoices):
        MUTE = "mute", pgettext_lazy("member state", "Muted")
        BLOCK = "block", pgettext_lazy("member state", "Blocked")

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="relations_made"
    )
    other = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="relations_received"
    )
    kind = models.CharField(max_length=5, choices=Kind)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Also the index behind every lookup, whichever of the two is asked about.
            models.UniqueConstraint(
                fields=["member", "other", "kind"], name="one_relation_per_member_other_kind"
            ),
            models.CheckConstraint(
                condition=~models.Q(member=models.F("other")), name="relation_not_with_oneself"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["mute", "block"]), name="relation_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.kind}s {self.other_id}"


# --- Members take their data with them (issue 21) -----------------------------------------------


class BackgroundArchive(models.Model):
    """A file built by a task for someone to download, kept until `expires_at`: a member's data
    export here, a large revision's zip in challenges. Subclasses name their `State` choices
    (with READY among them), which of them are `IN_FLIGHT`, and their own state field."""

    IN_FLIGHT: tuple = ()

    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent, 0 to 100.")
    file_name = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def in_flight(self) -> bool:
        return self.state in self.IN_FLIGHT

    @property
    def is_downloadable(self) -> bool:
        return (
            self.state == self.State.READY
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )


class DataExport(BackgroundArchive):
    """One archive of everything a member put into PeerHub or that PeerHub keeps about them
    (peerhub.exports): asked for on the "Your data" page or the API, built by a task, e-mailed as
    a link that works for its owner until `expires_at`, then deleted by a periodic sweep."""

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        BUILDING = "building", "Being built"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    IN_FLIGHT = (State.REQUESTED, State.BUILDING)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    state = models.CharField(max_length=10, choices=State, default=State.REQUESTED)
    # file_name is in the `exports` storage (settings.STORAGES): never served publicly, only
    # through the owner's download view.
    # The download link's secret part: 256 random bits, useless without the owner's session.
    token = models.CharField(max_length=64, unique=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta(BackgroundArchive.Meta):
        indexes = [models.Index(fields=["user", "-created_at"], name="data_export_user_new")]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(state__in=["requested", "building"]),
                name="one_data_export_in_flight_per_member",
            ),
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="data_export_progress_max_100"
            ),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.user_id} ({self.state})"

    def get_download_url(self) -> str:
        return reverse("data-export-download", kwargs={"token": self.token})


# --- Leaving: account deletion (issue 21, GDPR art. 17) ----------------------------------------


class AccountDeletion(models.Model):
    """A member's request to leave (peerhub.deletion holds the rules). Due after the grace
    period (settings.PEERHUB_ACCOUNT_DELETION_GRACE) unless cancelled by signing in again; then
    the account is anonymised in place: the User row stays, so the solutions, comments and ledger
    lines that point at it stay too, attributed to "Deleted member #n"."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deletions"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    remove_drafts = models.BooleanField(
        default=False, help_text="Also remove the member's never-published drafts."
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    # Who anonymised it (staff, from the admin); empty when the grace period ran out.
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why the last attempt at the due time did not go ahead (an order still open...).
    blocked_reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(cancelled_at__isnull=True, done_at__isnull=True),
                name="account_deletion_due",
            )
        ]
        constraints = [
            # One pending request per member: asking twice returns the first.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(cancelled_at__isnull=True, done_at__isnull=True),
                name="one_pending_deletion_per_member",
            ),
            models.CheckConstraint(
                condition=models.Q(due_at__gte=models.F("requested_at")),
                name="account_deletion_due_after_request",
            ),
        ]

    def __str__(self) -> str:
        return f"deletion of {self.user_id} due {self.due_at:%Y-%m-%d}"

    @property
    def is_pending(self) -> bool:
        return self.cancelled_at is None and self.done_at is None
