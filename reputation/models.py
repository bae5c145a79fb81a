"""Votes, reviews, the reputation ledger and scores (DESIGN.md, idea 4).

Facts (votes, reviews, forks, accepted upstream proposals, manifesto signatures) live in their
own tables. The ledger derives from them: every amount a fact should give someone is identified
by a `fact_key` (kind + source fact + beneficiary). The ledger is append-only: when a fact
changes (a vote flipped or removed), a correction is appended under the same key, so the sum per
key always equals what the facts give today. Scores are computed from the ledger."""

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from challenges.models import rendered
from peerhub import limits


class Vote(models.Model):
    UP, DOWN = 1, -1

    solution = models.ForeignKey(
        "challenges.Solution", on_delete=models.CASCADE, related_name="votes"
    )
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes"
    )
    value = models.SmallIntegerField(choices=[(UP, _("Up")), (DOWN, _("Down"))])
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Set by the serial-voting job (reputation.abuse): from then on the vote gives its
    # solution's author (and the author's ancestors) nothing; the ledger shows the reversal.
    serial_reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["solution", "voter"], name="one_vote_per_member"),
            models.CheckConstraint(condition=Q(value__in=[1, -1]), name="vote_is_up_or_down"),
        ]
        indexes = [models.Index(fields=["voter", "created_at"], name="vote_voter_time")]

    def __str__(self) -> str:
        return f"{self.voter_id} {'+' if self.value > 0 else '-'}1 on {self.solution_id}"


class Review(models.Model):
    """A member's structured judgement of a solution against its challenge's criteria."""

    solution = models.ForeignKey(
        "challenges.Solution", on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews"
    )
    comment = models.TextField(
        max_length=limits.REVIEW, help_text=_("Markdown: what works, what would make it better.")
    )
    # `comment` rendered when written, @mentions linked (peerhub.mentions).
    comment_html = models.TextField(blank=True, default="", editable=False)
    mean_score = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Far from the consensus of the solution's earlier reviews (reputation.outliers): counts
    # neither in fitness nor on the ledger. Kept by `reviews_mark_outliers` on every save.
    outlier = models.BooleanField(default=False)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["solution", "reviewer"], name="one_review_per_member"),
            limits.length_check("comment", limits.REVIEW, name="review_comment_max_length"),
        ]

    def __str__(self) -> str:
        return f"review of {self.solution_id} by {self.reviewer_id}"

    @property
    def rendered_comment(self):
        return rendered(self.comment, self.comment_html)


class ReviewScore(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(
        "challenges.Criterion", on_delete=models.CASCADE, related_name="review_scores"
    )
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="one_score_per_criterion"),
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="score_from_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.score}"


