"""Serializers of the challenges API. Output serializers shape what selectors return; input
serializers only parse and validate types and lengths — the rules stay in the services.

References to other objects in a request body (`challenge`, `solution`, `fork`, `parent`) resolve
only among what the member may see: anything else is "does not exist", a 400 that says nothing
about whether the object exists. Ids of solutions the member may not see (a fork's parent in a
private challenge, say) are answered as null, as the lineage does."""

from datetime import datetime

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from peerhub import limits
from peerhub.api.fields import DateTimeField, PlainCharField
from peerhub.models import User, Value
from peerhub.moderation import HiddenFieldsMixin
from peerhub.slugs import validate_unicode_slug

from .. import permissions, selectors
from ..models import (
    Challenge,
    ChallengeProposal,
    ChallengeTranslation,
    Comment,
    Criterion,
    Revision,
    RevisionArchive,
    SelectionEntry,
    SelectionRound,
    Solution,
    Tag,
    Upload,
    UpstreamProposal,
)


def _user(request):
    return request.user if request is not None else None


class UserRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["username", "name"]
        read_only_fields = fields


# --- Visibility-aware references in request bodies -------------------------------------------


class VisibleChallengeField(serializers.SlugRelatedField):
    """A challenge slug, resolved among the challenges the member may see."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Challenge.objects.all(), **kwargs)

    def get_queryset(self):
        return permissions.challenges_visible_to(_user(self.context.get("request")))


class VisibleSolutionField(serializers.PrimaryKeyRelatedField):
    """A solution id, resolved among the solutions the member may see."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Solution.objects.all(), **kwargs)

    def get_queryset(self):
        return permissions.solutions_visible_to(_user(self.context.get("request"))).select_related(
            "challenge"
        )


class VisibleCommentField(serializers.PrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Comment.objects.all(), **kwargs)

    def get_queryset(self):
        return selectors.comments_visible_to(_user(self.context.get("request")))


# --- Challenges ------------------------------------------------------------------------------


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = ["name", "description"]
        extra_kwargs = {"description": {"required": False}}


class TagSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(read_only=True, help_text="In any script (issue 22).")

    class Meta:
        model = Tag
        fields = ["slug", "name"]


class ValueRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Value
        fields = ["slug", "name"]


class ChallengeSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(read_only=True, help_text="Its address, in any script.")
    url = serializers.HyperlinkedIdentityField(
        view_name="api-challenge-detail", lookup_field="slug"
    )
    html_url = serializers.CharField(source="get_absolute_url", read_only=True)
    criteria = CriterionSerializer(many=True, read_only=True)
    values = ValueRefSerializer(many=True, read_only=True)
    tags = TagSerializer(many=True, read_only=True)
    organisers = UserRefSerializer(many=True, read_only=True)
    proposal = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="The member proposal this challenge was adopted from."
    )

    class Meta:
        model = Challenge
        fields = [
            "slug", "url", "html_url", "title", "summary", "problem", "context", "language",
            "status", "visibility", "licence", "opens_at", "closes_at", "criteria", "values",
            "tags", "organisers", "proposal", "solution_count", "comment_count", "created_at",
            "updated_at", "last_activity_at",
        ]  # fmt: skip
        read_only_fields = fields


class ChallengeTranslationSerializer(serializers.ModelSerializer):
    """A challenge's brief in another language (issue 22). `outdated`: written before the
    brief's last edit."""

    criteria = CriterionSerializer(many=True, read_only=True)
    translated_by = UserRefSerializer(read_only=True, allow_null=True)
    outdated = serializers.SerializerMethodField()

    class Meta:
        model = ChallengeTranslation
        fields = [
            "language", "title", "summary", "problem", "context", "criteria", "translated_by",
            "created_at", "updated_at", "outdated",
        ]  # fmt: skip
        read_only_fields = fields

    def get_outdated(self, translation) -> bool:
        return translation.updated_at < translation.challenge.brief_edited_at


