from django.contrib import admin

from peerhub.admin_mixins import ReadOnlyAdmin

from . import services
from .models import (
    FanoutPartition,
    FanoutRun,
    Flag,
    LedgerCheck,
    LedgerTouch,
    MemberTrust,
    ModerationAction,
    ModerationCase,
    ReputationDay,
    ReputationEvent,
    ReputationScore,
    ReputationStanding,
    Review,
    ReviewScore,
    SolutionScore,
    TrustSnapshot,
    Vote,
)


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ("solution", "voter", "value", "created_at")
    list_filter = ("value",)
    search_fields = ("voter__username", "solution__title")
    raw_id_fields = ("solution", "voter")


class ReviewScoreInline(admin.TabularInline):
    model = ReviewScore
    extra = 0
    raw_id_fields = ("criterion",)


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("solution", "reviewer", "mean_score", "updated_at")
    search_fields = ("reviewer__username", "solution__title", "comment")
    raw_id_fields = ("solution", "reviewer")
    inlines = [ReviewScoreInline]


@admin.register(ReputationEvent)
class ReputationEventAdmin(ReadOnlyAdmin):
    """The ledger is append-only: read it here, never edit it."""

    list_display = ("beneficiary", "kind", "amount", "fact_key", "seq", "fact_at")
    list_filter = ("kind", "capped")
    search_fields = ("beneficiary__username", "fact_key")
    list_select_related = ("beneficiary",)
    date_hierarchy = "fact_at"


@admin.register(ReputationScore)
class ReputationScoreAdmin(admin.ModelAdmin):
    """Staff may pin a trust level; totals are computed from the ledger."""

    list_display = ("user", "total", "trust_level", "pinned_level", "computed_at")
    list_filter = ("trust_level",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
    readonly_fields = ("total", "trust_level", "computed_at")
    fields = ("user", "total", "trust_level", "pinned_level", "computed_at")

    def save_model(self, request, obj, form, change):
        services.trust_level_pin(member=obj.user, by=request.user, level=obj.pinned_level)


@admin.register(ReviewScore)
class ReviewScoreAdmin(admin.ModelAdmin):
    list_display = ("review", "criterion", "score")
    list_filter = ("score",)
    search_fields = ("criterion__name", "review__reviewer__username")
    raw_id_fields = ("review", "criterion")


@admin.register(SolutionScore)
class SolutionScoreAdmin(ReadOnlyAdmin):
    """Derived by reputation.fitness: recompute, never edit."""

    list_display = ("solution", "challenge", "fitness", "rank", "built_upon", "computed_at")
    list_filter = ("challenge",)
    search_fields = ("solution__title",)


@admin.register(TrustSnapshot)
class TrustSnapshotAdmin(ReadOnlyAdmin):
    """Computed by the trust step; the moderation page (/moderation/trust/) reads the latest."""

    list_display = ("version", "computed_at", "parameters")
    date_hierarchy = "computed_at"


@admin.register(MemberTrust)
class MemberTrustAdmin(ReadOnlyAdmin):
    list_display = ("user", "snapshot", "trust", "low_trust")
    list_filter = ("low_trust",)
    search_fields = ("user__username",)
    list_select_related = ("user", "snapshot")
    raw_id_fields = ("user", "snapshot")
    ordering = ("snapshot", "trust")


@admin.register(ReputationDay)
class ReputationDayAdmin(ReadOnlyAdmin):
    """The boards' read model, derived from the ledger (reputation.boards)."""

    list_display = ("member", "day", "challenge", "gained", "other")
    search_fields = ("member__username",)
    list_select_related = ("member", "challenge")
    raw_id_fields = ("member", "challenge")
    date_hierarchy = "day"


@admin.register(ReputationStanding)
class ReputationStandingAdmin(ReadOnlyAdmin):
    """Places on the period boards as everyone sees them (reputation.boards)."""

    list_display = ("member", "period", "since", "score")
    list_filter = ("period",)
    search_fields = ("member__username",)
    list_select_related = ("member",)
    raw_id_fields = ("member",)
    ordering = ("period", "-score")


class FanoutPartitionInline(admin.TabularInline):
    model = FanoutPartition
    extra = 0
    can_delete = False
    readonly_fields = ("phase", "step", "first_id", "last_id", "done_at")


@admin.register(FanoutRun)
class FanoutRunAdmin(ReadOnlyAdmin):
    """Partitioned rebuilds (reputation.partitions): their phase and when they finished."""

    list_display = ("job", "phase", "started_at", "finished_at", "result")
    list_filter = ("job",)
    search_fields = ("job",)
    inlines = [FanoutPartitionInline]


@admin.register(FanoutPartition)
class FanoutPartitionAdmin(ReadOnlyAdmin):
    list_display = ("run", "phase", "step", "first_id", "last_id", "done_at")
    list_filter = ("step",)
    search_fields = ("step",)
    raw_id_fields = ("run",)


@admin.register(LedgerCheck)
class LedgerCheckAdmin(ReadOnlyAdmin):
    """The nightly rebuild's runs (reputation.touches): of everything and why, or of what
    changed since the last run; and what each had to append."""

    list_display = ("ran_at", "whole", "reason", "solutions", "appended", "snapshot_id")
    list_filter = ("whole",)
    search_fields = ("reason",)


@admin.register(LedgerTouch)
class LedgerTouchAdmin(ReadOnlyAdmin):
    """What changed since the last nightly run, as the triggers wrote it."""

    list_display = ("id", "solution_id", "member_id", "lineage", "whole")
    list_filter = ("lineage", "whole")


# --- Flags and moderation (issue 21): read-only, decisions go through the review queue --------


class FlagInline(admin.TabularInline):
    model = Flag
    extra = 0
    can_delete = False
    readonly_fields = ("flagger", "reason", "text", "weight", "status", "created_at")
    fields = readonly_fields


@admin.register(ModerationCase)
class ModerationCaseAdmin(ReadOnlyAdmin):
    list_display = ("kind", "object_id", "author", "status", "weight", "reason", "opened_at")
    list_filter = ("status", "kind", "reason")
    search_fields = ("author__username",)
    raw_id_fields = ("author",)
    inlines = [FlagInline]


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ("case", "flagger", "reason", "weight", "status", "created_at")
    list_filter = ("status", "reason")
    search_fields = ("flagger__username", "text")
    raw_id_fields = ("case", "flagger")


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    """Staff see who acted (for audits); the public record never does."""

    list_display = ("case", "action", "reason", "role", "actor", "created_at")
    list_filter = ("action", "role", "reason")
    search_fields = ("actor__username",)
    raw_id_fields = ("case", "actor")