class ReputationEvent(models.Model):
    """One line of the ledger. Never edited, never deleted: corrections are new lines."""

    class Kind(models.TextChoices):
        UPVOTE_RECEIVED = "upvote_received", _("Upvote received")
        DOWNVOTE_RECEIVED = "downvote_received", _("Downvote received")
        DOWNVOTE_CAST = "downvote_cast", _("Downvote cast")
        FORKED = "forked", _("Solution forked")
        REVIEW_RECEIVED = "review_received", _("Review received")
        UPSTREAM_ACCEPTED = "upstream_accepted", _("Change accepted upstream")
        MANIFESTO_SIGNED = "manifesto_signed", _("Manifesto signed")
        LINEAGE_CREDIT = "lineage_credit", _("Credit from a descendant")
        ORDER_REVIEWED = "order_reviewed", _("Service order reviewed")
        SHORTLISTED = "shortlisted", _("Shortlisted by the organisers")
        SELECTED = "selected", _("Selected as a winner")
        MODERATION_PENALTY = "moderation_penalty", _("Confirmed spam or abuse")

    # Indexed with the fact time (event_beneficiary_time), by key with its step
    # (one_ledger_line_per_step) and, for the rare kinds, by kind; fewer indexes make the full
    # rebuild's inserts cheaper.
    beneficiary = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reputation_events",
        db_index=False,
    )
    kind = models.CharField(max_length=24, choices=Kind)
    fact_key = models.CharField(max_length=120)
    seq = models.PositiveIntegerField(default=1)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    # When the fact happened (its UTC day is the day the daily cap counts it in).
    fact_at = models.DateTimeField()
    # The fact's rows, so every line links to what caused it.
    solution = models.ForeignKey(
        "challenges.Solution", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_solution = models.ForeignKey(
        "challenges.Solution", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    capped = models.BooleanField(default=False, help_text="Counts towards the daily vote cap.")
    # Why a correction was appended when the fact itself did not change, e.g. a vote reversed
    # by the serial-voting job; empty for ordinary lines.
    note = models.CharField(max_length=120, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-fact_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["fact_key", "seq"], name="one_ledger_line_per_step")
        ]
        indexes = [
            models.Index(fields=["beneficiary", "fact_at"], name="event_beneficiary_time"),
            # The few lines that votes do not give (manifesto, reviews, forks, orders,
            # selections), which the full rebuild reads apart: a small partial index.
            models.Index(
                fields=["kind", "solution"],
                name="event_not_from_votes",
                condition=~(
                    Q(kind__in=("upvote_received", "downvote_received", "downvote_cast"))
                    | Q(kind="lineage_credit", capped=True)
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fact_key}#{self.seq}: {self.amount}"


class ReputationScore(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reputation"
    )
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("1"))
    # The capped sum of the member's ledger before the floor of 1 (`total` = max(1, 1 + it)),
    # so that a sync can add what it changed instead of folding the whole ledger again; null
    # until the first fold.
    ledger_sum = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    trust_level = models.PositiveSmallIntegerField(default=0)
    pinned_level = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Set by staff: overrides the computed trust level."
    )
    # When the score last changed (a full fold leaves unchanged scores alone).
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-total"]
        indexes = [
            models.Index(fields=["-total"], name="score_total_desc"),
            # The members on the all-time board (reputation.leaderboards), counted from the
            # index alone for its pages.
            models.Index(fields=["user"], condition=models.Q(total__gt=1), name="score_on_board"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.total} (level {self.trust_level})"


class SolutionScore(models.Model):
    """A solution's fitness within its challenge and its rank there (reputation.fitness).

    `components` explains the number: per component its measured value (0-1), its weight and
    the points it gives (100 x weight x value, rounded); the points add up to `fitness`.
    Withdrawn solutions keep their score for the record but have no rank. A solution gets its
    row when published, for the review queue (reputation.review_counts): until its first
    recompute the row has no rank and no components, and reads as "not ranked yet"."""

    solution = models.OneToOneField(
        "challenges.Solution", on_delete=models.CASCADE, related_name="score"
    )
    challenge = models.ForeignKey(
        "challenges.Challenge", on_delete=models.CASCADE, related_name="solution_scores"
    )
    fitness = models.DecimalField(max_digits=8, decimal_places=4, default=Decimal("0"))
    rank = models.PositiveIntegerField(null=True, blank=True)
    # Published descendants by other members, unchanged copies aside: how much the solution is
    # built upon.
    built_upon = models.PositiveIntegerField(default=0)
    # Copied from the solution by each recompute, so that the platform's boards (fittest this
    # month, most built-upon lines) read one index of this table, not every score joined with
    # its solution: when it was published, and whether it starts a lineage (no parent).
    published_at = models.DateTimeField(null=True, blank=True)
    is_root = models.BooleanField(default=False)
    # The solution is a copy of its source (Solution.unchanged_fork), copied by each recompute
    # and at publication: a copy has no rank, and the review queue's index leaves it out.
    is_copy = models.BooleanField(default=False)
    # Every review of the solution, outliers included, kept by reputation.review_counts when a
    # review is written or deleted: the review queue orders by it (reputation.review_queue).
    # A recompute never writes it, but counts the reviews of a row it inserts.
    review_count = models.PositiveIntegerField(default=0)
    components = models.JSONField(default=dict)
    # When these figures were computed: a recompute that finds them the same leaves the row as
    # it was, this time included (as ReputationScore.computed_at).
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["challenge", "rank"]
        indexes = [
            models.Index(fields=["challenge", "rank"], name="score_challenge_rank"),
            models.Index(fields=["-fitness"], name="score_fitness_desc"),
            models.Index(fields=["-built_upon"], name="score_built_upon_desc"),
            # The boards of reputation.rankings: ranked scores published since a day, and the
            # ranked lineage roots built upon, in the order the board shows them.
            models.Index(
                fields=["published_at"],
                condition=models.Q(rank__isnull=False),
                name="score_ranked_published",
            ),
            models.Index(
                fields=["-built_upon", "-fitness", "solution"],
                condition=models.Q(rank__isnull=False, is_root=True, built_upon__gt=0),
                name="score_root_built_upon",
            ),
            # The review queue (reputation.review_queue): published solutions, copies aside,
            # the fewest reviews first, then the newest, then the lowest id.
            models.Index(
                fields=["review_count", "-published_at", "solution"],
                condition=models.Q(published_at__isnull=False, is_copy=False),
                name="score_review_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.solution_id}: {self.fitness} (rank {self.rank})"


class TrustSnapshot(models.Model):
    """One run of the trust step (reputation.trust): the parameters it ran with, and the
    densest mutual-voting clusters it found, for the moderation page. The latest snapshot says
    who is low-trust; older ones stay for the record until pruned."""

    version = models.PositiveIntegerField(unique=True)
    computed_at = models.DateTimeField(default=timezone.now)
    parameters = models.JSONField(default=dict)
    clusters = models.JSONField(default=list)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"trust snapshot {self.version}"


class MemberTrust(models.Model):
    """A member's trust in one snapshot: 1.0 is what a well-connected honest member gets; a
    member the walk from the seeds barely reaches scores near 0. `low_trust` is the verdict
    against the threshold in force when the snapshot was taken; `voting_ring`, whether the
    member was in the core of a group who upvote each other; `ring_backer`, whether a large
    share of the member's upvotes and good reviews went to such a group's work
    (reputation.trust)."""

    snapshot = models.ForeignKey(TrustSnapshot, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    trust = models.FloatField()
    low_trust = models.BooleanField(default=False)
    voting_ring = models.BooleanField(default=False)
    ring_backer = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "user"], name="one_trust_per_snapshot")
        ]
        indexes = [
            models.Index(fields=["snapshot", "low_trust", "user"], name="trust_low_members"),
            models.Index(fields=["snapshot", "trust"], name="trust_lowest_first"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.trust:.3f} in snapshot {self.snapshot_id}"


class ReputationDay(models.Model):
    """The leaderboards' read model (reputation.boards): per member, UTC day and challenge (none
    for lines about no solution), the ledger's keys that count in that day, netted per key.
    `gained` is the capped keys that net positive (the daily cap applies to their sum per
    member and day, over the challenges a viewer may see); `other` counts in full. Derived,
    never edited by hand: `boards.rebuild()` writes it again from the ledger."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    challenge = models.ForeignKey(
        "challenges.Challenge", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    gained = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    other = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))

    class Meta:
        indexes = [
            # The period boards read the days since the window's start from the index alone
            # (PostgreSQL; an index-only scan, not one heap page per row); the syncs and the
            # rebuilds find a member's days.
            models.Index(
                fields=["day", "member", "challenge", "gained", "other"], name="board_day_member"
            ),
            # A member's chart sums its days from the index alone (the sums as key columns:
            # SQLite knows no INCLUDE).
            models.Index(fields=["member", "day", "gained", "other"], name="board_member_day"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} on {self.day} in {self.challenge_id}: {self.gained}+{self.other}"


class ReputationStanding(models.Model):
    """A member's place on a period board as everyone sees it (reputation.boards): the period's
    sum of `ReputationDay` over lines about no solution or about public challenges, under the
    daily cap, positive sums only. `since` is the first day the sum counts: a row whose `since`
    is older than the period's start today is stale (the beat task rolls them every few
    minutes; until then the board reads the days instead)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=8)
    since = models.DateField()
    score = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "member"], name="one_standing_per_period")
        ]
        indexes = [
            models.Index(fields=["period", "-score"], name="standing_period_score"),
            models.Index(fields=["period", "since"], name="standing_period_since"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.period}: {self.score}"


class FanoutRun(models.Model):
    """One partitioned run of a long job (reputation.partitions): which phase it is in, and
    when it finished. Its partitions are promised through the outbox, so a partition lost with
    a worker runs again; the run advances (and finishes) once, under this row's lock."""

    job = models.CharField(max_length=40)
    phase = models.PositiveSmallIntegerField(default=1)
    # What every partition of the run must share: the trust snapshot, the ledger's last line.
    params = models.JSONField(default=dict, blank=True)
    result = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "finished_at"], name="fanout_run_open")]

    def __str__(self) -> str:
        return f"{self.job} run {self.pk} (phase {self.phase})"


