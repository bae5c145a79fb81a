from django.contrib import admin, messages

from peerhub.admin_mixins import ReadOnlyAdmin, RenderedMarkdownAdmin, render_stored_html
from peerhub.mentions import render_with_mentions

from . import services
from .models import (
    Blob,
    Challenge,
    ChallengeProposal,
    ChallengeTranslation,
    Comment,
    Criterion,
    ProposalBacking,
    Revision,
    RevisionArchive,
    RevisionFile,
    SelectionEntry,
    SelectionRound,
    Solution,
    Tag,
    Upload,
    UpstreamProposal,
)


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "visibility", "closes_at", "solution_count", "created_at")
    list_filter = ("status", "visibility", "language", "values", "tags")
    search_fields = ("title", "summary", "slug")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("organisers", "invited", "values", "tags")
    readonly_fields = ("solution_count", "comment_count", "created_at", "last_activity_at")
    raw_id_fields = ("created_by", "proposal")
    inlines = [CriterionInline]
    date_hierarchy = "created_at"


@admin.register(ChallengeTranslation)
class ChallengeTranslationAdmin(RenderedMarkdownAdmin):
    rendered_fields = {"problem": "problem_html", "context": "context_html"}
    list_display = ("challenge", "language", "title", "translated_by", "updated_at")
    list_filter = ("language",)
    search_fields = ("title", "summary", "challenge__title", "challenge__slug")
    raw_id_fields = ("challenge", "translated_by")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(ChallengeProposal)
class ChallengeProposalAdmin(RenderedMarkdownAdmin):
    rendered_fields = {"problem": "problem_html", "context": "context_html"}
    list_display = ("title", "proposer", "status", "backing_count", "created_at")
    list_filter = ("status",)
    search_fields = ("title", "summary", "proposer__username")
    raw_id_fields = ("proposer", "decided_by")


@admin.register(ProposalBacking)
class ProposalBackingAdmin(admin.ModelAdmin):
    list_display = ("proposal", "user", "created_at")
    raw_id_fields = ("proposal", "user")


class RevisionInline(admin.TabularInline):
    model = Revision
    fk_name = "solution"
    fields = ("number", "title", "message", "author", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Solution)
class SolutionAdmin(admin.ModelAdmin):
    """Solutions are never deleted here: withdrawal keeps every lineage intact."""

    list_display = ("title", "challenge", "author", "status", "generation", "fork_count")
    list_filter = ("status", "generation", "challenge")
    search_fields = ("title", "author__username", "challenge__title")
    raw_id_fields = ("challenge", "author", "parent", "forked_from_revision", "root")
    readonly_fields = (
        "parent", "forked_from_revision", "root", "generation", "path", "current_revision",
        "revision_count", "fork_count", "descendant_count", "comment_count", "created_at",
        "updated_at", "published_at", "withdrawn_at",
    )  # fmt: skip
    inlines = [RevisionInline]
    actions = ["withdraw"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Withdraw the selected solutions (they keep their lineage)")
    def withdraw(self, request, queryset):
        count = 0
        for solution in queryset.exclude(status=Solution.Status.WITHDRAWN):
            services.solution_withdraw(solution=solution, by=request.user)
            count += 1
        self.message_user(request, f"Withdrew {count} solution(s).", messages.SUCCESS)


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    """Read-only: revisions are immutable."""

    list_display = ("solution", "number", "title", "author", "created_at")
    search_fields = ("title", "solution__title", "author__username")
    list_select_related = ("solution", "author")


@admin.register(Blob)
class BlobAdmin(ReadOnlyAdmin):
    """Read-only: a blob's bytes are its name; the sweep deletes the unreferenced ones."""

    list_display = ("sha256", "content_type", "size", "uploaded_by", "created_at", "last_used_at")
    list_filter = ("content_type",)
    search_fields = ("sha256", "uploaded_by__username")
    list_select_related = ("uploaded_by",)
    date_hierarchy = "created_at"


@admin.register(RevisionFile)
class RevisionFileAdmin(ReadOnlyAdmin):
    """Read-only: a revision's manifest is written with it and never changed."""

    list_display = ("revision", "path", "blob")
    search_fields = ("path", "blob__sha256", "revision__solution__title")
    list_select_related = ("revision", "blob")


@admin.register(RevisionArchive)
class RevisionArchiveAdmin(ReadOnlyAdmin):
    """Read-only: large revisions' zips built by a task; the hourly sweep deletes the old ones."""

    list_display = ("revision", "viewer", "state", "progress", "size", "created_at", "expires_at")
    list_filter = ("state",)
    search_fields = ("revision__solution__title", "viewer__username")
    list_select_related = ("revision", "viewer")
    date_hierarchy = "created_at"


@admin.register(Upload)
class UploadAdmin(ReadOnlyAdmin):
    """Read-only: API uploads waiting to be attached; the blob sweep deletes the old ones."""

    list_display = ("name", "user", "blob", "created_at")
    search_fields = ("name", "user__username", "blob__sha256")
    list_select_related = ("user", "blob")
    date_hierarchy = "created_at"


@admin.register(UpstreamProposal)
class UpstreamProposalAdmin(RenderedMarkdownAdmin):
    rendered_fields = {"message": "message_html"}
    list_display = ("fork", "parent", "author", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = (
        "fork", "parent", "fork_revision", "base_revision", "author", "resulting_revision",
    )  # fmt: skip


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "author",
        "challenge",
        "solution",
        "created_at",
        "deleted_at",
        "hidden_at",
    )
    list_filter = (
        ("deleted_at", admin.EmptyFieldListFilter),
        ("hidden_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("body", "author__username")
    raw_id_fields = ("author", "challenge", "solution", "parent", "hidden_by")
    readonly_fields = ("thread",)  # derived from the parent by comment_create

    def save_model(self, request, obj, form, change):
        # The stored HTML follows an edit made here, as it does through comment_edit.
        obj.body_html = "" if obj.is_deleted else render_with_mentions(obj.body).html
        super().save_model(request, obj, form, change)


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    list_display = ("name", "challenge", "position")
    search_fields = ("name", "challenge__title")
    list_select_related = ("challenge",)
    raw_id_fields = ("challenge",)


class SelectionEntryInline(admin.TabularInline):
    model = SelectionEntry
    extra = 0
    raw_id_fields = ("solution", "shortlisted_by", "selected_by")


@admin.register(SelectionRound)
class SelectionRoundAdmin(RenderedMarkdownAdmin):
    list_display = ("challenge", "number", "title", "status", "published_at")
    list_filter = ("status",)
    search_fields = ("challenge__title", "title")
    raw_id_fields = ("challenge", "created_by", "published_by")
    inlines = [SelectionEntryInline]
    rendered_fields = {"summary": "summary_html"}

    def save_formset(self, request, form, formset, change):
        entries = formset.save(commit=False)
        for entry in entries:
            render_stored_html(entry, SelectionEntryAdmin.rendered_fields)
            entry.save()
        for entry in formset.deleted_objects:
            entry.delete()
        formset.save_m2m()


@admin.register(SelectionEntry)
class SelectionEntryAdmin(RenderedMarkdownAdmin):
    rendered_fields = {"reason": "reason_html", "winner_reason": "winner_reason_html"}
    list_display = ("round", "solution", "is_winner", "shortlisted_at")
    list_filter = ("is_winner",)
    search_fields = ("solution__title", "reason")
    raw_id_fields = ("round", "solution", "shortlisted_by", "selected_by")
