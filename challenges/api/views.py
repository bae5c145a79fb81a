"""API views of challenges. Each action parses with a serializer, calls one service or selector
and answers; the project's exception handler turns domain errors into the JSON error shape.

Lookups go through the selectors (`challenge_get`, `solution_get`, `upstream_get`) or the
visibility querysets of `permissions`, so whatever a member may not see is a 404; an action the
member may not take on something they see is the service's `NotAllowed`, a 403."""

from django.http import Http404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from peerhub import history
from peerhub.api.pagination import KeysetPagination, PageNumberPagination
from peerhub.api.schema import ErrorSerializer
from peerhub.api.serializers import EditVersionSerializer, edit_history_data
from peerhub.exceptions import NotFound
from peerhub.slugs import UnicodeSlugConverter

from .. import archives, artefacts, files, permissions, selectors, services, uploads
from ..diff import diff_stats
from ..models import Challenge, ChallengeProposal, Solution, UpstreamProposal
from ..pagecache import COMMENTS, api_as_visitors_see
from . import filters
from . import serializers as s


def _visible_solution_ids(user, ids) -> set[int]:
    """Which of these solution ids the member may see: one query, whatever their number."""
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return set()
    visible = permissions.solutions_visible_to(user).filter(pk__in=ids)
    return set(visible.values_list("pk", flat=True))