class FanoutPartition(models.Model):
    """One step of a run over one range of ids (members, solutions or challenges)."""

    run = models.ForeignKey(FanoutRun, on_delete=models.CASCADE, related_name="partitions")
    phase = models.PositiveSmallIntegerField()
    step = models.CharField(max_length=40)
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "phase", "step", "first_id"], name="one_fanout_partition"
            )
        ]

    def __str__(self) -> str:
        return f"{self.step} {self.first_id}..{self.last_id} of run {self.run_id}"


class LedgerTouch(models.Model):
    """A fact the ledger's lines derive from changed (written by triggers on PostgreSQL, in the
    statement that changed it, whoever ran it: a service, the admin, a queryset update, SQL):
    the nightly rebuild checks only the solutions and members these name (reputation.touches)
    and, once done, deletes the touches it read. `lineage` asks for the solution's descendants
    too (its author, status or place in a lineage changed); `whole`, for a check of everything
    (a ledger line was changed or deleted, which only appending should ever do). No foreign
    keys: the fact may be gone."""

    id = models.BigAutoField(primary_key=True)
    solution_id = models.BigIntegerField(null=True)
    member_id = models.BigIntegerField(null=True)
    lineage = models.BooleanField(default=False, db_default=False)
    whole = models.BooleanField(default=False, db_default=False)

    def __str__(self) -> str:
        return f"touch {self.pk}"


