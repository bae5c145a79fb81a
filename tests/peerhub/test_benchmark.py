"""`manage.py benchmark --quick --no-load` on a tiny scale dataset prints every page and list,
signed out and in, beside the bare view, and writes figures that --compare reads back."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from peerhub import bench

pytestmark = pytest.mark.django_db


def test_it_needs_the_scale_dataset():
    with pytest.raises(CommandError, match="seed"):
        call_command("benchmark", quick=True, no_load=True, stdout=io.StringIO())


def test_a_quick_run_prints_every_page(tmp_path):
    call_command("seed_scale", members=20, i_know=True, stdout=io.StringIO())
    figures = tmp_path / "figures.json"
    out = io.StringIO()
    call_command("benchmark", quick=True, no_load=True, repeat=1, json=str(figures), stdout=out)
    printed = out.getvalue()
    for target in bench.targets():
        assert f"{target.name} ({'in' if target.signed_in else 'out'})" in printed
    rows = json.loads(figures.read_text())["figures"]
    assert len(rows) == len(bench.targets())
    assert all(row["status"] == 200 for row in rows), [r for r in rows if r["status"] != 200]

    again = io.StringIO()
    call_command(
        "benchmark", quick=True, no_load=True, repeat=1, only=["home"],
        compare=str(figures), stdout=again,
    )  # fmt: skip
    assert "home (out)" in again.getvalue() and "→" in again.getvalue()
    assert "solution (out)" not in again.getvalue()
