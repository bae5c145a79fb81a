"""Reads of the conduct loop: who may review, the review queue with its context, a flagger's
record, and the public moderation record. Each answers in a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
)
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from peerhub import moderation as registry
from peerhub.exceptions import DomainError
from peerhub.selectors import user_is_verified

from ..models import Flag, FlagReason, ModerationAction, ModerationCase

REVIEW_PERMISSION = "reputation.review_flags"


def case_url(case: ModerationCase) -> str:
    return reverse("reputation:moderation-case", args=[case.pk])


def my_flags_url() -> str:
    return reverse("reputation:my-flags")


def can_review_flags(user) -> bool:
    """Staff, and members at the moderation trust level (reputation.review_flags)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return user_is_verified(user) and (user.is_staff or user.has_perm(REVIEW_PERMISSION))


def can_review_case(user, case: ModerationCase) -> bool:
    """A reviewer, but never on their own item nor on one they flagged."""
    if not can_review_flags(user) or case.author_id == user.pk:
        return False
    flagged = getattr(case, "flagged_by_viewer", None)
    if flagged is None:
        flagged = case.flags.filter(flagger=user).exists()
    return not flagged


def can_view_case(user, case: ModerationCase) -> bool:
    """The case page: its author (to read why and appeal), its reviewers."""
    if not getattr(user, "is_authenticated", False):
        return False
    return case.author_id == user.pk or can_review_flags(user)


def review_queue_count() -> int:
    """Pending cases in the review queue (flagged, hidden pending review, or appealed): for the
    staff dashboard. One indexed count."""
    return ModerationCase.objects.filter(status__in=ModerationCase.PENDING).count()


def flagger_record(user) -> dict[str, int]:
    """How the member's flags fared: helpful, declined, pending. One aggregate query."""
    counts = Flag.objects.filter(flagger=user).aggregate(
        helpful=Count("pk", filter=Q(status=Flag.Status.HELPFUL)),
        declined=Count("pk", filter=Q(status=Flag.Status.DECLINED)),
        pending=Count("pk", filter=Q(status=Flag.Status.PENDING)),
    )
    return {key: counts[key] or 0 for key in ("helpful", "declined", "pending")}


def flags_of(user) -> QuerySet[Flag]:
    return Flag.objects.filter(flagger=user).select_related("case").order_by("-created_at", "-pk")


@dataclass
class QueueEntry:
    """One flagged item in the queue: the case, the item (None if gone), what reviewers judge,
    the flags' reasons and the author's record of confirmed flags."""

    case: ModerationCase
    item: object
    label: str
    noun: str
    excerpt: str
    url: str
    reasons: list[tuple[str, int]] = field(default_factory=list)
    flag_texts: list[str] = field(default_factory=list)
    author_confirmed: int = 0
    author_restored: int = 0


def review_queue(*, user) -> QuerySet[ModerationCase]:
    """The pending cases this reviewer may decide: hidden and appealed first, then the heaviest,
    the deferred ones last. Not their own items, not the ones they flagged."""
    mine = Flag.objects.filter(case=OuterRef("pk"), flagger=user)
    return (
        ModerationCase.objects.filter(status__in=ModerationCase.PENDING)
        .exclude(author=user)
        .annotate(flagged_by_viewer=Exists(mine))
        .filter(flagged_by_viewer=False)
        .select_related("author")
        .annotate(
            below_threshold=ExpressionWrapper(
                Q(status=ModerationCase.Status.OPEN), output_field=BooleanField()
            ),
            deferred=ExpressionWrapper(Q(deferred_at__isnull=False), output_field=BooleanField()),
        )
        .order_by(
            "below_threshold",
            "deferred",
            "-weight",
            "opened_at",
            "pk",
        )
    )


def queue_entries(cases) -> list[QueueEntry]:
    """The context of a page of cases: each item (one query per kind on the page), the flags'
    reasons (one query) and the authors' records (one query)."""
    cases = list(cases)
    by_kind: dict[str, list[int]] = defaultdict(list)
    for case in cases:
        by_kind[case.kind].append(case.object_id)
    items: dict[tuple[str, int], object] = {}
    for name, ids in by_kind.items():
        kind = registry.flaggable(name)
        for obj in kind.model._default_manager.filter(pk__in=ids):
            items[(name, obj.pk)] = obj
    flags = Flag.objects.filter(case__in=[c.pk for c in cases]).order_by("created_at", "pk")
    pending_cases = {c.pk for c in cases if c.is_pending}
    reasons: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    texts: dict[int, list[str]] = defaultdict(list)
    for flag in flags.only("case_id", "reason", "text", "status"):
        # A pending case shows the flags still to judge; a decided one, all of them.
        if flag.case_id in pending_cases and flag.status != Flag.Status.PENDING:
            continue
        reasons[flag.case_id][flag.get_reason_display()] += 1
        if flag.text:
            texts[flag.case_id].append(flag.text)
    history = (
        ModerationCase.objects.filter(author__in={c.author_id for c in cases})
        .values("author_id")
        .annotate(
            confirmed=Count(
                "pk",
                filter=Q(status__in=(ModerationCase.Status.UPHELD, ModerationCase.Status.REMOVED)),
            ),
            restored=Count("pk", filter=Q(status=ModerationCase.Status.RESTORED)),
        )
    )
    records = {row["author_id"]: row for row in history}
    entries = []
    for case in cases:
        kind = registry.flaggable(case.kind)
        item = items.get((case.kind, case.object_id))
        record = records.get(case.author_id, {})
        entries.append(
            QueueEntry(
                case=case,
                item=item,
                label=item_label(case.kind),
                noun=item_noun(case.kind),
                excerpt=kind.excerpt(item) if item is not None else gettext("(gone)"),
                url=kind.url(item) if item is not None else "",
                reasons=sorted(reasons[case.pk].items(), key=lambda r: (-r[1], r[0])),
                flag_texts=texts[case.pk],
                author_confirmed=record.get("confirmed", 0),
                author_restored=record.get("restored", 0),
            )
        )
    return entries