class ChallengeDetailSerializer(ChallengeSerializer):
    translations = ChallengeTranslationSerializer(many=True, read_only=True)

    class Meta(ChallengeSerializer.Meta):
        fields = [*ChallengeSerializer.Meta.fields, "translations"]
        read_only_fields = fields


class ChallengeTranslationWriteSerializer(serializers.Serializer):
    """Add or replace a translation (PUT). Criteria: none (readers see the original ones) or
    one per criterion of the challenge, in its order."""

    title = PlainCharField(max_length=limits.TITLE)
    summary = serializers.CharField(max_length=limits.SUMMARY)
    problem = serializers.CharField(
        max_length=limits.CHALLENGE_TEXT, required=False, allow_blank=True, trim_whitespace=False
    )
    context = serializers.CharField(
        max_length=limits.CHALLENGE_TEXT, required=False, allow_blank=True, trim_whitespace=False
    )
    criteria = CriterionSerializer(many=True, required=False)

    def validate_criteria(self, criteria):
        return [(item["name"], item.get("description", "")) for item in criteria]


class ChallengeWriteSerializer(serializers.Serializer):
    """Frame (POST) or edit (PATCH) a challenge. Criteria can change only while it is a draft."""

    title = PlainCharField(max_length=limits.TITLE)
    summary = serializers.CharField(
        max_length=limits.SUMMARY, help_text="One line: what is the challenge?"
    )
    problem = serializers.CharField(
        max_length=limits.CHALLENGE_TEXT, required=False, allow_blank=True, trim_whitespace=False
    )
    context = serializers.CharField(
        max_length=limits.CHALLENGE_TEXT, required=False, allow_blank=True, trim_whitespace=False
    )
    criteria = CriterionSerializer(
        many=True, required=False, help_text="The success criteria, in order."
    )
    values = serializers.SlugRelatedField(
        many=True,
        required=False,
        slug_field="slug",
        queryset=Value.objects.all(),
        help_text="Slugs of the manifesto values the challenge serves.",
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=limits.TAG),
        required=False,
        help_text="Tag names; new ones are created.",
    )
    visibility = serializers.ChoiceField(choices=Challenge.Visibility.choices, required=False)
    language = serializers.ChoiceField(
        choices=Challenge._meta.get_field("language").choices,
        required=False,
        help_text="The language the brief is written in.",
    )
    licence = serializers.CharField(max_length=60, required=False, allow_blank=True)
    opens_at = DateTimeField(required=False, allow_null=True)
    closes_at = DateTimeField(required=False, allow_null=True)

    def validate_criteria(self, criteria):
        return [(item["name"], item.get("description", "")) for item in criteria]


class ChallengeCreateSerializer(ChallengeWriteSerializer):
    slug = serializers.CharField(
        max_length=80,
        required=False,
        validators=[validate_unicode_slug],
        help_text="Its address, in any script; default: made from the title.",
    )


class ChallengeMemberSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(
        choices=[("invited", "Invited member"), ("organiser", "Co-organiser")],
        default="invited",
        help_text="`invited` lets a member see a private challenge; `organiser` co-organises it.",
    )

    def validate_username(self, value: str):
        member = User.objects.filter(username__iexact=value.strip(), is_active=True).first()
        if member is None:
            raise serializers.ValidationError(gettext("No active member has this username."))
        return member


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(
        choices=[choice for choice in Challenge.Status.choices if choice[0] != "draft"],
        help_text="The next status: draft → open → selecting → closed → archived.",
    )


# --- Proposals -------------------------------------------------------------------------------


class ChallengeProposalSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-challenge-proposal-detail")
    proposer = UserRefSerializer(read_only=True)
    decided_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="Who decided (a username), once decided."
    )
    backed_by_me = serializers.SerializerMethodField()
    challenge = serializers.SerializerMethodField(
        help_text="The challenge adopted from this proposal, once the member may see it."
    )

    class Meta:
        model = ChallengeProposal
        fields = [
            "id", "url", "title", "summary", "problem", "context", "proposer", "status",
            "decline_reason", "backing_count", "backed_by_me", "challenge", "decided_by",
            "decided_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_backed_by_me(self, proposal) -> bool:
        return proposal.pk in self.context["backed_ids"]

    def get_challenge(self, proposal) -> str | None:
        challenge = getattr(proposal, "challenge", None)
        if challenge is None or challenge.pk not in self.context["visible_challenge_ids"]:
            return None
        return challenge.slug


class ChallengeProposalWriteSerializer(serializers.Serializer):
    title = PlainCharField(max_length=limits.TITLE)
    summary = serializers.CharField(max_length=limits.SUMMARY)
    problem = serializers.CharField(
        max_length=limits.CHALLENGE_TEXT, trim_whitespace=False, help_text="Markdown."
    )
    context = serializers.CharField(
        max_length=limits.CHALLENGE_TEXT,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Markdown.",
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=limits.DECISION_REASON)


# --- Solutions and revisions -----------------------------------------------------------------


class _VisibleIdsMixin:
    """Ids of other solutions are shown only when the member may see them; the view puts the
    visible ids in the context (one query per page)."""

    def visible_id(self, pk: int | None) -> int | None:
        return pk if pk is not None and pk in self.context["visible_solution_ids"] else None


class SolutionSerializer(_VisibleIdsMixin, serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-solution-detail")
    html_url = serializers.CharField(source="get_absolute_url", read_only=True)
    challenge = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author = UserRefSerializer(read_only=True)
    parent = serializers.SerializerMethodField(help_text="The solution this one was forked from.")
    root = serializers.SerializerMethodField(help_text="The first solution of the lineage.")

    class Meta:
        model = Solution
        fields = [
            "id", "url", "html_url", "challenge", "author", "title", "status", "parent", "root",
            "generation", "revision_count", "unchanged_fork", "fork_count", "descendant_count",
            "comment_count", "created_at", "updated_at", "published_at", "withdrawn_at",
            "language",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "unchanged_fork": {
                "help_text": "A fork whose body is still the one it copied, or differs from it "
                "by a cosmetic edit only (under 5 % of its words): votes and reviews on it earn "
                "nobody reputation until its author changes it."
            }
        }

    def get_parent(self, solution) -> int | None:
        return self.visible_id(solution.parent_id)

    def get_root(self, solution) -> int | None:
        return self.visible_id(solution.root_id)


class RevisionFileSerializer(serializers.Serializer):
    """One file of a revision: its bytes are at `url` (the same permission as the solution)."""

    path = serializers.CharField()
    size = serializers.IntegerField(source="blob.size")
    content_type = serializers.CharField(source="blob.content_type", help_text="Sniffed.")
    sha256 = serializers.CharField(source="blob.sha256")
    url = serializers.SerializerMethodField()

    def get_url(self, item) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(item.url) if request else item.url


class _RevisionFilesMixin:
    def revision_files(self, revision) -> list[dict]:
        from ..artefacts import revision_files

        if revision is None:
            return []
        items = revision_files(revision=revision, previews=False)
        return RevisionFileSerializer(items, many=True, context=self.context).data


class SolutionDetailSerializer(_RevisionFilesMixin, HiddenFieldsMixin, SolutionSerializer):
    """While hidden by moderation (issue 21), its words read "" but to its author and
    reviewers."""

    hidden_fields = ("title", "body", "revision_message")
    hidden_reason = serializers.CharField(
        read_only=True, help_text="Why moderation hid it; empty when shown."
    )
    body = serializers.CharField(source="current_revision.body", read_only=True)
    revision = serializers.IntegerField(
        source="current_revision.number", read_only=True, help_text="The current revision."
    )
    revision_message = serializers.CharField(source="current_revision.message", read_only=True)
    forked_from_revision = serializers.IntegerField(
        source="forked_from_revision.number",
        read_only=True,
        allow_null=True,
        help_text="The parent's revision number this fork was made from.",
    )
    licence = serializers.CharField(source="challenge.licence", read_only=True)
    files = serializers.SerializerMethodField(help_text="The current revision's files.")

    class Meta(SolutionSerializer.Meta):
        fields = [
            *SolutionSerializer.Meta.fields,
            "body", "revision", "revision_message", "forked_from_revision", "licence", "files",
            "hidden_reason",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(RevisionFileSerializer(many=True))
    def get_files(self, solution) -> list[dict]:
        return self.revision_files(solution.current_revision)


FILES_HELP = (
    "Files to add (multipart/form-data, the field repeated): images, PDF, SVG, STL, ZIP, CSV, "
    "JSON, text and code. A name already there replaces that file. Each is checked (type "
    "sniffed from the bytes, size and quota, images stripped of EXIF)."
)


def _files_field():
    return serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        help_text=FILES_HELP,
    )


class AttachSerializer(serializers.Serializer):
    """One of your uploads (POST /api/uploads/) to attach, by id."""

    upload = serializers.IntegerField(min_value=1, help_text="The upload's id.")
    path = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="The file's name in the revision; its upload's name when left out.",
    )


def _attach_field():
    return serializers.ListField(
        child=AttachSerializer(),
        required=False,
        max_length=100,
        help_text="Your earlier uploads to attach (send the request as JSON). Only your own, "
        "within the hours they are kept; each is attached once.",
    )


def attachments_of(data: dict) -> list:
    from ..uploads import Attachment

    return [
        Attachment(upload_id=item["upload"], path=item.get("path", ""))
        for item in data.pop("attach", [])
    ]


class UploadSerializer(serializers.ModelSerializer):
    """A file you uploaded and have not attached yet."""

    sha256 = serializers.CharField(source="blob.sha256", read_only=True)
    size = serializers.IntegerField(source="blob.size", read_only=True)
    content_type = serializers.CharField(
        source="blob.content_type", read_only=True, help_text="Sniffed from the bytes."
    )
    expires_at = serializers.SerializerMethodField(
        help_text="Attach it before then; after, it is deleted."
    )

    class Meta:
        model = Upload
        fields = ["id", "name", "sha256", "size", "content_type", "created_at", "expires_at"]
        read_only_fields = fields

    def get_expires_at(self, upload) -> datetime:
        from ..uploads import upload_expires_at

        return upload_expires_at(upload)


class UploadCreateSerializer(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        allow_empty=False,
        help_text="The files (multipart/form-data, the field repeated), checked like the "
        "forms' files: type sniffed from the bytes, size and quota, images stripped of EXIF.",
    )


def _language_field(help_text: str = "") -> serializers.ChoiceField:
    """The language a text is written in (issue 22); left out, it is guessed from the text."""
    return serializers.ChoiceField(
        choices=Solution._meta.get_field("language").choices,
        required=False,
        help_text=help_text or "The language it is written in; default: guessed from the text.",
    )


class SolutionCreateSerializer(serializers.Serializer):
    challenge = VisibleChallengeField(help_text="The challenge's slug.")
    title = PlainCharField(max_length=limits.TITLE)
    body = serializers.CharField(
        max_length=limits.SOLUTION_BODY, trim_whitespace=False, help_text="Markdown."
    )
    publish = serializers.BooleanField(default=True, help_text="False saves a draft.")
    message = serializers.CharField(
        max_length=limits.REVISION_MESSAGE, required=False, allow_blank=True
    )
    files = _files_field()
    attach = _attach_field()
    language = _language_field()


class SolutionReviseSerializer(serializers.Serializer):
    """A new revision; a missing title or body keeps the current one."""

    title = PlainCharField(max_length=limits.TITLE, required=False)
    body = serializers.CharField(
        max_length=limits.SOLUTION_BODY,
        required=False,
        trim_whitespace=False,
        help_text="Markdown.",
    )
    message = serializers.CharField(
        max_length=limits.REVISION_MESSAGE,
        required=False,
        allow_blank=True,
        help_text="What changed, and why.",
    )
    files = _files_field()
    remove_files = serializers.ListField(
        child=serializers.CharField(max_length=255),
        required=False,
        help_text="Names of the current revision's files to leave out of the new one.",
    )
    attach = _attach_field()
    language = _language_field(
        "The language the revision is written in; default: the current revision's."
    )


class ForkSerializer(serializers.Serializer):
    challenge = VisibleChallengeField(
        required=False, help_text="Fork into another open challenge (default: the same one)."
    )
    title = PlainCharField(max_length=limits.TITLE, required=False, allow_blank=True)


class RevisionSerializer(HiddenFieldsMixin, _VisibleIdsMixin, serializers.ModelSerializer):
    hidden_fields = ("title", "message", "body")
    hidden_reason = serializers.CharField(
        read_only=True, help_text="Why moderation hid it; empty when shown."
    )
    url = serializers.SerializerMethodField()
    author = UserRefSerializer(read_only=True)
    credited_solution = serializers.SerializerMethodField(
        help_text="The fork whose changes this revision took upstream."
    )

    class Meta:
        model = Revision
        fields = [
            "number", "url", "title", "message", "author", "credited_solution", "created_at",
            "hidden_reason", "language",
        ]  # fmt: skip
        read_only_fields = fields

    def get_url(self, revision) -> str:
        return reverse(
            "api-solution-revision",
            kwargs={"pk": revision.solution_id, "number": revision.number},
            request=self.context.get("request"),
        )

    def get_credited_solution(self, revision) -> int | None:
        return self.visible_id(revision.credited_solution_id)


class RevisionDetailSerializer(_RevisionFilesMixin, RevisionSerializer):
    files = serializers.SerializerMethodField()
    archive_url = serializers.SerializerMethodField(
        help_text="The revision as one zip: README.md, files/, LICENSE and lineage.json."
    )

    class Meta(RevisionSerializer.Meta):
        fields = [*RevisionSerializer.Meta.fields, "body", "files", "archive_url"]
        read_only_fields = fields

    @extend_schema_field(RevisionFileSerializer(many=True))
    def get_files(self, revision) -> list[dict]:
        return self.revision_files(revision)

    def get_archive_url(self, revision) -> str:
        return reverse(
            "api-solution-revision-archive",
            kwargs={"pk": revision.solution_id, "number": revision.number},
            request=self.context.get("request"),
        )


# --- Diffs -----------------------------------------------------------------------------------


class DiffSegmentSerializer(serializers.Serializer):
    text = serializers.CharField()
    changed = serializers.BooleanField()


class DiffRowSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["equal", "replace", "delete", "insert", "skip", "too_large"],
        help_text="too_large: the texts differ too much to compare line by line; the one row "
        "holds both in full.",
    )
    old_number = serializers.IntegerField(allow_null=True)
    new_number = serializers.IntegerField(allow_null=True)
    old = DiffSegmentSerializer(many=True)
    new = DiffSegmentSerializer(many=True)
    skipped = serializers.IntegerField(help_text="Unchanged lines left out (kind skip).")


class DiffStatsSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    removed = serializers.IntegerField()


class _FromFieldMixin:
    """`from` is a Python keyword: the field is declared as `from_` and renamed here."""

    def get_fields(self):
        fields = super().get_fields()
        return {("from" if name == "from_" else name): field for name, field in fields.items()}


class DiffQuerySerializer(_FromFieldMixin, serializers.Serializer):
    from_ = serializers.IntegerField(
        min_value=1, required=False, help_text="Old revision number (default: the one before)."
    )
    to = serializers.IntegerField(
        min_value=1, required=False, help_text="New revision number (default: the current one)."
    )


class FileChangeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["added", "removed", "renamed", "changed"],
        help_text="renamed: the same bytes under a new name; changed: new bytes, same name.",
    )
    path = serializers.CharField()
    old_path = serializers.CharField(allow_null=True)
    old_sha256 = serializers.CharField(source="old.blob.sha256", allow_null=True, default=None)
    new_sha256 = serializers.CharField(source="new.blob.sha256", allow_null=True, default=None)
    rows = DiffRowSerializer(many=True, help_text="Line diff of a changed text file.")


class DiffSerializer(_FromFieldMixin, serializers.Serializer):
    from_ = serializers.IntegerField()
    to = serializers.IntegerField()
    hidden_reason = serializers.CharField(
        help_text="Why moderation hides this solution or revision from you (then no rows and "
        "no files); empty when you may read it."
    )
    rows = DiffRowSerializer(many=True)
    stats = DiffStatsSerializer()
    files = FileChangeSerializer(many=True, help_text="What changed in the files.")


