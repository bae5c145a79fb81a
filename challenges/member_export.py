"""The challenges' part of a member's data export (peerhub.exports, issue 21): the challenges
they organise, their proposals and backings, their solutions with every revision and its files,
the comments and upstream offers they wrote. A few queries per part, whatever the numbers."""

from django.db.models import Prefetch

from peerhub.exports import ExportFile, ExportPart, rows_of

from . import files
from .models import (
    Challenge,
    ChallengeProposal,
    Comment,
    ProposalBacking,
    Revision,
    RevisionFile,
    Solution,
    UpstreamProposal,
)


def revision_file_path(*, solution_id: int, number: int, path: str) -> str:
    return f"files/solutions/{solution_id}/r{number}/{path}"


def member_parts(*, user) -> list[ExportPart]:
    def organised() -> list[dict]:
        challenges = (
            Challenge.objects.filter(organisers=user)
            .prefetch_related("criteria", "tags", "values")
            .order_by("created_at", "id")
        )
        return [
            {
                "id": c.pk,
                "slug": c.slug,
                "title": c.title,
                "summary": c.summary,
                "problem": c.problem,
                "context": c.context,
                "status": c.status,
                "visibility": c.visibility,
                "licence": c.licence,
                "opens_at": c.opens_at,
                "closes_at": c.closes_at,
                "created_at": c.created_at,
                "criteria": [criterion.name for criterion in c.criteria.all()],
                "tags": [tag.name for tag in c.tags.all()],
                "values": [value.name for value in c.values.all()],
                "url": c.get_absolute_url(),
            }
            for c in challenges
        ]

    def solutions() -> list[dict]:
        revisions = Revision.objects.select_related("author").prefetch_related(
            Prefetch("files", queryset=RevisionFile.objects.select_related("blob"))
        )
        rows = []
        for s in (
            Solution.objects.filter(author=user)
            .select_related("challenge")
            .prefetch_related(Prefetch("revisions", queryset=revisions.order_by("number")))
            .order_by("created_at", "id")
        ):
            rows.append(
                {
                    "id": s.pk,
                    "challenge": s.challenge.slug,
                    "title": s.title,
                    "status": s.status,
                    "parent_id": s.parent_id,
                    "root_id": s.root_id,
                    "generation": s.generation,
                    "created_at": s.created_at,
                    "published_at": s.published_at,
                    "withdrawn_at": s.withdrawn_at,
                    "hidden_at": s.hidden_at,
                    "hidden_reason": s.hidden_reason,
                    "url": s.get_absolute_url(),
                    "revisions": [
                        {
                            "number": r.number,
                            "title": r.title,
                            "body": r.body,
                            "message": r.message,
                            "author": r.author.username,
                            "created_at": r.created_at,
                            "hidden_at": r.hidden_at,
                            "files": [
                                {
                                    "path": f.path,
                                    "size": f.blob.size,
                                    "sha256": f.blob.sha256,
                                    "content_type": f.blob.content_type,
                                    "in_archive": revision_file_path(
                                        solution_id=s.pk, number=r.number, path=f.path
                                    ),
                                }
                                for f in r.files.all()
                            ],
                        }
                        for r in s.revisions.all()
                    ],
                }
            )
        return rows

    def solution_files():
        for entry in (
            RevisionFile.objects.filter(revision__solution__author=user)
            .select_related("blob", "revision")
            .order_by("revision__solution_id", "revision__number", "path")
        ):
            yield ExportFile(
                revision_file_path(
                    solution_id=entry.revision.solution_id,
                    number=entry.revision.number,
                    path=entry.path,
                ),
                lambda blob=entry.blob: files.blob_open(blob),
            )

    def comments() -> list[dict]:
        return [
            {
                "on": "challenge" if row["challenge_slug"] else "solution",
                **row,
            }
            for row in rows_of(
                Comment.objects.filter(author=user).order_by("created_at", "id"),
                "id",
                "solution_id",
                "parent_id",
                "body",
                "created_at",
                "edited_at",
                "deleted_at",
                "hidden_at",
                "hidden_reason",
                challenge_slug="challenge__slug",
            )
        ]

    return [
        ExportPart("challenges/challenges_organised.json", organised),
        ExportPart(
            "challenges/proposals.json",
            lambda: rows_of(
                ChallengeProposal.objects.filter(proposer=user).order_by("id"),
                "id",
                "title",
                "summary",
                "problem",
                "context",
                "status",
                "decline_reason",
                "decided_at",
                "backing_count",
                "created_at",
            ),
        ),
        ExportPart(
            "challenges/proposals_backed.json",
            lambda: rows_of(
                ProposalBacking.objects.filter(user=user).order_by("id"),
                "proposal_id",
                "created_at",
                proposal_title="proposal__title",
            ),
        ),
        ExportPart("challenges/solutions.json", solutions, solution_files),
        ExportPart("challenges/comments.json", comments),
        ExportPart(
            "challenges/upstream_proposals.json",
            lambda: rows_of(
                UpstreamProposal.objects.filter(author=user).order_by("id"),
                "id",
                "fork_id",
                "parent_id",
                "message",
                "status",
                "created_at",
            ),
        ),
    ]
