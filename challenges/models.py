"""Challenges, solutions, revisions, forks and lineage (DESIGN.md, ideas 1, 2, 3 and 5).

Rules live in `services.py` (writes), `selectors.py` (reads) and `permissions.py` (who may do
what); the models hold fields, constraints and small derived properties only."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from peerhub import limits
from peerhub.markdown import render_markdown
from peerhub.models import BackgroundArchive
from peerhub.slugs import UnicodeSlugField

DEFAULT_LICENCE = "CC BY-SA 4.0"


def rendered(markdown: str, stored_html: str):
    """The HTML stored at write time; rows written around the services (bulk loads, rows from
    before the column) are rendered on the spot, so a page never shows raw Markdown."""
    if stored_html or not markdown:
        return mark_safe(stored_html)  # noqa: S308  (rendered and sanitised by peerhub.markdown)
    return render_markdown(markdown)


class Tag(models.Model):
    slug = UnicodeSlugField(max_length=50, unique=True)
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Challenge(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        SELECTING = "selecting", _("Selecting")
        CLOSED = "closed", _("Closed")
        ARCHIVED = "archived", _("Archived")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        PRIVATE = "private", _("Private: organisers and invited members")

    # Letters of every script (peerhub.slugs, issue 22): “清洁的水”, “مياه-نظيفة”.
    slug = UnicodeSlugField(max_length=80, unique=True)
    title = models.CharField(max_length=limits.TITLE)
    summary = models.CharField(
        max_length=limits.SUMMARY, help_text="One line: what is the challenge?"
    )
    problem = models.TextField(
        max_length=limits.CHALLENGE_TEXT, blank=True, help_text="Markdown: the problem to solve."
    )
    context = models.TextField(
        max_length=limits.CHALLENGE_TEXT,
        blank=True,
        help_text="Markdown: why it matters — the story, who is affected.",
    )
    values = models.ManyToManyField("peerhub.Value", blank=True, related_name="challenges")
    tags = models.ManyToManyField(Tag, blank=True, related_name="challenges")
    organisers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="organised_challenges"
    )
    invited = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="challenge_invitations"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status, default=Status.DRAFT, db_index=True)
    visibility = models.CharField(max_length=10, choices=Visibility, default=Visibility.PUBLIC)
    licence = models.CharField(max_length=60, default=DEFAULT_LICENCE)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True, db_index=True)
    proposal = models.OneToOneField(
        "ChallengeProposal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="challenge",
        help_text="The member proposal this challenge was adopted from, credited on its page.",
    )
    solution_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_activity_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The language the brief is written in (issue 22); translations into the other languages
    # of settings.LANGUAGES are ChallengeTranslation rows.
    language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text="The language the brief is written in.",
    )
    # When the brief (title, summary, problem, why it matters, criteria) last changed: a
    # translation older than this is marked as such (challenges.translations).
    brief_edited_at = models.DateTimeField(default=timezone.now)
    # Full-text search (challenges.search): on PostgreSQL a trigger keeps it up to date on write.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The few challenges not everyone may see (private ones, drafts): whether a member
            # may see any (permissions.sees_as_visitor, on every signed-in page that shares
            # what visitors see) reads them alone.
            models.Index(
                fields=["id"],
                condition=~Q(visibility="public") | Q(status="draft"),
                name="challenge_beyond_public",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__isnull=True)
                | Q(opens_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="challenge_closes_after_it_opens",
            ),
            limits.length_check(
                "problem", limits.CHALLENGE_TEXT, name="challenge_problem_max_length"
            ),
            limits.length_check(
                "context", limits.CHALLENGE_TEXT, name="challenge_context_max_length"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("challenges:detail", kwargs={"slug": self.slug})

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_private(self) -> bool:
        return self.visibility == self.Visibility.PRIVATE


class Criterion(models.Model):
    """A success criterion: how answers will be judged. Reviews score solutions against these."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=limits.CRITERION_NAME)
    description = models.CharField(max_length=limits.CRITERION_DESCRIPTION, blank=True)

    class Meta:
        ordering = ["challenge", "position"]
        verbose_name_plural = "criteria"
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "position"], name="one_criterion_per_position"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ChallengeTranslation(models.Model):
    """A challenge's brief in another language, written by its organisers (issue 22): readers
    whose language it is see it instead of the original, with a link to the original.
    `criteria` holds the criteria's names and descriptions in the original's order."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=10, choices=settings.LANGUAGES)
    title = models.CharField(max_length=limits.TITLE)
    summary = models.CharField(max_length=limits.SUMMARY)
    problem = models.TextField(max_length=limits.CHALLENGE_TEXT, blank=True)
    context = models.TextField(max_length=limits.CHALLENGE_TEXT, blank=True)
    # `problem` and `context` rendered when written (peerhub.markdown), not on every read.
    problem_html = models.TextField(blank=True, default="", editable=False)
    context_html = models.TextField(blank=True, default="", editable=False)
    criteria = models.JSONField(default=list, blank=True)
    translated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["challenge", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "language"], name="one_translation_per_language"
            ),
            limits.length_check(
                "problem", limits.CHALLENGE_TEXT, name="translation_problem_max_length"
            ),
            limits.length_check(
                "context", limits.CHALLENGE_TEXT, name="translation_context_max_length"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.challenge_id} in {self.language}"

    @property
    def rendered_problem(self):
        return rendered(self.problem, self.problem_html)

    @property
    def rendered_context(self):
        return rendered(self.context, self.context_html)


class ChallengeProposal(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open for backing")
        ADOPTED = "adopted", pgettext_lazy("proposal", "Adopted")
        DECLINED = "declined", pgettext_lazy("proposal", "Declined")

    title = models.CharField(max_length=limits.TITLE)
    summary = models.CharField(max_length=limits.SUMMARY)
    problem = models.TextField(max_length=limits.CHALLENGE_TEXT, help_text="Markdown.")
    context = models.TextField(
        max_length=limits.CHALLENGE_TEXT, blank=True, help_text="Markdown: why it matters."
    )
    # `problem` and `context` rendered when written, @mentions linked (peerhub.mentions).
    problem_html = models.TextField(blank=True, default="", editable=False)
    context_html = models.TextField(blank=True, default="", editable=False)
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="challenge_proposals"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN, db_index=True)
    decline_reason = models.TextField(max_length=limits.DECISION_REASON, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    backing_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="declined_proposal_has_a_reason",
            ),
            limits.length_check(
                "problem", limits.CHALLENGE_TEXT, name="proposal_problem_max_length"
            ),
            limits.length_check(
                "context", limits.CHALLENGE_TEXT, name="proposal_context_max_length"
            ),
            limits.length_check(
                "decline_reason", limits.DECISION_REASON, name="proposal_decline_reason_max_length"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("challenges:proposal-detail", kwargs={"pk": self.pk})

    @property
    def rendered_problem(self):
        return rendered(self.problem, self.problem_html)

    @property
    def rendered_context(self):
        return rendered(self.context, self.context_html)


class ProposalBacking(models.Model):
    proposal = models.ForeignKey(
        ChallengeProposal, on_delete=models.CASCADE, related_name="backings"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="proposal_backings"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="one_backing_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.user} backs {self.proposal}"


class Solution(models.Model):
    """An answer to a challenge. A fork records its parent, the parent's revision it was forked
    from, the root of its lineage and its generation; `path` ("/12/40/97/") is the materialised
    chain of ids from the root, so a whole lineage is one indexed query on any database."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    challenge = models.ForeignKey(Challenge, on_delete=models.PROTECT, related_name="solutions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="solutions"
    )
    title = models.CharField(max_length=limits.TITLE)
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="forks"
    )
    forked_from_revision = models.ForeignKey(
        "Revision", null=True, blank=True, on_delete=models.PROTECT, related_name="forks"
    )
    root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="lineage"
    )
    generation = models.PositiveIntegerField(default=0)
    path = models.CharField(max_length=2000, blank=True, db_index=True)
    current_revision = models.ForeignKey(
        "Revision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revision_count = models.PositiveIntegerField(default=0)
    # A fork whose body is still the one it copied from its source, but for cosmetic edits
    # (challenges.lineage.is_copy): votes and reviews on it earn nobody anything (reputation),
    # since what they judge is the source's work.
    unchanged_fork = models.BooleanField(default=False)
    fork_count = models.PositiveIntegerField(default=0)
    descendant_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    # Hidden by moderation (issue 21, peerhub.moderation): the public stub says why.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=200, blank=True, default="")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # The language of its current revision (issue 22), kept here for search's vector.
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    # Full-text search (challenges.search): on PostgreSQL a trigger keeps it up to date on write.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # With the root: a challenge's lineage roots read from the index alone.
            models.Index(
                fields=["challenge", "status", "root"], name="solution_challenge_status_root"
            ),
            models.Index(fields=["root", "generation"], name="solution_root_generation"),
            # The roots that branched, with their sizes: the challenge page's lineage overview
            # meets them by key instead of reading every solution.
            models.Index(
                fields=["id", "descendant_count"],
                condition=models.Q(descendant_count__gt=0),
                name="solution_branched",
            ),
            # A member's solutions that only they may see (drafts, hidden ones): whether they
            # have any (permissions.sees_as_visitor) reads those alone, not all they wrote.
            models.Index(
                fields=["author"],
                condition=~(
                    (Q(status="published") | Q(status="withdrawn", published_at__isnull=False))
                    & Q(hidden_at__isnull=True)
                ),
                name="solution_author_unlisted",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(parent__isnull=True) & Q(generation=0))
                | (Q(parent__isnull=False) & Q(generation__gt=0)),
                name="solution_generation_matches_parent",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | Q(forked_from_revision__isnull=False),
                name="fork_records_its_source_revision",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("challenges:solution-detail", kwargs={"pk": self.pk})

    @classmethod
    def mention_html_holders(cls, ids):
        """Where a solution's rendered text lives (peerhub.mentions.mentions_unlink)."""
        return [Revision.objects.filter(solution_id__in=ids)]

    @property
    def is_fork(self) -> bool:
        return self.parent_id is not None

    def has_changes_to_offer(self) -> bool:
        """Whether this fork has something to offer its parent upstream: its author changed
        what they copied (an unchanged copy would only undo what the parent did since), and its
        text still differs from the parent's as it stands."""
        if self.parent_id is None:
            return False
        mine, theirs = self.current_revision, self.parent.current_revision
        # A verbatim copy offers nothing; a cosmetic edit (still `unchanged_fork`) may go up.
        if self.unchanged_fork:
            copied = self.forked_from_revision
            if mine.body == copied.body and mine.manifest_pairs() == copied.manifest_pairs():
                return False
        return mine.body != theirs.body or mine.manifest_pairs() != theirs.manifest_pairs()

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the parent, read from the materialised path."""
        ids = [int(part) for part in self.path.strip("/").split("/") if part]
        return ids[:-1]

    @cached_property
    def ancestor_author_ids(self) -> frozenset[int]:
        """The authors of its ancestors, who may not judge it (their lineage credit would flow
        from it). One query, once per row: the ancestors and their authors are fixed when the
        fork is made."""
        ancestor_ids = self.ancestor_ids
        if not ancestor_ids:
            return frozenset()
        return frozenset(
            Solution.objects.filter(pk__in=ancestor_ids).values_list("author_id", flat=True)
        )


class RevisionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Revisions are immutable: create a new one instead.")

    def delete(self):
        raise TypeError("Revisions are never deleted.")


class Revision(models.Model):
    """One immutable version of a solution. Editing a solution creates a new revision."""

    solution = models.ForeignKey(Solution, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=limits.TITLE)
    body = models.TextField(max_length=limits.SOLUTION_BODY, help_text="Markdown.")
    # `body` rendered once when written (peerhub.markdown), not on every read.
    body_html = models.TextField(blank=True, default="", editable=False)
    # The language it is written in (issue 22): guessed from the text unless the author said.
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    message = models.CharField(
        max_length=limits.REVISION_MESSAGE, blank=True, help_text="What changed, and why."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="revisions"
    )
    credited_solution = models.ForeignKey(
        Solution,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credited_revisions",
        help_text="The fork whose changes this revision took upstream.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Moderation state, not content: the one thing about a revision that changes
    # (challenges.services.moderation writes it past the immutability guard).
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=200, blank=True, default="")

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["solution", "number"]
        constraints = [
            models.UniqueConstraint(fields=["solution", "number"], name="one_revision_per_number"),
            limits.length_check("body", limits.SOLUTION_BODY, name="revision_body_max_length"),
        ]

    def __str__(self) -> str:
        return f"{self.solution_id} r{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("Revisions are immutable: create a new one instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Revisions are never deleted.")

    @property
    def shown_message(self) -> str:
        """The message in the reader's language when PeerHub wrote it (a fork, say)."""
        from .revision_messages import shown_message

        return shown_message(self.message)

    @property
    def rendered_body(self):
        return rendered(self.body, self.body_html)

    def manifest_pairs(self) -> set[tuple[str, int]]:
        """(path, blob id) of its files: two revisions hold the same files when these match."""
        return set(RevisionFile.objects.filter(revision=self).values_list("path", "blob_id"))


class UpstreamProposal(models.Model):
    """A fork offers its changes back to its parent; the parent's author accepts or declines."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("proposal", "Open")
        ACCEPTED = "accepted", pgettext_lazy("proposal", "Accepted")
        DECLINED = "declined", pgettext_lazy("proposal", "Declined")
        WITHDRAWN = "withdrawn", pgettext_lazy("proposal", "Withdrawn")

    fork = models.ForeignKey(
        Solution, on_delete=models.PROTECT, related_name="upstream_proposals_sent"
    )
    parent = models.ForeignKey(
        Solution, on_delete=models.PROTECT, related_name="upstream_proposals_received"
    )
    fork_revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="+")
    base_revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="upstream_proposals"
    )
    message = models.TextField(
        max_length=limits.UPSTREAM_MESSAGE,
        help_text="What the change does and why the parent needs it.",
    )
    # `message` rendered when written, @mentions linked (peerhub.mentions).
    message_html = models.TextField(blank=True, default="", editable=False)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN, db_index=True)
    decline_reason = models.TextField(max_length=limits.DECISION_REASON, blank=True)
    resulting_revision = models.OneToOneField(
        Revision, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["fork"],
                condition=Q(status="open"),
                name="one_open_upstream_proposal_per_fork",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="declined_upstream_has_a_reason",
            ),
            limits.length_check(
                "message", limits.UPSTREAM_MESSAGE, name="upstream_message_max_length"
            ),
            limits.length_check(
                "decline_reason", limits.DECISION_REASON, name="upstream_decline_reason_max_length"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fork} → {self.parent}"

    def get_absolute_url(self) -> str:
        return reverse("challenges:upstream-detail", kwargs={"pk": self.pk})

    @property
    def rendered_message(self):
        return rendered(self.message, self.message_html)


class Comment(models.Model):
    """A threaded comment on a challenge or a solution. Deleting keeps the row as a stub so the
    thread keeps its shape; organisers may hide comments on their challenge."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    challenge = models.ForeignKey(
        Challenge, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    solution = models.ForeignKey(
        Solution, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    body = models.TextField(max_length=limits.COMMENT)
    # `body` rendered once when written (peerhub.markdown), not on every read of the page.
    body_html = models.TextField(blank=True, default="", editable=False)
    # The language it is written in (issue 22): guessed from the text unless the author said.
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    # The top-level comment this one replies under (None for top-level comments): one page of
    # threads and their first replies are then two indexed queries, not a walk of the tree.
    thread = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="thread_replies",
        db_index=False,  # comment_thread_order covers it
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why, when moderation hid it (issue 21); empty when an organiser hid it.
    hidden_reason = models.CharField(max_length=200, blank=True, default="")

    class HiddenByRole(models.TextChoices):
        STAFF = "staff", "staff"
        ORGANISER = "organiser", "the organiser"

    # In what capacity it was hidden, kept when hidden (the page says "Hidden by staff" without
    # loading who, and the label stays right if that member's role changes later).
    hidden_by_role = models.CharField(max_length=10, choices=HiddenByRole, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(challenge__isnull=False) & Q(solution__isnull=True))
                | (Q(challenge__isnull=True) & Q(solution__isnull=False)),
                name="comment_on_exactly_one_target",
            ),
            limits.length_check("body", limits.COMMENT, name="comment_body_max_length"),
        ]
        indexes = [
            # A target's top-level comments in order: the pages of its discussion.
            models.Index(
                fields=["challenge", "id"],
                condition=Q(parent__isnull=True),
                name="comment_challenge_roots",
            ),
            models.Index(
                fields=["solution", "id"],
                condition=Q(parent__isnull=True),
                name="comment_solution_roots",
            ),
            models.Index(fields=["thread", "id"], name="comment_thread_order"),
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} by {self.author_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def target(self):
        return self.challenge if self.challenge_id else self.solution

    @property
    def thread_root_id(self) -> int:
        return self.thread_id or self.pk

    @property
    def rendered_body(self):
        return rendered(self.body, self.body_html)


class SelectionRound(models.Model):
    """One round of a challenge's selection: organisers shortlist solutions, each with a written
    reason, pick winners among the shortlist (with reasons) and publish. A published round is
    public and permanent (the services refuse any change); a later round may follow."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("selection round", "In preparation")
        PUBLISHED = "published", pgettext_lazy("selection round", "Published")

    challenge = models.ForeignKey(
        Challenge, on_delete=models.PROTECT, related_name="selection_rounds"
    )
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=limits.TITLE, blank=True)
    summary = models.TextField(
        max_length=limits.SELECTION_SUMMARY,
        blank=True,
        help_text="Markdown: what the organisers looked for.",
    )
    # `summary` rendered when written, @mentions linked (peerhub.mentions).
    summary_html = models.TextField(blank=True, default="", editable=False)
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["challenge", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "number"], name="one_selection_round_per_number"
            ),
            models.UniqueConstraint(
                fields=["challenge"],
                condition=Q(status="draft"),
                name="one_draft_selection_round_per_challenge",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", published_at__isnull=True)
                | Q(status="published", published_at__isnull=False),
                name="published_selection_round_has_a_date",
            ),
            limits.length_check(
                "summary", limits.SELECTION_SUMMARY, name="selection_round_summary_max_length"
            ),
        ]

    def __str__(self) -> str:
        return self.title or gettext("Round {number}").format(number=self.number)

    def get_absolute_url(self) -> str:
        return reverse("challenges:selection", kwargs={"slug": self.challenge.slug}) + (
            f"#round-{self.number}"
        )

    @classmethod
    def mention_html_holders(cls, ids):
        """The round's summary and its entries' reasons (peerhub.mentions.mentions_unlink)."""
        return [cls.objects.filter(pk__in=ids), SelectionEntry.objects.filter(round_id__in=ids)]

    @property
    def winners(self) -> list:
        """The winning entries, from the entries already fetched (`prefetch_related`)."""
        return [entry for entry in self.entries.all() if entry.is_winner]

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def rendered_summary(self):
        return rendered(self.summary, self.summary_html)


class SelectionEntry(models.Model):
    """A solution on a round's shortlist, with the organisers' reason; a winner also carries the
    reason it won."""

    round = models.ForeignKey(SelectionRound, on_delete=models.PROTECT, related_name="entries")
    solution = models.ForeignKey(
        Solution, on_delete=models.PROTECT, related_name="selection_entries"
    )
    reason = models.TextField(
        max_length=limits.SELECTION_REASON,
        help_text="Why the organisers shortlisted it.",
    )
    is_winner = models.BooleanField(default=False)
    winner_reason = models.TextField(
        max_length=limits.SELECTION_REASON,
        blank=True,
        help_text="Why it was selected as a winner.",
    )
    # The reasons rendered when written, @mentions linked (peerhub.mentions).
    reason_html = models.TextField(blank=True, default="", editable=False)
    winner_reason_html = models.TextField(blank=True, default="", editable=False)
    shortlisted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    shortlisted_at = models.DateTimeField(default=timezone.now)
    selected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    selected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round", "-is_winner", "shortlisted_at", "pk"]
        verbose_name_plural = "selection entries"
        constraints = [
            models.UniqueConstraint(
                fields=["round", "solution"], name="one_selection_entry_per_solution"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="shortlist_has_a_reason"),
            models.CheckConstraint(
                condition=Q(is_winner=False) | ~Q(winner_reason=""),
                name="winner_has_a_reason",
            ),
            limits.length_check(
                "reason", limits.SELECTION_REASON, name="shortlist_reason_max_length"
            ),
            limits.length_check(
                "winner_reason", limits.SELECTION_REASON, name="winner_reason_max_length"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.solution_id} in {self.round_id}{' (winner)' if self.is_winner else ''}"

    @property
    def rendered_reason(self):
        return rendered(self.reason, self.reason_html)

    @property
    def rendered_winner_reason(self):
        return rendered(self.winner_reason, self.winner_reason_html)


# --- Files (artefacts) -----------------------------------------------------------------------


class Blob(models.Model):
    """The bytes of one file, stored once under their SHA-256 (challenges.files). Rows are
    shared by every revision and fork that holds the same bytes; a blob nothing refers to any
    more is deleted by a periodic task after a grace period."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100, help_text="Sniffed from the bytes.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who first stored these bytes: they count against that member's quota.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Set again when an upload reuses the bytes, so the sweep gives the new use its grace.
    last_used_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="blob_sha256_is_hex"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.size} bytes)"

    @property
    def storage_name(self) -> str:
        return f"blobs/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"

    @property
    def is_image(self) -> bool:
        return self.content_type in {"image/png", "image/jpeg", "image/gif", "image/webp"}

    @property
    def is_text(self) -> bool:
        return self.content_type.startswith("text/") or self.content_type == "application/json"


