"""Edit history: every edit of a challenge (its brief, criteria and deadline), a comment or an
offer is kept as a version of the item's tracked fields, so that those who may see the item see
how it changed, as a solution's revisions show. The apps' edit services call `record_edit` in
the transaction that saves the edit; their pages and APIs read `versions` and `changes`.

Versions hold text (the apps turn dates and lists into the words their pages show), so one diff
(challenges.diff) shows any of them. The first version is the item as first written, kept on
its first edit: items never edited hold no history at all. An item whose words are erased (a
deleted comment) loses its history with them (`forget`)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from django.utils import timezone

from .models import EditVersion, User


def _key(item) -> dict:
    return {"item_type": ContentType.objects.get_for_model(item), "item_id": item.pk}


def record_edit(
    item,
    *,
    by: User,
    before: Mapping[str, str],
    after: Mapping[str, str],
    first_by_id: int | None,
    first_at: datetime,
) -> EditVersion | None:
    """Keep `after` as the item's next version when it differs from `before` (the item as it
    read before the edit). The first edit also keeps `before` as version 1, by `first_by_id` at
    `first_at` (the item's author and creation). Call it inside the edit's transaction, with the
    item's row locked: numbers are then taken one at a time (and unique in the database)."""
    before, after = dict(before), dict(after)
    if before == after:
        return None
    key = _key(item)
    last = EditVersion.objects.filter(**key).aggregate(n=Max("number"))["n"] or 0
    if last == 0:
        EditVersion.objects.create(
            **key, number=1, fields=before, edited_by_id=first_by_id, edited_at=first_at
        )
        last = 1
    return EditVersion.objects.create(
        **key, number=last + 1, fields=after, edited_by=by, edited_at=timezone.now()
    )


def versions(item) -> list[EditVersion]:
    """The item's versions, first first, with their editors (one query)."""
    return list(EditVersion.objects.filter(**_key(item)).select_related("edited_by"))


def edit_count(item) -> int:
    """How many times the item was edited (its versions less the first)."""
    return max(0, EditVersion.objects.filter(**_key(item)).count() - 1)


def forget(item) -> int:
    """Erase the item's history with its words (a deleted comment). Returns versions erased."""
    deleted, _ = EditVersion.objects.filter(**_key(item)).delete()
    return deleted


@dataclass(frozen=True)
class FieldChange:
    name: str  # its label
    old: str
    new: str
    key: str = ""  # the field itself


@dataclass(frozen=True)
class Change:
    """One edit: the version it made and what it changed, field by field, in `labels` order."""

    version: EditVersion
    fields: list[FieldChange]


def changed_names(history: list[EditVersion]) -> dict[int, list[str]]:
    """{version number: the fields it changed from the version before}; the first changed
    none. The page (`changes`) and the API read edits through this one comparison."""
    found: dict[int, list[str]] = {history[0].number: []} if history else {}
    for old, new in pairwise(history):
        found[new.number] = [
            name for name, text in new.fields.items() if old.fields.get(name, "") != text
        ]
    return found


def changes(history: list[EditVersion], labels: Mapping[str, str]) -> list[Change]:
    """Each edit (newest first) with the fields it changed, named by `labels` ({field: label},
    in the order the page shows them); fields not in `labels` are not shown."""
    changed = changed_names(history)
    found = []
    for old, new in pairwise(history):
        fields = [
            FieldChange(
                label, str(old.fields.get(name, "")), str(new.fields.get(name, "")), key=name
            )
            for name, label in labels.items()
            if name in changed[new.number]
        ]
        found.append(Change(new, fields))
    return list(reversed(found))
