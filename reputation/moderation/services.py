"""Writes of the conduct loop: flag an item, decide a case in the review queue, appeal. Each
runs in one transaction and locks the case it changes; notifications and the ledger sync are
promised in the same transaction and delivered after commit (peerhub.outbox)."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from peerhub import moderation as registry
from peerhub import outbox
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from peerhub.models import User
from peerhub.notifications import notify
from peerhub.selectors import user_is_verified

from .. import rules as rules_module
from ..models import Flag, FlagReason, ModerationAction, ModerationCase
from ..selectors import trust_level_of
from . import selectors

Status = ModerationCase.Status
Action = ModerationAction.Action
OUTCOMES = ("hide", "remove", "restore", "defer")


def _reason_words(reason: str) -> str:
    """A flag reason's label in English, whatever the actor's language: the stub and the
    notifications' context are stored, so they must not take the flagger's or moderator's
    language (the notifications also keep the reason's code for wording it per reader)."""
    with translation.override("en"):
        return selectors.reason_words(reason)


def _stub(case: ModerationCase, status: str, reason: str) -> str:
    """The public sentence of a hidden item, stored on it in English; the items' pages word it
    in the reader's language from its status and reason (peerhub.moderation.hidden_note)."""
    return selectors.hidden_note_stored(status, reason)


def _heaviest_reason(case: ModerationCase, statuses=(Flag.Status.PENDING,)) -> str:
    weights: dict[str, Decimal] = defaultdict(Decimal)
    for reason, weight in case.flags.filter(status__in=statuses).values_list("reason", "weight"):
        weights[reason] += weight
    if not weights:
        return case.reason
    return max(sorted(weights), key=lambda reason: weights[reason])


def _item(case: ModerationCase):
    kind = registry.flaggable(case.kind)
    return kind, kind.model._default_manager.filter(pk=case.object_id).first()


def _notify_author(case: ModerationCase, text_kind: str, **context) -> None:
    kind = registry.flaggable(case.kind)
    with translation.override("en"):  # stored: the kind words it per reader from `kind`
        noun = kind.noun
    notify(
        text_kind,
        [case.author_id],
        target=case,
        url=selectors.case_url(case),
        key=f"{text_kind}:{timezone.now().timestamp()}",
        context={"item": noun, "kind": case.kind, **context},
    )


def _record(case, action: str, role: str, *, reason: str = "", actor=None) -> ModerationAction:
    return ModerationAction.objects.create(
        case=case, action=action, role=role, reason=reason, actor=actor
    )


@transaction.atomic
def flag_create(*, flagger: User, kind: str, object_id, reason: str, text: str = "") -> Flag:
    """Flag an item once, with a reason ("other" needs words). Any verified member may flag
    (reputation.add_flag), never their own item. The case collects the flags; when their weight
    reaches the threshold the item is hidden pending review and its author is told why."""
    if not (user_is_verified(flagger) and flagger.is_active):
        raise NotAllowed(_("Verify your e-mail address to flag."), code="unverified")
    if not (flagger.is_staff or flagger.has_perm("reputation.add_flag")):
        raise NotAllowed(_("Flagging unlocks at a higher trust level."))
    if reason not in FlagReason.values:
        raise DomainError(_("Choose a reason for the flag."), code="invalid_reason")
    text = (text or "").strip()
    if reason == FlagReason.OTHER and not text:
        raise DomainError(_("Say what is wrong with it."), code="reason_text_required")
    if len(text) > 500:
        raise DomainError(_("Keep the explanation under 500 characters."), code="too_long")
    item = registry.flag_target_get(user=flagger, name=kind, pk=object_id)
    spec = registry.flaggable_of(item)
    author_id = spec.author_id(item)
    if author_id == flagger.pk:
        raise DomainError(_("You cannot flag your own work."), code="own_item")
    content_type = ContentType.objects.get_for_model(item)
    case, _created = ModerationCase.objects.select_for_update().get_or_create(
        content_type=content_type,
        object_id=item.pk,
        defaults={"kind": spec.name, "author_id": author_id},
    )
    if case.status in (Status.UPHELD, Status.REMOVED):
        raise Conflict(_("Moderators have already hidden this."), code="already_moderated")
    if case.flags.filter(flagger=flagger).exists():
        raise Conflict(_("You have already flagged this."), code="already_flagged")
    if case.status == Status.RESTORED:
        # Restored earlier and flagged again: a fresh round in the queue.
        case.status, case.weight, case.reason = Status.OPEN, Decimal(0), ""
        case.opened_at, case.decided_at, case.deferred_at = timezone.now(), None, None
    record = selectors.flagger_record(flagger)
    weight = rules_module.flag_weight(
        level=trust_level_of(flagger),
        helpful=record["helpful"],
        declined=record["declined"],
        staff=flagger.is_staff,
    )
    try:
        with transaction.atomic():
            flag = Flag.objects.create(
                case=case, flagger=flagger, reason=reason, text=text, weight=weight
            )
    except IntegrityError:
        raise Conflict(_("You have already flagged this."), code="already_flagged") from None
    case.weight += weight
    if case.status == Status.OPEN and case.weight >= rules_module.flags().hide_threshold:
        reason_now = _heaviest_reason(case)
        spec.set_hidden(item, _stub(case, Status.HIDDEN, reason_now))
        case.status, case.hidden_at = Status.HIDDEN, timezone.now()
        _record(case, Action.AUTO_HIDDEN, ModerationAction.Role.FLAGS, reason=reason_now)
        _notify_author(
            case,
            "flagged_content_hidden",
            reason=_reason_words(reason_now),
            reason_code=reason_now,
        )
    case.save()
    return flag


def _is_new_account(member: User) -> bool:
    config = rules_module.flags()
    joined_recently = member.date_joined >= timezone.now() - timedelta(days=config.new_account_days)
    return joined_recently and trust_level_of(member) <= config.new_account_max_level


@transaction.atomic
def case_decide(*, case: ModerationCase, by: User, outcome: str) -> ModerationCase:
    """A reviewer's decision on a pending case: agree and `hide` or `remove` the item (the
    pending flags were helpful; spam also suspends a new account), disagree and `restore` it
    (the flags were declined), or `defer` it (it stays in the queue, after the others). Nobody
    decides on their own item or one they flagged. Flaggers and the author are notified."""
    if outcome not in OUTCOMES:
        raise DomainError(_("Decide hide, remove, restore or defer."), code="invalid_outcome")
    case = ModerationCase.objects.select_for_update().get(pk=case.pk)
    if not selectors.can_review_case(by, case):
        raise NotAllowed(_("You may not review this item."))
    if not case.is_pending:
        raise Conflict(_("This case is already decided."), code="already_decided")
    role = ModerationAction.Role.STAFF if by.is_staff else ModerationAction.Role.MODERATOR
    now = timezone.now()
    if outcome == "defer":
        case.deferred_at = now
        case.save(update_fields=["deferred_at"])
        _record(case, Action.DEFER, role, actor=by)
        _notify_author(
            case, "moderation_decided", outcome="deferred to another reviewer", outcome_code=outcome
        )
        return case
    kind, item = _item(case)
    flags = case.flags.all()
    suspended = ""
    if outcome in ("hide", "remove"):
        reason = _heaviest_reason(case)
        case.status = Status.UPHELD if outcome == "hide" else Status.REMOVED
        case.reason = reason
        resolved = list(
            flags.filter(status=Flag.Status.PENDING).values_list("flagger_id", flat=True)
        )
        flags.filter(status=Flag.Status.PENDING).update(status=Flag.Status.HELPFUL, resolved_at=now)
        if item is not None:
            kind.set_hidden(item, _stub(case, case.status, reason))
        _record(case, Action.HIDE if outcome == "hide" else Action.REMOVE, role, reason=reason,
                actor=by)  # fmt: skip
        verdict, flag_result = ("hidden" if outcome == "hide" else "removed"), "helpful"
        author = User.objects.select_for_update().get(pk=case.author_id)
        if reason == FlagReason.SPAM and author.is_active and _is_new_account(author):
            author.is_active = False
            author.save(update_fields=["is_active"])
            _record(case, Action.SUSPEND, role, reason=reason, actor=by)
            verdict += "; your new account is suspended"
            suspended = "1"
    else:
        reason = ""
        case.status, case.reason, case.weight = Status.RESTORED, "", Decimal(0)
        resolved = list(
            flags.exclude(status=Flag.Status.DECLINED).values_list("flagger_id", flat=True)
        )
        flags.exclude(status=Flag.Status.DECLINED).update(
            status=Flag.Status.DECLINED, resolved_at=now
        )
        if item is not None:
            kind.set_hidden(item, "")
        _record(case, Action.RESTORE, role, actor=by)
        verdict, flag_result = "restored", "declined"
    case.decided_at = now
    case.save()
    from .. import tasks  # tasks import the ledger, which imports this app's models

    outbox.enqueue(tasks.sync_moderation_reputation, case.pk)
    _notify_author(
        case, "moderation_decided", outcome=verdict, outcome_code=outcome, suspended=suspended
    )
    if resolved:
        with translation.override("en"):  # stored: the kind words it per reader from `kind`
            label = str(kind.label)
        notify(
            "flag_resolved",
            resolved,
            target=case,
            url=selectors.my_flags_url(),
            key=f"flag_resolved:{now.timestamp()}",
            context={
                "item": label,
                "kind": case.kind,
                "result": flag_result,
                "result_code": flag_result,
            },
        )
    return case


@transaction.atomic
def case_appeal(*, case: ModerationCase, by: User, text: str) -> ModerationCase:
    """The author of a hidden item asks for another look: the case goes back to the queue with
    their words. A removed item cannot be appealed; a restored one has nothing to appeal."""
    case = ModerationCase.objects.select_for_update().get(pk=case.pk)
    if case.author_id != by.pk:
        raise NotAllowed(_("Only the author can appeal."))
    if case.status not in (Status.HIDDEN, Status.UPHELD):
        raise Conflict(_("There is nothing to appeal here."), code="not_appealable")
    text = (text or "").strip()
    if not text:
        raise DomainError(_("Say why it should be shown again."), code="appeal_text_required")
    if len(text) > 2000:
        raise DomainError(_("Keep the appeal under 2,000 characters."), code="too_long")
    ModerationCase.objects.filter(pk=case.pk).update(
        status=Status.APPEALED, appeal=text, deferred_at=None
    )
    case.refresh_from_db()
    _record(case, Action.APPEAL, ModerationAction.Role.AUTHOR, actor=by)
    return case


@transaction.atomic
def case_item_edited(*, item, by: User) -> ModerationCase | None:
    """Its author edited a hidden item (peerhub.moderation.item_edited): a case that moderators
    upheld goes back to the review queue, marked edited; one hidden by flags and still waiting
    stays in the queue, with the edit on its record. Anyone else's edit, a removed item or a
    restored one changes nothing."""
    content_type = ContentType.objects.get_for_model(item)
    case = (
        ModerationCase.objects.select_for_update()
        .filter(content_type=content_type, object_id=item.pk)
        .first()
    )
    if case is None or case.author_id != by.pk:
        return None
    if case.status == Status.UPHELD:
        ModerationCase.objects.filter(pk=case.pk).update(status=Status.EDITED, deferred_at=None)
        case.refresh_from_db()
    elif case.status not in (Status.HIDDEN, Status.APPEALED, Status.EDITED):
        return None
    _record(case, Action.EDITED, ModerationAction.Role.AUTHOR, actor=by)
    return case