class LedgerCheck(models.Model):
    """One nightly rebuild, what it checked and what it may leave to the next: the rules and the
    trust snapshot it derived with and the ledger's last line when it started. The next run
    checks only what changed since (reputation.touches) unless those differ, or the last whole
    check is older than settings.PEERHUB_LEDGER_WHOLE_CHECK_DAYS."""

    ran_at = models.DateTimeField(default=timezone.now)
    whole = models.BooleanField()
    # Why the run checked everything, or empty.
    reason = models.CharField(max_length=200, blank=True, default="")
    rules = models.CharField(max_length=64)
    snapshot_id = models.BigIntegerField(null=True)
    last_line_id = models.BigIntegerField()
    solutions = models.PositiveIntegerField(default=0)
    appended = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["whole", "ran_at"], name="ledger_check_whole_time")]

    def __str__(self) -> str:
        return (
            f"{'whole' if self.whole else 'touched'} ledger check at {self.ran_at:%Y-%m-%d %H:%M}"
        )


# --- Flags, the review queue and the moderation record (issue 21) -----------------------------


class FlagReason(models.TextChoices):
    SPAM = "spam", _("Spam")
    ABUSIVE = "abusive", _("Abusive or offensive")
    PLAGIARISM = "plagiarism", _("Plagiarism or a fork without credit")
    OFF_TOPIC = "off_topic", _("Off-topic")
    OTHER = "other", _("Something else")


