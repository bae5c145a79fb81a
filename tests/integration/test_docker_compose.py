"""docker-compose.yml must stay valid and true to the services PeerHub needs. No Docker engine
runs here, but `docker compose config` (v2) or Debian's `docker-compose config` (1.29) validates
the file without one."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.services


def compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.fixture
def compose():
    command = compose_command()
    need(command is not None, "docker compose or docker-compose")
    return command


def run(compose, *args):
    return subprocess.run(
        [*compose, "-f", str(ROOT / "docker-compose.yml"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_compose_file_is_valid(compose):
    result = run(compose, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_runs_the_whole_stack(compose):
    result = run(compose, "config", "--services")
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"web", "worker", "beat", "postgres", "redis"}


def test_services_have_health_checks_and_wait_for_their_dependencies(compose):
    result = run(compose, "config")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    for name in ["web", "worker", "postgres", "redis"]:
        assert "healthcheck" in services[name], name
    for name in ["web", "worker", "beat"]:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")
        assert env["DEBUG"] == "0"