# --- Lineage ---------------------------------------------------------------------------------


class LineageNodeSerializer(serializers.Serializer):
    """One solution in a lineage tree. Solutions the member may not see keep their place with
    every field null and status "private"."""

    id = serializers.IntegerField(allow_null=True)
    generation = serializers.IntegerField()
    title = serializers.CharField(allow_null=True)
    author = serializers.CharField(allow_null=True, help_text="The author's username.")
    status = serializers.CharField()
    challenge = serializers.CharField(allow_null=True, help_text="The challenge's slug.")
    url = serializers.CharField(allow_null=True)
    children = serializers.SerializerMethodField()

    @extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/LineageNode"}})
    def get_children(self, node) -> list:
        return node["children"]


class LineageSerializer(LineageNodeSerializer):
    """The whole tree from its root, with where the requested solution sits in it."""

    children = LineageNodeSerializer(many=True)
    current = serializers.IntegerField(help_text="The requested solution's id.")
    ancestors = serializers.ListField(
        child=serializers.IntegerField(allow_null=True),
        help_text="Ids from the root down to the parent (null where the member may not see).",
    )
    size = serializers.IntegerField(help_text="How many solutions the tree holds.")


# --- Upstream proposals ----------------------------------------------------------------------


class UpstreamProposalSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-upstream-proposal-detail")
    fork = serializers.PrimaryKeyRelatedField(read_only=True)
    parent = serializers.PrimaryKeyRelatedField(read_only=True)
    author = UserRefSerializer(read_only=True)
    fork_revision = serializers.IntegerField(source="fork_revision.number", read_only=True)
    base_revision = serializers.IntegerField(
        source="base_revision.number",
        read_only=True,
        help_text="The parent's revision the offer was made against.",
    )
    resulting_revision = serializers.IntegerField(
        source="resulting_revision.number",
        read_only=True,
        allow_null=True,
        help_text="The parent's new revision, once accepted.",
    )

    class Meta:
        model = UpstreamProposal
        fields = [
            "id", "url", "fork", "parent", "author", "message", "status", "decline_reason",
            "fork_revision", "base_revision", "resulting_revision", "created_at", "decided_at",
        ]  # fmt: skip
        read_only_fields = fields


