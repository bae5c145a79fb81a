"""docker-compose.yml must stay valid and true to the services PeerHub needs. No Docker engine
runs here, but `docker compose config` (v2) or Debian's `docker-compose config` (1.29) validates
the file without one."""

import os
import shutil
import subprocess
import sys
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


SECRET = {"SECRET_KEY": "a-test-secret-that-is-long-enough-0123456789-abcdefghij"}


def run(compose, *args, env=None):
    return subprocess.run(
        [*compose, "-f", str(ROOT / "docker-compose.yml"), *args],
        cwd=ROOT,
        env={**(os.environ if env is None else env), **SECRET},
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
    assert set(result.stdout.split()) == {
        "migrate", "web", "worker", "beat", "postgres", "redis", "replica", "minio",
        "minio-bucket",
    }  # fmt: skip
    services = yaml.safe_load(run(compose, "config").stdout)["services"]
    optional = {name for name, service in services.items() if service.get("profiles")}
    assert optional == {"replica"}  # the replica runs only with `--profile replica`


def test_files_go_to_the_object_store_once_its_bucket_exists(compose):
    services = yaml.safe_load(run(compose, "config").stdout)["services"]
    for name in ("migrate", "web", "worker", "beat"):
        url = services[name]["environment"]["STORAGE_URL"]
        assert url.startswith("s3://peerhub:") and "endpoint_url=http://minio:9000" in url
    for name in ("web", "worker", "beat"):
        bucket = services[name]["depends_on"]["minio-bucket"]
        assert bucket["condition"] == "service_completed_successfully"
    assert "mc mb --ignore-existing store/peerhub-files" in services["minio-bucket"]["command"][0]


def mounts(service: dict) -> dict[str, str]:
    """Target → source of a service's volumes, in v2's long form or 1.29's short one."""
    found = {}
    for volume in service["volumes"]:
        if isinstance(volume, str):
            source, target, *_mode = volume.split(":")
            found[target] = source
        else:
            found[volume["target"]] = volume.get("source", "")
    return found


def test_the_optional_replica_streams_from_postgres_and_the_web_can_read_from_it(compose):
    """README "Reads off the primary": the primary's init script makes the replication role,
    the replica's entrypoint copies the primary with pg_basebackup -R, and the processes pass
    DATABASE_REPLICA_URL through (empty by default: every read uses the primary)."""
    services = yaml.safe_load(run(compose, "config").stdout)["services"]
    replica = services["replica"]
    assert replica["profiles"] == ["replica"]
    assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in replica
    mounted = mounts(replica)
    entrypoint = ROOT / "docker" / "postgres" / "replica-entrypoint.sh"
    assert mounted["/replica-entrypoint.sh"] == str(entrypoint)
    assert "pg_basebackup" in entrypoint.read_text()
    assert "--write-recovery-conf" in entrypoint.read_text()

    init = ROOT / "docker" / "postgres" / "10-replication.sh"
    primary = mounts(services["postgres"])
    assert primary["/docker-entrypoint-initdb.d/10-replication.sh"] == str(init)
    assert "REPLICATION" in init.read_text() and "pg_hba.conf" in init.read_text()
    for script in (entrypoint, init):
        assert subprocess.run(["sh", "-n", str(script)], check=False).returncode == 0

    for name in ["web", "worker", "beat"]:
        assert services[name]["environment"]["DATABASE_REPLICA_URL"] in ("", None)
    chosen = run(
        compose,
        "config",
        env={
            **os.environ,
            "DATABASE_REPLICA_URL": "postgres://peerhub:peerhub@replica:5432/peerhub",
        },
    )
    web = yaml.safe_load(chosen.stdout)["services"]["web"]
    assert web["environment"]["DATABASE_REPLICA_URL"].endswith("@replica:5432/peerhub")


def test_the_stack_refuses_to_start_without_a_secret_key(compose):
    env = {name: value for name, value in os.environ.items() if name != "SECRET_KEY"}
    result = subprocess.run(
        [*compose, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_migrations_run_once_before_the_processes_start(compose):
    services = yaml.safe_load(run(compose, "config").stdout)["services"]
    assert "migrate" in services["migrate"]["command"]
    assert services["migrate"]["restart"] == "no"
    for name in ["web", "worker", "beat"]:
        command = services[name]["command"]
        assert "migrate" not in (command if isinstance(command, str) else " ".join(command))
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"


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


def test_the_stacks_money_setup_passes_the_checks_its_processes_start_with(compose):
    """Web, worker and beat run with DEBUG=0, so they refuse to start unless the payment setup
    passes marketplace/checks.py: by default the stack is a sandbox demo, named on purpose."""
    money = {
        "PAYMENT_PROVIDER", "MARKETPLACE_PAYOUT_PROVIDER", "PAYMENT_SANDBOX_IN_PRODUCTION",
        "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "SANDBOX_WEBHOOK_SECRET",
    }  # fmt: skip
    host = {name: value for name, value in os.environ.items() if name not in money}
    result = run(compose, "config", env=host)
    assert result.returncode == 0, result.stderr
    for name, service in yaml.safe_load(result.stdout)["services"].items():
        if name not in {"web", "worker", "beat"}:
            continue
        stack = {
            key: "" if value is None else str(value)
            for key, value in service["environment"].items()
            if key not in {"DATABASE_URL", "REDIS_URL"}  # no PostgreSQL or Redis is needed
        }
        assert stack["PAYMENT_SANDBOX_IN_PRODUCTION"] == "1"
        check = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--tag", "payments"],
            cwd=ROOT,
            env={**host, **stack, "DJANGO_SETTINGS_MODULE": "peerhub.settings"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert check.returncode == 0, name + check.stdout + check.stderr
