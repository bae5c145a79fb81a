"""Members take their data with them (issue 21): the archive holds every kind of their data and
nothing of anyone else's; the link is theirs only and expires; the task is safe to run twice."""

import pytest

from peerhub import exports
from peerhub.models import DataExport
from tests.helpers import after_commit
from tests.peerhub.export_helpers import archive_of, full_member, parts_of

pytestmark = pytest.mark.django_db


def request_export(user) -> DataExport:
    with after_commit():
        return exports.export_request(user=user)


def test_the_archive_holds_a_row_of_every_kind_and_the_files_bytes():
    member = full_member("a")
    export = request_export(member.user)
    export.refresh_from_db()
    assert export.state == DataExport.State.READY and export.progress == 100
    archive = archive_of(export)
    parts = parts_of(archive)
    empty = sorted(name for name, rows in parts.items() if not rows)
    assert empty == []
    for path, data in member.file_bytes.items():
        assert archive.read(path) == data