class UpstreamProposalDetailSerializer(UpstreamProposalSerializer):
    """With the diff from the base revision to the offered one; the view puts the rows in the
    context."""

    diff = serializers.SerializerMethodField()
    stats = serializers.SerializerMethodField()

    class Meta(UpstreamProposalSerializer.Meta):
        fields = [*UpstreamProposalSerializer.Meta.fields, "diff", "stats"]
        read_only_fields = fields

    @extend_schema_field(DiffRowSerializer(many=True))
    def get_diff(self, proposal):
        return DiffRowSerializer(self.context["diff"], many=True).data

    @extend_schema_field(DiffStatsSerializer)
    def get_stats(self, proposal):
        return self.context["stats"]


class UpstreamProposalCreateSerializer(serializers.Serializer):
    fork = VisibleSolutionField(help_text="Your fork's id.")
    message = serializers.CharField(
        max_length=limits.UPSTREAM_MESSAGE,
        help_text="What the change does and why the parent needs it.",
    )


# --- Comments --------------------------------------------------------------------------------


class CommentSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-comment-detail")
    author = UserRefSerializer(read_only=True)
    challenge = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    solution = serializers.PrimaryKeyRelatedField(read_only=True)
    parent = serializers.PrimaryKeyRelatedField(read_only=True)
    body = serializers.SerializerMethodField(
        help_text='"" once deleted, and while hidden (except to moderators).'
    )
    deleted = serializers.BooleanField(source="is_deleted", read_only=True)
    hidden = serializers.BooleanField(source="is_hidden", read_only=True)

    class Meta:
        model = Comment
        fields = [
            "id", "url", "author", "challenge", "solution", "parent", "body", "language",
            "deleted", "hidden", "created_at", "edited_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_body(self, comment) -> str:
        if comment.is_deleted:
            return ""
        if comment.is_hidden and not permissions.can_moderate_comment(
            _user(self.context.get("request")), comment
        ):
            return ""
        return comment.body


class CommentCreateSerializer(serializers.Serializer):
    challenge = VisibleChallengeField(required=False, allow_null=True, help_text="A slug.")
    solution = VisibleSolutionField(required=False, allow_null=True)
    parent = VisibleCommentField(
        required=False, allow_null=True, help_text="The comment this one replies to."
    )
    body = serializers.CharField(max_length=limits.COMMENT)
    language = _language_field()

    def validate(self, attrs):
        targets = [attrs.get("challenge"), attrs.get("solution")]
        if sum(target is not None for target in targets) != 1:
            raise serializers.ValidationError(
                gettext("Comment on exactly one target: a challenge or a solution."), code="target"
            )
        return attrs


class CommentEditSerializer(serializers.Serializer):
    """A missing body keeps the current one; a missing language keeps the comment's."""

    body = serializers.CharField(max_length=limits.COMMENT, required=False)
    language = _language_field("The language the comment is written in; default: unchanged.")


# --- Selection rounds ------------------------------------------------------------------------


class SelectionEntrySerializer(serializers.ModelSerializer):
    solution = serializers.IntegerField(source="solution_id", read_only=True)
    title = serializers.CharField(source="solution.title", read_only=True)
    author = UserRefSerializer(source="solution.author", read_only=True)
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = SelectionEntry
        fields = [
            "solution", "title", "author", "outcome", "reason", "winner_reason",
            "shortlisted_at", "selected_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_outcome(self, entry) -> str:
        return "winner" if entry.is_winner else "shortlisted"


class SelectionRoundSerializer(serializers.ModelSerializer):
    entries = SelectionEntrySerializer(many=True, read_only=True)
    published_by = UserRefSerializer(read_only=True)

    class Meta:
        model = SelectionRound
        fields = [
            "number", "title", "summary", "status", "created_at", "published_at",
            "published_by", "entries",
        ]  # fmt: skip
        read_only_fields = fields


class SelectionRoundCreateSerializer(serializers.Serializer):
    title = PlainCharField(max_length=limits.TITLE, required=False, allow_blank=True, default="")
    summary = serializers.CharField(
        max_length=limits.SELECTION_SUMMARY, required=False, allow_blank=True, default=""
    )


class SelectionChoiceSerializer(serializers.Serializer):
    solution = serializers.IntegerField(min_value=1, help_text="Id of a solution to the challenge.")
    reason = serializers.CharField(
        max_length=limits.SELECTION_REASON, help_text="Why: the authors and members read it."
    )


class RevisionArchiveSerializer(serializers.ModelSerializer):
    """A large revision's zip, built by a task: GET the archive URL again until it is ready,
    then the same URL answers the zip."""

    progress = serializers.IntegerField(read_only=True, help_text="Per cent, 0 to 100.")
    download_url = serializers.SerializerMethodField(help_text="The zip, once it is ready.")

    class Meta:
        model = RevisionArchive
        fields = ["state", "progress", "size", "created_at", "expires_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, archive) -> str | None:
        if not archive.is_downloadable:
            return None
        revision = archive.revision
        return reverse(
            "api-solution-revision-archive",
            kwargs={"pk": revision.solution_id, "number": revision.number},
            request=self.context.get("request"),
        )