class ModerationCase(models.Model):
    """Everything about one flagged item: its flags, its state in the review queue, and the
    decision. One case per item (the item named generically: the kinds are registered by the
    apps that own them, peerhub.moderation); a case restored and flagged again reopens."""

    class Status(models.TextChoices):
        OPEN = "open", _("Flagged, awaiting review")
        HIDDEN = "hidden", _("Hidden pending review")
        APPEALED = "appealed", _("Appealed by its author")
        EDITED = "edited", _("Edited by its author, awaiting review")
        UPHELD = "upheld", _("Hidden by moderators")
        REMOVED = "removed", _("Removed by moderators")
        RESTORED = "restored", _("Restored by moderators")

    PENDING = (Status.OPEN, Status.HIDDEN, Status.APPEALED, Status.EDITED)

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=24, help_text="The flaggable kind (peerhub.moderation).")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_cases"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN, db_index=True)
    # The sum of the pending flags' weights (reputation.moderation.rules.flag_weight).
    weight = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    # The reason the decision upheld (the flags' heaviest reason), for the stub and the ledger.
    reason = models.CharField(max_length=12, choices=FlagReason, blank=True)
    appeal = models.TextField(max_length=limits.COMMENT, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    hidden_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    deferred_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"], name="one_moderation_case_per_item"
            ),
            limits.length_check("appeal", limits.COMMENT, name="moderation_appeal_length"),
        ]
        indexes = [
            models.Index(
                fields=["status", "opened_at"],
                name="moderation_case_pending",
                condition=Q(status__in=("open", "hidden", "appealed")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}: {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING


class Flag(models.Model):
    """One member's flag on one item, with its weight when cast and, once reviewed, whether
    the moderators agreed (helpful) or not (declined)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        HELPFUL = "helpful", _("Helpful")
        DECLINED = "declined", _("Declined")

    case = models.ForeignKey(ModerationCase, on_delete=models.CASCADE, related_name="flags")
    flagger = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="flags"
    )
    reason = models.CharField(max_length=12, choices=FlagReason)
    text = models.CharField(max_length=500, blank=True)
    weight = models.DecimalField(max_digits=6, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Once per item: a case is one item.
            models.UniqueConstraint(
                fields=["case", "flagger"], name="one_flag_per_member_and_item"
            ),
            models.CheckConstraint(
                condition=~Q(reason="other") | ~Q(text=""), name="flag_other_says_why"
            ),
        ]
        indexes = [models.Index(fields=["flagger", "status"], name="flag_flagger_status")]

    def __str__(self) -> str:
        return f"flag {self.reason} by {self.flagger_id} on case {self.case_id}"


class ModerationAction(models.Model):
    """The public moderation record: one row per thing that happened to a case (hidden by flags,
    a decision, an appeal). It names the role that acted, never the member: `actor` is kept for
    staff audits only and never shown or serialised."""

    class Action(models.TextChoices):
        AUTO_HIDDEN = "auto_hidden", _("Hidden pending review (flags passed the threshold)")
        HIDE = "hide", _("Hidden (flags upheld)")
        REMOVE = "remove", _("Removed (flags upheld)")
        RESTORE = "restore", _("Restored (flags declined)")
        DEFER = "defer", _("Deferred")
        APPEAL = "appeal", _("Appealed by its author")
        EDITED = "edited", _("Edited by its author")
        SUSPEND = "suspend", _("New account suspended for spam")

    class Role(models.TextChoices):
        FLAGS = "flags", _("Community flags")
        MODERATOR = "moderator", _("Community moderator")
        STAFF = "staff", _("Staff")
        AUTHOR = "author", _("Author")

    case = models.ForeignKey(ModerationCase, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=12, choices=Action)
    role = models.CharField(max_length=10, choices=Role)
    reason = models.CharField(max_length=12, choices=FlagReason, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} on case {self.case_id} by {self.role}"