class RevisionFile(models.Model):
    """One entry of a revision's manifest: a path and the blob it holds. Written with the
    revision and never changed, like the revision itself."""

    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="files")
    path = models.CharField(max_length=255)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="revision_files")

    class Meta:
        ordering = ["revision", "path"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "path"], name="one_file_per_path")
        ]

    def __str__(self) -> str:
        return f"{self.revision} {self.path}"

    def get_absolute_url(self) -> str:
        return reverse(
            "challenges:revision-file",
            kwargs={
                "pk": self.revision.solution_id,
                "number": self.revision.number,
                "path": self.path,
            },
        )


class Upload(models.Model):
    """A file a member uploaded through the API to attach later (challenges.uploads): their
    claim on a blob until they attach it to a solution or a revision, by this row's id. Rows
    live for the blob sweep's grace period; the sweep deletes those older, and then the blob
    too if nothing else holds it. Only the uploader may attach it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    blob = models.ForeignKey(Blob, on_delete=models.CASCADE, related_name="uploads")
    name = models.CharField(max_length=255, help_text="The normalised file name it came with.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="upload_user_new")]

    def __str__(self) -> str:
        return f"upload {self.pk} {self.name}"


class RevisionArchive(BackgroundArchive):
    """The zip of a large revision, built by a task (challenges.archives) and kept in the files
    storage for a while. One per revision and viewer: its lineage.json names only the ancestors
    that viewer may see (anonymous visitors share one, `viewer` empty)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting to be built")
        BUILDING = "building", _("Being built")
        READY = "ready", _("Ready to download")
        FAILED = "failed", _("Failed")

    IN_FLIGHT = (State.QUEUED, State.BUILDING)

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="archives")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State, default=State.QUEUED)
    file_name = models.CharField(max_length=255, blank=True, help_text="In the files storage.")

    class Meta(BackgroundArchive.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "viewer"],
                condition=Q(viewer__isnull=False),
                name="one_revision_archive_per_viewer",
            ),
            models.UniqueConstraint(
                fields=["revision"],
                condition=Q(viewer__isnull=True),
                name="one_anonymous_revision_archive",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="revision_archive_progress_max_100"
            ),
        ]

    def __str__(self) -> str:
        return f"archive of {self.revision_id} for {self.viewer_id or 'visitors'} ({self.state})"