def moderation_log() -> QuerySet[ModerationAction]:
    """The public record, newest first: what kind of item, which rule, when, which role. The
    actor is never read here."""
    return ModerationAction.objects.select_related("case").only(
        "action", "role", "reason", "created_at", "case__kind", "case__status"
    )


def kind_label(name: str) -> str:
    """The kind as the reader says it in a sentence ("a comment", "un comentario"); the kind's
    code when its app is no longer installed (the record stays readable)."""
    try:
        return str(registry.flaggable(name).label)
    except DomainError:
        return name


def item_label(name: str) -> str:
    """The kind as the reader says it in a sentence: "a comment", "un comentario"."""
    return kind_label(name)


def item_noun(name: str) -> str:
    """The kind's bare noun in the reader's language: "comment", "comentario"."""
    try:
        return registry.flaggable(name).noun
    except DomainError:
        return name


def item_labels() -> dict[str, str]:
    """Every registered kind's label in the reader's language, for the moderation tables."""
    return {name: item_label(name) for name in registry.flaggable_names()}


# --- The words of a moderation decision, worded when shown (issue 22) -------------------------
# Items keep their hidden note, and notifications their context, in English (stored once, read
# in every language); each also keeps the codes it came from, from which these word it again in
# the reader's language.

Status = ModerationCase.Status

HIDDEN_NOTES = {
    Status.HIDDEN: gettext_lazy("Hidden pending review: members flagged this as {reason}."),
    Status.REMOVED: gettext_lazy("Removed by moderators: {reason}."),
    Status.UPHELD: gettext_lazy("Hidden by moderators: {reason}."),
}

OUTCOMES = {
    "hide": pgettext_lazy("moderation outcome", "hidden"),
    "remove": pgettext_lazy("moderation outcome", "removed"),
    "restore": pgettext_lazy("moderation outcome", "restored"),
    "defer": pgettext_lazy("moderation outcome", "deferred to another reviewer"),
}
OUTCOMES_SUSPENDED = {
    "hide": pgettext_lazy("moderation outcome", "hidden; your new account is suspended"),
    "remove": pgettext_lazy("moderation outcome", "removed; your new account is suspended"),
}
FLAG_RESULTS = {
    "helpful": pgettext_lazy("flag result", "helpful"),
    "declined": pgettext_lazy("flag result", "declined"),
}


def reason_words(reason: str) -> str:
    """A flag reason as said in a sentence, in the active language: "spam", "off-topic"; no
    reason (a moderator's own decision) is "a breach of the code of conduct"."""
    if reason in FlagReason.values:
        return str(FlagReason(reason).label).lower()
    return gettext("a breach of the code of conduct")


def _note_status(status: str) -> str:
    return status if status in (Status.HIDDEN, Status.REMOVED) else Status.UPHELD


def hidden_note_words(status: str, reason: str) -> str:
    """The note of an item hidden in `status` for `reason`, in the active language."""
    return str(HIDDEN_NOTES[_note_status(status)]).format(reason=reason_words(reason))


def hidden_note_stored(status: str, reason: str) -> str:
    """The note as the item stores it: in English, whoever's language wrote it."""
    with translation.override("en"):
        return hidden_note_words(status, reason)


_STORED_NOTES: dict[str, tuple[str, str]] = {}


def hidden_note(stored: str) -> str:
    """A stored note in the reader's language (peerhub.moderation.hidden_note), found from the
    status and reason it was written from; "" for a note these words did not write."""
    if not _STORED_NOTES:
        for status in HIDDEN_NOTES:
            for reason in [*FlagReason.values, ""]:
                _STORED_NOTES[hidden_note_stored(status, reason)] = (status, reason)
    found = _STORED_NOTES.get(stored.strip())
    return hidden_note_words(*found) if found else ""


def outcome_words(outcome: str, *, suspended: bool = False) -> str:
    """A decision as the author's notification says it, in the active language; "" when
    unknown."""
    words = (OUTCOMES_SUSPENDED if suspended else OUTCOMES).get(outcome) or OUTCOMES.get(outcome)
    return str(words) if words else ""


def flag_result_words(result: str) -> str:
    words = FLAG_RESULTS.get(result)
    return str(words) if words else ""