class _ViewSet(viewsets.GenericViewSet):
    filter_backends = [DjangoFilterBackend]

    def parse(self, serializer_class, *, data=None, partial=False) -> dict:
        serializer = serializer_class(
            data=self.request.data if data is None else data,
            partial=partial,
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def answer(self, serializer_class, instance, *, status_code=status.HTTP_200_OK, **context):
        context = {**self.get_serializer_context(), **context}
        return Response(serializer_class(instance, context=context).data, status=status_code)

    def page(self, queryset, serializer_class, context_for=None):
        """One page of the list; `context_for(rows)` adds what the serializer needs for the
        whole page at once, so the query count does not grow with the rows."""
        rows = self.paginate_queryset(queryset)
        context = {**self.get_serializer_context(), **(context_for(rows) if context_for else {})}
        return self.get_paginated_response(serializer_class(rows, many=True, context=context).data)


# --- Challenges ------------------------------------------------------------------------------


class ChallengeViewSet(_ViewSet):
    """Challenges: browse and search them; organisers frame, edit and run them."""

    serializer_class = s.ChallengeSerializer
    filterset_class = filters.ChallengeFilter
    lookup_field = "slug"
    lookup_value_regex = UnicodeSlugConverter.regex  # slugs in every script (issue 22)

    def get_queryset(self):
        # ChallengeFilter answers with selectors.challenge_list and the request's parameters.
        return selectors.challenge_list(user=self.request.user)

    def get_object(self):
        return selectors.challenge_get(user=self.request.user, slug=self.kwargs["slug"])

    def list(self, request):
        def answer(user) -> Response:
            # The list's filters, as DjangoFilterBackend applies them, for `user`.
            filterset = filters.ChallengeFilter(
                request.query_params,
                queryset=Challenge.objects.none(),
                request=request,
                viewer=user,
            )
            if not filterset.is_valid():
                raise translate_validation(filterset.errors)
            return self.page(filterset.qs, s.ChallengeSerializer)

        # The visitors' answer for every member who sees what a visitor sees.
        return api_as_visitors_see(request, ["lists", COMMENTS], "api-challenges", answer)

    @extend_schema(request=s.ChallengeCreateSerializer, responses={201: s.ChallengeSerializer})
    def create(self, request):
        """Frame a new challenge, as a draft. Organisers only."""
        data = self.parse(s.ChallengeCreateSerializer)
        challenge = services.challenge_create(organiser=request.user, **data)
        return self.answer(s.ChallengeSerializer, challenge, status_code=status.HTTP_201_CREATED)

    @extend_schema(responses=s.ChallengeDetailSerializer)
    def retrieve(self, request, slug):
        """A challenge, with its brief's translations (issue 22)."""
        challenge = self.get_object()
        translations = list(challenge.translations.select_related("translated_by"))
        for translation in translations:
            translation.challenge = challenge
        challenge._prefetched_objects_cache = {
            **getattr(challenge, "_prefetched_objects_cache", {}),
            "translations": translations,
        }
        return self.answer(s.ChallengeDetailSerializer, challenge)

    @extend_schema(request=s.ChallengeWriteSerializer, responses=s.ChallengeSerializer)
    def partial_update(self, request, slug):
        """Edit a challenge. Its organisers only; criteria only while it is a draft."""
        challenge = self.get_object()
        data = self.parse(s.ChallengeWriteSerializer, partial=True)
        challenge = services.challenge_update(challenge=challenge, by=request.user, **data)
        return self.answer(s.ChallengeSerializer, challenge)

    @extend_schema(responses=EditVersionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, slug):
        """Every version of the challenge's brief, criteria and deadline: the first as it was
        first written, then each edit (empty when never edited)."""
        return Response(edit_history_data(history.versions(self.get_object())))

    @extend_schema(request=s.TransitionSerializer, responses=s.ChallengeSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, slug):
        """Move the challenge one step: draft → open → selecting → closed → archived."""
        challenge = self.get_object()
        to = self.parse(s.TransitionSerializer)["to"]
        challenge = services.challenge_transition(challenge=challenge, by=request.user, to=to)
        return self.answer(s.ChallengeSerializer, challenge)

    @extend_schema(request=s.ChallengeMemberSerializer, responses={204: None})
    @action(detail=True, methods=["post", "delete"])
    def members(self, request, slug):
        """POST invites a member (`role: invited`) or adds a co-organiser (`role: organiser`);
        DELETE withdraws an invitation. Organisers only."""
        challenge = self.get_object()
        data = self.parse(s.ChallengeMemberSerializer)
        member = data["username"]
        if request.method == "DELETE":
            services.challenge_uninvite(challenge=challenge, by=request.user, member=member)
        elif data["role"] == "organiser":
            services.challenge_add_organiser(challenge=challenge, by=request.user, member=member)
        else:
            services.challenge_invite(challenge=challenge, by=request.user, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChallengeTranslationView(APIView):
    """The brief of a challenge in another language (issue 22). Anyone who may see the
    challenge reads it; its organisers add or replace it (PUT) and remove it (DELETE). The
    language is one of the site's (`en`, `es`, `fr`, `pt-br`, `ar`) other than the brief's own."""

    def _challenge(self, request, slug: str):
        return selectors.challenge_get(user=request.user, slug=slug)

    @extend_schema(
        responses={
            200: s.ChallengeTranslationSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No such challenge or translation."),
        }
    )
    def get(self, request, slug: str, language: str):
        challenge = self._challenge(request, slug)
        translation = challenge.translations.filter(language=language).first()
        if translation is None:
            raise NotFound(_("There is no translation into that language."))
        translation.challenge = challenge
        return Response(s.ChallengeTranslationSerializer(translation).data)

    @extend_schema(
        request=s.ChallengeTranslationWriteSerializer,
        responses={
            200: s.ChallengeTranslationSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Unknown or original language."),
            403: OpenApiResponse(ErrorSerializer, description="Not an organiser."),
        },
    )
    def put(self, request, slug: str, language: str):
        challenge = self._challenge(request, slug)
        serializer = s.ChallengeTranslationWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        translation = services.challenge_translation_save(
            challenge=challenge, by=request.user, language=language, **serializer.validated_data
        )
        translation.challenge = challenge
        return Response(s.ChallengeTranslationSerializer(translation).data)

    @extend_schema(
        responses={
            204: None,
            403: OpenApiResponse(ErrorSerializer, description="Not an organiser."),
            404: OpenApiResponse(ErrorSerializer, description="No such translation."),
        }
    )
    def delete(self, request, slug: str, language: str):
        challenge = self._challenge(request, slug)
        services.challenge_translation_delete(
            challenge=challenge, by=request.user, language=language
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Challenge proposals ---------------------------------------------------------------------


class ChallengeProposalViewSet(_ViewSet):
    """Challenges proposed by members: back them; organisers adopt or decline them."""

    serializer_class = s.ChallengeProposalSerializer
    filterset_class = filters.ChallengeProposalFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        # ChallengeProposalFilter answers with selectors.proposal_list and its parameters.
        return selectors.proposal_list(status="").select_related("decided_by")

    def get_object(self) -> ChallengeProposal:
        proposal = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if proposal is None:
            raise Http404(_("No such proposal."))
        return proposal

    def _context(self, proposals) -> dict:
        user = self.request.user
        challenge_ids = [
            p.challenge.pk for p in proposals if getattr(p, "challenge", None) is not None
        ]
        visible = permissions.challenges_visible_to(user).filter(pk__in=challenge_ids)
        return {
            "backed_ids": selectors.proposal_backed_by(
                user=user, proposal_ids=[p.pk for p in proposals]
            ),
            "visible_challenge_ids": set(visible.values_list("pk", flat=True))
            if challenge_ids
            else set(),
        }

    def _answer(self, proposal, status_code=status.HTTP_200_OK):
        return self.answer(
            s.ChallengeProposalSerializer,
            proposal,
            status_code=status_code,
            **self._context([proposal]),
        )

    def list(self, request):
        return self.page(
            self.filter_queryset(self.get_queryset()),
            s.ChallengeProposalSerializer,
            self._context,
        )

    @extend_schema(
        request=s.ChallengeProposalWriteSerializer,
        responses={201: s.ChallengeProposalSerializer},
    )
    def create(self, request):
        """Propose a challenge for the community to back."""
        data = self.parse(s.ChallengeProposalWriteSerializer)
        proposal = services.proposal_create(proposer=request.user, **data)
        return self._answer(self.get_queryset().get(pk=proposal.pk), status.HTTP_201_CREATED)

    def retrieve(self, request, pk):
        return self._answer(self.get_object())

    @extend_schema(request=None, responses={200: s.ChallengeProposalSerializer})
    @action(detail=True, methods=["post", "delete"])
    def back(self, request, pk):
        """POST backs the proposal, DELETE withdraws your backing; doing either twice changes
        nothing the second time."""
        proposal = self.get_object()
        if request.method == "DELETE":
            services.proposal_unback(proposal=proposal, user=request.user)
        else:
            services.proposal_back(proposal=proposal, user=request.user)
        return self._answer(self.get_object())

    @extend_schema(request=None, responses={201: s.ChallengeSerializer})
    @action(detail=True, methods=["post"])
    def adopt(self, request, pk):
        """Adopt the proposal: answers the draft challenge framed from it. Organisers only."""
        challenge = services.proposal_adopt(proposal=self.get_object(), by=request.user)
        return self.answer(s.ChallengeSerializer, challenge, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReasonSerializer, responses=s.ChallengeProposalSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk):
        """Decline the proposal, saying why. Organisers only."""
        proposal = self.get_object()
        reason = self.parse(s.ReasonSerializer)["reason"]
        services.proposal_decline(proposal=proposal, by=request.user, reason=reason)
        return self._answer(self.get_object())


# --- Uploads ---------------------------------------------------------------------------------


class UploadViewSet(_ViewSet):
    """Files uploaded to attach later: POST them (multipart), then name their ids in `attach`
    when posting a solution or a revision. Each is yours alone, kept for the hours the blob
    sweep's grace allows (`expires_at`) and attached once."""

    serializer_class = s.UploadSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = []
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return uploads.uploads_of(user=self.request.user)

    def list(self, request):
        """Your uploads not attached yet, newest first."""
        return self.page(self.get_queryset(), s.UploadSerializer)

    @extend_schema(
        request={"multipart/form-data": s.UploadCreateSerializer},
        responses={201: s.UploadSerializer(many=True), 400: ErrorSerializer, 413: ErrorSerializer},
    )
    def create(self, request):
        """Upload files (the `files` field repeated): all are stored, or none."""
        data = self.parse(s.UploadCreateSerializer)
        rows = uploads.uploads_create(user=request.user, uploads=data["files"])
        stored = uploads.uploads_of(user=request.user).filter(pk__in=[row.pk for row in rows])
        return Response(
            s.UploadSerializer(stored, many=True, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def retrieve(self, request, pk):
        upload = self.get_queryset().filter(pk=pk).first()
        if upload is None:
            raise Http404(_("No such upload of yours."))
        return self.answer(s.UploadSerializer, upload)

    @extend_schema(responses={204: None, 400: ErrorSerializer})
    def destroy(self, request, pk):
        """Discard an upload you will not attach."""
        uploads.upload_delete(user=request.user, upload_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Solutions -------------------------------------------------------------------------------


class SolutionViewSet(_ViewSet):
    """Solutions with their revisions, diffs, forks and lineage."""

    serializer_class = s.SolutionSerializer
    filterset_class = filters.SolutionFilter
    pagination_class = KeysetPagination
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self, user=None):
        """The solutions `user` (the request's member when not given) may see."""
        return (
            permissions.solutions_visible_to(self.request.user if user is None else user)
            .select_related("author", "challenge")
            .order_by(*filters.API_SOLUTION_SORTS["newest"])
        )

    def get_object(self) -> Solution:
        return selectors.solution_get(user=self.request.user, pk=self.kwargs["pk"])

    def _context(self, solutions, user=None) -> dict:
        ids = {pk for solution in solutions for pk in (solution.parent_id, solution.root_id)}
        user = self.request.user if user is None else user
        return {"visible_solution_ids": _visible_solution_ids(user, ids)}

    def _answer(self, solution: Solution, status_code=status.HTTP_200_OK):
        """The solution as its detail page shows it, read again through the selector."""
        solution = selectors.solution_get(user=self.request.user, pk=solution.pk)
        return self.answer(
            s.SolutionDetailSerializer,
            solution,
            status_code=status_code,
            **self._context([solution]),
        )

    def list(self, request):
        def answer(user) -> Response:
            return self.page(
                self.filter_queryset(self.get_queryset(user)),
                s.SolutionSerializer,
                lambda rows: self._context(rows, user),
            )

        # The visitors' answer for every member who sees what a visitor sees.
        return api_as_visitors_see(request, ["lists", COMMENTS], "api-solutions", answer)

    @extend_schema(request=s.SolutionCreateSerializer, responses={201: s.SolutionDetailSerializer})
    def create(self, request):
        """Post a solution to an open challenge, published or as a draft."""
        data = self.parse(s.SolutionCreateSerializer)
        solution = services.solution_create(
            author=request.user,
            uploads=data.pop("files", []),
            attachments=s.attachments_of(data),
            **data,
        )
        return self._answer(solution, status.HTTP_201_CREATED)

    @extend_schema(responses=s.SolutionDetailSerializer)
    def retrieve(self, request, pk):
        return self._answer(self.get_object())

    @extend_schema(request=s.SolutionReviseSerializer, responses=s.SolutionDetailSerializer)
    def partial_update(self, request, pk):
        """Edit the solution: a new revision. The author only."""
        solution = self.get_object()
        data = self.parse(s.SolutionReviseSerializer)
        current = solution.current_revision
        services.solution_revise(
            solution=solution,
            by=request.user,
            title=data.get("title", current.title),
            body=data.get("body", current.body),
            message=data.get("message", ""),
            uploads=data.get("files", []),
            remove_files=data.get("remove_files", []),
            attachments=s.attachments_of(data),
            language=data.get("language", ""),
        )
        return self._answer(solution)

    @extend_schema(responses=s.RevisionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=PageNumberPagination)
    def revisions(self, request, pk):
        """Every revision, newest first."""
        revisions = selectors.solution_revisions(solution=self.get_object())
        return self.page(
            revisions,
            s.RevisionSerializer,
            lambda rows: {
                "visible_solution_ids": _visible_solution_ids(
                    request.user, {row.credited_solution_id for row in rows}
                )
            },
        )

    @extend_schema(
        parameters=[OpenApiParameter("number", int, OpenApiParameter.PATH)],
        responses=s.RevisionDetailSerializer,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"revisions/(?P<number>[0-9]{1,9})",
        url_name="revision",
        filter_backends=[],
    )
    def revision(self, request, pk, number):
        """One revision with its body."""
        revision = selectors.revision_get(solution=self.get_object(), number=int(number))
        return self.answer(
            s.RevisionDetailSerializer,
            revision,
            visible_solution_ids=_visible_solution_ids(
                request.user, {revision.credited_solution_id}
            ),
        )

    @extend_schema(
        parameters=[s.DiffQuerySerializer],
        responses={
            200: s.DiffSerializer,
            400: OpenApiResponse(description="A revision number is not a positive integer."),
            404: OpenApiResponse(description="No such solution or revision."),
        },
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def diff(self, request, pk):
        """Side-by-side diff between two revisions, word by word within changed lines."""
        solution = self.get_object()
        numbers = self.parse(s.DiffQuerySerializer, data=request.query_params)
        new_number = numbers.get("to", solution.revision_count)
        old_number = numbers.get("from", max(1, new_number - 1))
        old = selectors.revision_get(solution=solution, number=old_number)
        new = selectors.revision_get(solution=solution, number=new_number)
        stub = selectors.hidden_from(request.user, solution, old, new)
        rows = [] if stub else selectors.revision_diff(old=old, new=new)
        return self.answer(
            s.DiffSerializer,
            {
                "from": old.number,
                "to": new.number,
                "hidden_reason": stub,
                "rows": rows,
                "stats": diff_stats(rows),
                "files": [] if stub else artefacts.files_diff(old=old, new=new),
            },
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("number", int, OpenApiParameter.PATH),
            OpenApiParameter("path", str, OpenApiParameter.PATH, description="The file's name."),
            OpenApiParameter("download", bool, description="Always as an attachment."),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file's bytes, with Content-Disposition, nosniff and a "
                "sandboxing Content-Security-Policy.",
            ),
            404: OpenApiResponse(description="No such solution, revision or file."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"revisions/(?P<number>[0-9]{1,9})/files/(?P<path>[^/]+)",
        url_name="revision-file",
        filter_backends=[],
    )
    def revision_file(self, request, pk, number, path):
        """One file of a revision: whoever may see the solution may fetch it."""
        entry = artefacts.revision_file_get(
            user=request.user, solution_pk=pk, number=int(number), path=path
        )
        return artefacts.file_response(request, entry, download=bool(request.GET.get("download")))

    @extend_schema(
        parameters=[OpenApiParameter("number", int, OpenApiParameter.PATH)],
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="README.md (the Markdown), files/…, LICENSE and lineage.json.",
            ),
            202: OpenApiResponse(
                s.RevisionArchiveSerializer,
                description="A large revision's zip is being built: ask again until it is.",
            ),
            404: OpenApiResponse(description="No such solution or revision."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"revisions/(?P<number>[0-9]{1,9})/archive",
        url_name="revision-archive",
        filter_backends=[],
    )
    def revision_archive(self, request, pk, number):
        """The revision as one zip. A large one is built by a task: the first request starts
        it and, until it is ready, the answer is 202 with its progress; then the zip."""
        solution = self.get_object()
        revision = selectors.revision_get(solution=solution, number=int(number))
        if not archives.built_by_task(files.manifest_of(revision)):
            return artefacts.zip_response(user=request.user, solution=solution, revision=revision)
        archive = archives.archive_request(user=request.user, revision=revision)
        if not archive.is_downloadable:
            response = self.answer(
                s.RevisionArchiveSerializer, archive, status_code=status.HTTP_202_ACCEPTED
            )
            response["Retry-After"] = "2"
            response["Cache-Control"] = "private, no-store"
            return response
        return artefacts.zip_response(
            user=request.user,
            solution=solution,
            revision=revision,
            archive=archives.archive_open(archive),
        )

    @extend_schema(request=s.ForkSerializer, responses={201: s.SolutionDetailSerializer})
    @action(detail=True, methods=["post"])
    def fork(self, request, pk):
        """Fork the solution into this or another open challenge; answers the fork."""
        source = self.get_object()
        data = self.parse(s.ForkSerializer)
        fork = services.solution_fork(
            source=source,
            by=request.user,
            challenge=data.get("challenge"),
            title=data.get("title", ""),
        )
        return self._answer(fork, status.HTTP_201_CREATED)

    @extend_schema(responses=s.LineageSerializer)
    @action(detail=True, methods=["get"], filter_backends=[])
    def lineage(self, request, pk):
        """The whole lineage tree the solution belongs to, from its root."""
        lineage = selectors.lineage_for(user=request.user, solution=self.get_object())
        return Response(
            {
                **lineage.root.as_dict(),
                "current": lineage.current_id,
                "ancestors": [node.id if node.visible else None for node in lineage.ancestors],
                "size": lineage.size,
            }
        )

    @extend_schema(request=None, responses=s.SolutionDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk):
        """Withdraw the solution: it leaves rankings and keeps its place in every lineage."""
        solution = services.solution_withdraw(solution=self.get_object(), by=request.user)
        return self._answer(solution)

    @extend_schema(request=None, responses=s.SolutionDetailSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk):
        """Publish a draft."""
        solution = services.solution_publish(solution=self.get_object(), by=request.user)
        return self._answer(solution)


# --- Upstream proposals ----------------------------------------------------------------------


class UpstreamProposalViewSet(_ViewSet):
    """A fork offers its changes back to its parent; the parent's author accepts or declines."""

    serializer_class = s.UpstreamProposalSerializer
    filterset_class = filters.UpstreamProposalFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        # The same rule as selectors.upstream_get: the member sees both the fork and the parent.
        visible = permissions.solutions_visible_to(self.request.user).values("pk")
        return (
            UpstreamProposal.objects.filter(fork__in=visible, parent__in=visible)
            .select_related("author", "fork_revision", "base_revision", "resulting_revision")
            .order_by("-created_at", "-pk")
        )

    def get_object(self) -> UpstreamProposal:
        return selectors.upstream_get(user=self.request.user, pk=self.kwargs["pk"])

    def _answer(self, proposal: UpstreamProposal, status_code=status.HTTP_200_OK):
        proposal = selectors.upstream_get(user=self.request.user, pk=proposal.pk)
        rows = selectors.revision_diff(old=proposal.base_revision, new=proposal.fork_revision)
        return self.answer(
            s.UpstreamProposalDetailSerializer,
            proposal,
            status_code=status_code,
            diff=rows,
            stats=diff_stats(rows),
        )

    def list(self, request):
        return self.page(self.filter_queryset(self.get_queryset()), s.UpstreamProposalSerializer)

    @extend_schema(
        request=s.UpstreamProposalCreateSerializer,
        responses={201: s.UpstreamProposalDetailSerializer},
    )
    def create(self, request):
        """Offer your fork's current revision back to its parent."""
        data = self.parse(s.UpstreamProposalCreateSerializer)
        proposal = services.upstream_propose(
            fork=data["fork"], by=request.user, message=data["message"]
        )
        return self._answer(proposal, status.HTTP_201_CREATED)

    @extend_schema(responses=s.UpstreamProposalDetailSerializer)
    def retrieve(self, request, pk):
        return self._answer(self.get_object())

    @extend_schema(request=None, responses=s.UpstreamProposalDetailSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk):
        """Take the offered text as the parent's new revision, crediting the fork. The parent's
        author only."""
        proposal = self.get_object()
        services.upstream_accept(proposal=proposal, by=request.user)
        return self._answer(proposal)

    @extend_schema(request=s.ReasonSerializer, responses=s.UpstreamProposalDetailSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk):
        """Decline the offer, saying why. The parent's author only."""
        proposal = self.get_object()
        reason = self.parse(s.ReasonSerializer)["reason"]
        services.upstream_decline(proposal=proposal, by=request.user, reason=reason)
        return self._answer(proposal)

    @extend_schema(request=None, responses=s.UpstreamProposalDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk):
        """Take the offer back. Its author only."""
        proposal = self.get_object()
        services.upstream_withdraw(proposal=proposal, by=request.user)
        return self._answer(proposal)


# --- Comments --------------------------------------------------------------------------------


class CommentViewSet(_ViewSet):
    """Threaded comments on challenges and solutions. Deleted comments stay as stubs so threads
    keep their shape; hidden ones show their words to moderators only."""

    serializer_class = s.CommentSerializer
    filterset_class = filters.CommentFilter
    pagination_class = KeysetPagination
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self, user=None):
        # Organisers are prefetched so that "may this member read a hidden comment?" asks no
        # query per row (permissions.is_organiser reads the prefetched list).
        return (
            selectors.comments_visible_to(self.request.user if user is None else user)
            .select_related("challenge", "solution__challenge")
            .prefetch_related("challenge__organisers", "solution__challenge__organisers")
            .order_by("created_at", "pk")
        )

    def get_object(self):
        comment = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if comment is None:
            raise Http404(_("No such comment."))
        return comment

    def _answer(self, comment, status_code=status.HTTP_200_OK):
        return self.answer(
            s.CommentSerializer,
            self.get_queryset().get(pk=comment.pk),
            status_code=status_code,
        )

    def list(self, request):
        def answer(user) -> Response:
            return self.page(self.filter_queryset(self.get_queryset(user)), s.CommentSerializer)

        # The visitors' answer for every member who sees what a visitor sees and moderates no
        # comment (organisers and staff read a hidden comment's words).
        return api_as_visitors_see(
            request,
            ["lists", COMMENTS],
            "api-comments",
            answer,
            alike=lambda: not permissions.may_moderate_some_comments(request.user),
        )

    @extend_schema(request=s.CommentCreateSerializer, responses={201: s.CommentSerializer})
    def create(self, request):
        """Comment on a challenge or a solution (exactly one), or reply to a comment there."""
        data = self.parse(s.CommentCreateSerializer)
        comment = services.comment_create(
            author=request.user,
            target=data.get("challenge") or data.get("solution"),
            body=data["body"],
            parent=data.get("parent"),
            language=data.get("language", ""),
        )
        return self._answer(comment, status.HTTP_201_CREATED)

    def retrieve(self, request, pk):
        return self.answer(s.CommentSerializer, self.get_object())

    @extend_schema(request=s.CommentEditSerializer, responses=s.CommentSerializer)
    def partial_update(self, request, pk):
        """Correct your comment, within the edit window."""
        comment = self.get_object()
        data = self.parse(s.CommentEditSerializer)
        return self._answer(
            services.comment_edit(
                comment=comment,
                by=request.user,
                body=data.get("body", comment.body),
                language=data.get("language", ""),
            )
        )

    @extend_schema(responses=EditVersionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, pk):
        """Every version of the comment, for whoever may read its words (404 once deleted, and
        while hidden except to its moderators and its author)."""
        comment = self.get_object()
        if not permissions.can_read_comment_words(request.user, comment):
            raise Http404(_("No such comment."))
        return Response(edit_history_data(history.versions(comment)))

    def destroy(self, request, pk):
        """Delete a comment's words; its place in the thread stays, as a stub."""
        services.comment_delete(comment=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.CommentSerializer)
    @action(detail=True, methods=["post"])
    def hide(self, request, pk):
        """Hide a comment: the challenge's organisers (and staff) only."""
        comment = services.comment_set_hidden(
            comment=self.get_object(), by=request.user, hidden=True
        )
        return self._answer(comment)

    @extend_schema(request=None, responses=s.CommentSerializer)
    @action(detail=True, methods=["post"])
    def unhide(self, request, pk):
        comment = services.comment_set_hidden(
            comment=self.get_object(), by=request.user, hidden=False
        )
        return self._answer(comment)


# --- Selection rounds ------------------------------------------------------------------------


class SelectionRoundViewSet(viewsets.ViewSet):
    """A challenge's selection rounds: published ones for everyone who sees the challenge, the
    round in preparation for its organisers too. Organisers open a round, shortlist solutions
    and select winners (each with a reason) and publish; a published round never changes."""

    lookup_field = "number"
    lookup_value_regex = r"[0-9]{1,9}"

    def _challenge(self):
        return selectors.challenge_get(user=self.request.user, slug=self.kwargs["slug"])

    def _round(self, challenge):
        return selectors.selection_round_get(
            user=self.request.user, challenge=challenge, number=int(self.kwargs["number"])
        )

    def _answer(self, challenge, number, status_code=status.HTTP_200_OK):
        round_ = selectors.selection_round_get(
            user=self.request.user, challenge=challenge, number=number
        )
        return Response(s.SelectionRoundSerializer(round_).data, status=status_code)

    def _solution(self, challenge, pk: int) -> Solution:
        solution = Solution.objects.filter(pk=pk, challenge=challenge).first()
        if solution is None or not permissions.can_view_solution(self.request.user, solution):
            raise Http404(_("No such solution in this challenge."))
        return solution

    @extend_schema(
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH)],
        responses=s.SelectionRoundSerializer(many=True),
    )
    def list(self, request, slug):
        rounds = selectors.selection_rounds(user=request.user, challenge=self._challenge())
        return Response(s.SelectionRoundSerializer(rounds, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH)],
        request=s.SelectionRoundCreateSerializer,
        responses={201: s.SelectionRoundSerializer},
    )
    def create(self, request, slug):
        """Start the next round (organisers, while the challenge is selecting)."""
        challenge = self._challenge()
        data = s.SelectionRoundCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        round_ = services.selection_round_open(
            challenge=challenge, by=request.user, **data.validated_data
        )
        return self._answer(challenge, round_.number, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("slug", str, OpenApiParameter.PATH),
            OpenApiParameter("number", int, OpenApiParameter.PATH),
        ],
        responses=s.SelectionRoundSerializer,
    )
    def retrieve(self, request, slug, number):
        challenge = self._challenge()
        return Response(s.SelectionRoundSerializer(self._round(challenge)).data)

    def _choice(self, request, service):
        challenge = self._challenge()
        round_ = self._round(challenge)
        data = s.SelectionChoiceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        solution = self._solution(challenge, data.validated_data["solution"])
        service(
            round=round_, by=request.user, solution=solution, reason=data.validated_data["reason"]
        )
        return self._answer(challenge, round_.number)

    @extend_schema(
        parameters=[
            OpenApiParameter("slug", str, OpenApiParameter.PATH),
            OpenApiParameter("number", int, OpenApiParameter.PATH),
        ],
        request=s.SelectionChoiceSerializer,
        responses=s.SelectionRoundSerializer,
    )
    @action(detail=True, methods=["post"])
    def shortlist(self, request, slug, number):
        """Put a published solution of the challenge on the shortlist, with a reason."""
        return self._choice(request, services.selection_shortlist)

    @extend_schema(
        parameters=[
            OpenApiParameter("slug", str, OpenApiParameter.PATH),
            OpenApiParameter("number", int, OpenApiParameter.PATH),
        ],
        request=s.SelectionChoiceSerializer,
        responses=s.SelectionRoundSerializer,
    )
    @action(detail=True, methods=["post"])
    def select(self, request, slug, number):
        """Select a shortlisted solution as a winner, with a reason."""
        return self._choice(request, services.selection_select)

    @extend_schema(
        parameters=[
            OpenApiParameter("slug", str, OpenApiParameter.PATH),
            OpenApiParameter("number", int, OpenApiParameter.PATH),
        ],
        request=None,
        responses=s.SelectionRoundSerializer,
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, slug, number):
        """Publish the round: public and permanent from now on (needs a winner)."""
        challenge = self._challenge()
        services.selection_publish(round=self._round(challenge), by=request.user)
        return self._answer(challenge, int(number))


# --- Mentions --------------------------------------------------------------------------------


class MentionSuggestionSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")


class MentionSuggestionsView(APIView):
    """Members to @mention while writing about a challenge, a solution, a challenge proposal or
    an offer of changes upstream: only members who may see it. The editor's autocomplete asks
    this as you type `@`."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="The start of a username or display name."),
            OpenApiParameter("challenge", str, description="The slug of the challenge."),
            OpenApiParameter("solution", int, description="The id of the solution."),
            OpenApiParameter(
                "proposal", str, description="A challenge proposal: its id, or `new`."
            ),
            OpenApiParameter(
                "upstream", int, description="The id of the fork whose changes are offered."
            ),
        ],
        responses={
            200: MentionSuggestionSerializer(many=True),
            404: OpenApiResponse(
                ErrorSerializer, description="No challenge or solution the member may see."
            ),
        },
    )
    def get(self, request):
        members = selectors.mention_suggestions_for(
            user=request.user,
            challenge=request.query_params.get("challenge", ""),
            solution=request.query_params.get("solution", ""),
            proposal=request.query_params.get("proposal", ""),
            upstream=request.query_params.get("upstream", ""),
            query=request.query_params.get("q", ""),
        )
        return Response(MentionSuggestionSerializer(members, many=True).data)
