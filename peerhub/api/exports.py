"""The API twin of the "Your data" page (issue 21): ask for an export of your data, follow it,
download it. The rules live in peerhub.exports."""

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from peerhub import exports
from peerhub.exceptions import Gone
from peerhub.models import DataExport


class DataExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(
        help_text="While the export is ready: the archive, for you only (send your credentials). "
        "Null otherwise."
    )

    class Meta:
        model = DataExport
        fields = [
            "id", "state", "progress", "size", "created_at", "finished_at", "expires_at",
            "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, export: DataExport) -> str | None:
        if not export.is_downloadable:
            return None
        url = reverse("api-data-export-download", kwargs={"pk": export.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class DataExportListView(generics.ListAPIView):
    """Your data exports, newest first. POST asks for a new one: an archive (ZIP of JSON files
    and your stored files) built in the background, e-mailed as a link when ready; follow
    `state` and `progress` here. One export at a time (409 `export_in_flight`) and one per
    period (429 `export_rate_limited`, with `Retry-After`)."""

    serializer_class = DataExportSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DataExport.objects.none()
        return exports.exports_of(user=self.request.user)

    @extend_schema(
        request=None,
        responses={
            202: DataExportSerializer,
            409: OpenApiResponse(description="`export_in_flight`: one is being built."),
            429: OpenApiResponse(description="`export_rate_limited`: see `Retry-After`."),
        },
    )
    def post(self, request):
        export = exports.export_request(user=request.user)
        export.refresh_from_db()  # with eager tasks (the embedded default) it is built already
        data = DataExportSerializer(export, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


class DataExportDownloadView(APIView):
    """The archive of one of your exports, while its link is valid (410 `export_expired`
    after)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(description="The ZIP archive."),
            404: OpenApiResponse(description="No export of yours, or not built yet."),
            410: OpenApiResponse(description="`export_expired`: ask for a new one."),
        }
    )
    def get(self, request, pk: int):
        export = exports.export_of(user=request.user, pk=pk)
        if not export.is_downloadable:
            raise Gone(_("This export has expired: ask for a new one."), code="export_expired")
        return FileResponse(
            exports.storage().open(export.file_name, "rb"),
            as_attachment=True,
            filename=f"peerhub-data-{export.created_at:%Y-%m-%d}.zip",
            content_type="application/zip",
        )
