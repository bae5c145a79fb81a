from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count
from django.utils import timezone

from . import deletion, services
from .admin_mixins import ReadOnlyAdmin
from .models import (
    AccessToken,
    AccountDeletion,
    Activity,
    ActivitySubject,
    DataExport,
    EditVersion,
    Follow,
    ManifestoSignature,
    ManifestoTranslation,
    ManifestoVersion,
    MemberRelation,
    Mention,
    Notification,
    NotificationDigest,
    NotificationPreference,
    OutboxTask,
    User,
    Value,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Profile", {"fields": ("display_name", "bio", "skills")}),
    )
    list_display = ("username", "display_name", "email", "is_staff", "is_active", "date_joined")
    search_fields = ("username", "display_name", "email")
    actions = ["anonymise_now"]

    @admin.action(description="Anonymise now (account deletion, no grace period)")
    def anonymise_now(self, request, queryset):
        """Staff's way to honour a deletion request at once (peerhub.deletion): the same rules
        as the member's own request, blockers included; the rows stay, anonymised."""
        done = 0
        for member in queryset.order_by("pk"):
            if member.pk == request.user.pk:
                self.message_user(request, "You cannot anonymise yourself here.", messages.ERROR)
                continue
            try:
                deletion.account_anonymise(user=member, by=request.user)
            except deletion.DeletionBlocked as blocked:
                reasons = " ".join(b.message for b in blocked.blockers)
                self.message_user(request, f"{member}: not anonymised. {reasons}", messages.ERROR)
                continue
            done += 1
        if done:
            self.message_user(request, f"{done} account(s) anonymised.", messages.SUCCESS)


@admin.register(Value)
class ValueAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    list_editable = ("position",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "description")


class ManifestoTranslationInline(admin.StackedInline):
    """Staff translate a version here; readers of that language see it (issue 22)."""

    model = ManifestoTranslation
    extra = 0
    fields = ("language", "title", "preamble", "body", "updated_at")
    readonly_fields = ("updated_at",)


@admin.register(ManifestoVersion)
class ManifestoVersionAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "published_at", "signature_count")
    list_filter = (("published_at", admin.EmptyFieldListFilter),)
    search_fields = ("title", "body")
    actions = ["publish_now"]
    inlines = [ManifestoTranslationInline]

    def save_model(self, request, obj, form, change):
        # Its translations are older than its words from now on (they say so to readers).
        if change and {"title", "preamble", "body"} & set(form.changed_data):
            obj.text_edited_at = timezone.now()
        super().save_model(request, obj, form, change)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_signatures=Count("signatures"))

    @admin.display(description="signatures", ordering="n_signatures")
    def signature_count(self, obj):
        return obj.n_signatures

    @admin.action(description="Publish the selected version now (members are asked to sign it)")
    def publish_now(self, request, queryset):
        for version in queryset.filter(published_at__isnull=True):
            services.manifesto_publish(version=version)
        self.message_user(request, "Published.", messages.SUCCESS)


@admin.register(ManifestoTranslation)
class ManifestoTranslationAdmin(admin.ModelAdmin):
    list_display = ("version", "language", "title", "updated_at")
    list_filter = ("language",)
    search_fields = ("title", "body")


@admin.register(ManifestoSignature)
class ManifestoSignatureAdmin(admin.ModelAdmin):
    list_display = ("user", "version", "signed_at")
    list_filter = ("version",)
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user",)
    date_hierarchy = "signed_at"


# --- Notifications, following, activity ------------------------------------------------------


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "text", "email", "created_at", "read_at", "emailed_at")
    list_filter = ("kind", "email", ("read_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("recipient__username", "text")
    raw_id_fields = ("recipient", "actor", "digest")
    date_hierarchy = "created_at"


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "channel")
    list_filter = ("kind", "channel")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


@admin.register(NotificationDigest)
class NotificationDigestAdmin(ReadOnlyAdmin):
    list_display = ("recipient", "day", "notification_count", "sent_at")
    list_filter = ("day",)
    search_fields = ("recipient__username",)


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ("follower", "target_type", "target_id", "created_at")
    list_filter = ("target_type",)
    search_fields = ("follower__username",)
    raw_id_fields = ("follower",)


class ActivitySubjectInline(admin.TabularInline):
    model = ActivitySubject
    extra = 0


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("text", "verb", "actor", "created_at")
    list_filter = ("verb", "created_at")
    search_fields = ("text", "actor__username")
    inlines = [ActivitySubjectInline]


@admin.register(ActivitySubject)
class ActivitySubjectAdmin(ReadOnlyAdmin):
    list_display = ("activity", "subject_type", "subject_id")
    list_filter = ("subject_type",)


@admin.register(OutboxTask)
class OutboxTaskAdmin(ReadOnlyAdmin):
    """Promised work not yet done: waiting for the relay, a worker or a retry; `failed` rows
    went through every attempt (peerhub.outbox)."""

    list_display = ("task", "args", "attempts", "next_attempt_at", "failed", "last_error")
    list_filter = ("failed", "task")
    search_fields = ("task", "last_error")


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyAdmin):
    """Members' API tokens: their names, scopes and use, never a secret (none is stored).
    Staff may revoke them."""

    list_display = (
        "name",
        "user",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)

    def has_change_permission(self, request, obj=None):
        # The changelist's action needs it; the form itself shows every field read-only.
        return request.user.is_staff

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(Mention)
class MentionAdmin(ReadOnlyAdmin):
    """Who was mentioned where (one row per member and item: a mention notifies once)."""

    list_display = ["mentioned", "author", "item_type", "item_id", "created_at"]
    list_filter = ["item_type"]
    search_fields = ["mentioned__username", "author__username"]
    raw_id_fields = ["mentioned", "author"]


@admin.register(MemberRelation)
class MemberRelationAdmin(ReadOnlyAdmin):
    """Who muted or blocked whom: members manage their own (peerhub.relations); staff read."""

    list_display = ["member", "kind", "other", "created_at"]
    list_filter = ["kind"]
    search_fields = ["member__username", "other__username"]
    raw_id_fields = ["member", "other"]
    date_hierarchy = "created_at"


@admin.register(EditVersion)
class EditVersionAdmin(ReadOnlyAdmin):
    """Kept versions of edited challenges, comments and offers (peerhub.history)."""

    list_display = ["item_type", "item_id", "number", "edited_by", "edited_at"]
    list_filter = ["item_type"]
    list_select_related = ["item_type", "edited_by"]


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyAdmin):
    """Members' data exports (peerhub.exports): their state and expiry, never the archive nor
    the link's token, which are the member's alone."""

    list_display = ("user", "state", "progress", "size", "created_at", "finished_at", "expires_at")
    list_filter = ("state", "created_at")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    exclude = ("token", "file_name")


@admin.register(AccountDeletion)
class AccountDeletionAdmin(ReadOnlyAdmin):
    """Members' requests to leave (peerhub.deletion): pending ones are anonymised by the hourly
    task once due; `blocked reason` says why one is still waiting."""

    list_display = [
        "user",
        "requested_at",
        "due_at",
        "remove_drafts",
        "cancelled_at",
        "done_at",
        "done_by",
        "blocked_reason",
    ]
    list_filter = [
        ("done_at", admin.EmptyFieldListFilter),
        ("cancelled_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["user__username"]
    raw_id_fields = ["user", "done_by"]
    date_hierarchy = "requested_at"
