"""A Premium organiser feature: a challenge's solutions, their scores and reviews as CSV or JSON,
or as one zip that adds their files (`write_export_zip`).

It lives here, not in challenges, because Premium is the marketplace's; the permission is the
same one challenges would ask (`challenges.export_challenge`, answered by
marketplace.backends.PremiumPlanBackend; superusers hold every permission)."""

import csv
import io
import json
import zipfile
from typing import IO

from django.db.models import Avg, Count, Q, Sum

from challenges import files
from challenges.models import Challenge, Revision, Solution
from challenges.permissions import can_see_moderated, is_organiser, is_staff, solutions_visible_to
from peerhub.exceptions import NotAllowed
from reputation.models import Review

EXPORT_PERMISSION = "challenges.export_challenge"
COLUMNS = [
    "id", "title", "author", "status", "generation", "parent_id", "published_at", "vote_score",
    "upvotes", "downvotes", "review_count", "review_mean",
]  # fmt: skip


def can_export(user, challenge: Challenge) -> bool:
    return (is_organiser(user, challenge) or is_staff(user)) and user.has_perm(EXPORT_PERMISSION)


def challenge_export(*, user, challenge: Challenge) -> dict:
    """Every solution of the challenge (drafts excepted) with its votes and reviews: two
    aggregate queries and one for the reviews, whatever the size of the challenge."""
    if not can_export(user, challenge):
        raise NotAllowed("Exports are a Premium feature for the challenge's organisers.")
    solutions = (
        Solution.objects.filter(challenge=challenge)
        .exclude(status=Solution.Status.DRAFT)
        .select_related("author")
        .annotate(
            vote_score=Sum("votes__value", default=0),
            upvotes=Count("votes", filter=Q(votes__value=1)),
            downvotes=Count("votes", filter=Q(votes__value=-1)),
        )
        .order_by("pk")
    )
    reviews = dict(
        (row["solution_id"], row)
        for row in Review.objects.filter(solution__challenge=challenge)
        .values("solution_id")
        .annotate(review_count=Count("pk"), review_mean=Avg("mean_score"))
    )
    rows = []
    for s in solutions:
        review = reviews.get(s.pk, {})
        mean = review.get("review_mean")
        rows.append(
            {
                "id": s.pk, "title": s.title, "author": s.author.username, "status": s.status,
                "generation": s.generation, "parent_id": s.parent_id,
                "published_at": s.published_at.isoformat() if s.published_at else None,
                "vote_score": s.vote_score, "upvotes": s.upvotes, "downvotes": s.downvotes,
                "review_count": review.get("review_count", 0),
                "review_mean": round(float(mean), 2) if mean is not None else None,
            }
        )  # fmt: skip
    review_rows = [
        {
            "solution_id": r.solution_id, "reviewer": r.reviewer.username,
            "mean_score": float(r.mean_score), "comment": r.comment,
            "created_at": r.created_at.isoformat(),
        }
        for r in Review.objects.filter(solution__challenge=challenge)
        .select_related("reviewer")
        .order_by("solution_id", "pk")
    ]  # fmt: skip
    return {"challenge": challenge.slug, "solutions": rows, "reviews": review_rows}


def as_csv(export: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for row in export["solutions"]:
        # Cells starting with =, +, - or @ would be formulas in a spreadsheet.
        writer.writerow(
            {k: f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for k, v in row.items()}
        )
    return out.getvalue()


ZIP_README = """{title}: open data
{underline}

solutions.csv, solutions.json  every solution (drafts excepted) with its votes and reviews
manifests.json                 every revision of those solutions that holds files, and its
                               files: path, size, type and the SHA-256 of the bytes
blobs/<sha256>                 the bytes of each file, once however many revisions hold it

Solutions are shared under {licence}; lineage.json in a revision's own zip names the authors
each one was built on.
"""


def export_files(*, user, challenge: Challenge, solution_ids) -> tuple[list[dict], dict]:
    """The revisions of the exported solutions with their files, and the blobs they hold
    (sha256 -> Blob, each once): three queries. Only solutions of this challenge the member may
    see, and nothing moderation hid from them (a hidden solution's or revision's files stay
    out), so no file of another challenge, a draft or a hidden item leaks into the export."""
    visible = {
        solution.pk: solution
        for solution in solutions_visible_to(user).filter(
            challenge=challenge, pk__in=list(solution_ids)
        )
    }
    revisions = list(
        Revision.objects.filter(solution_id__in=list(visible)).order_by("solution_id", "number")
    )
    manifests = files.manifests_of(revisions)
    rows, blobs = [], {}
    for revision in revisions:
        solution = visible[revision.solution_id]
        if (solution.hidden_reason or revision.hidden_reason) and not can_see_moderated(
            user, solution
        ):
            continue
        if not manifests[revision.pk]:
            continue  # a revision of Markdown alone: nothing to list
        entries = []
        for path, blob in sorted(manifests[revision.pk].items()):
            blobs[blob.sha256] = blob
            entries.append(
                {
                    "path": path,
                    "sha256": blob.sha256,
                    "size": blob.size,
                    "content_type": blob.content_type,
                }
            )
        rows.append({"solution_id": solution.pk, "revision": revision.number, "files": entries})
    return rows, blobs


def write_export_zip(target: IO[bytes], *, user, challenge: Challenge) -> None:
    """The export with the files: solutions.csv and .json as the other formats, manifests.json
    (revision -> path -> sha256) and blobs/<sha256>, content-addressed, each stored once and
    streamed from storage."""
    export = challenge_export(user=user, challenge=challenge)
    manifests, blobs = export_files(
        user=user, challenge=challenge, solution_ids=[row["id"] for row in export["solutions"]]
    )
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(
            "README.txt",
            ZIP_README.format(
                title=challenge.title,
                underline="=" * (len(challenge.title) + 11),
                licence=challenge.licence,
            ),
        )
        zipped.writestr("solutions.csv", as_csv(export))
        zipped.writestr("solutions.json", json.dumps(export, indent=2, ensure_ascii=False))
        zipped.writestr("manifests.json", json.dumps(manifests, indent=2, ensure_ascii=False))
        for sha256, blob in sorted(blobs.items()):
            with files.blob_open(blob) as source, zipped.open(f"blobs/{sha256}", "w") as sink:
                while chunk := source.read(1024 * 1024):
                    sink.write(chunk)
