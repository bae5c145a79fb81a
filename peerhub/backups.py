"""Backups of the one database, and their restore (manage.py backup_database / restore_database).

PostgreSQL: `pg_dump --format=custom` (every table, sequence and constraint, consistent at one
moment without stopping the site) and `pg_restore --clean --if-exists --no-owner`, which
replaces what the database holds with the backup. SQLite (the embedded default): sqlite3's
online backup API, in both directions. Money and reputation need nothing else: balances and
scores are derived from the rows a backup holds (audit_ledger and recompute_reputation --check
prove a restored database right)."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connections

from .exceptions import DomainError


def _database(alias: str = "default") -> dict:
    return connections[alias].settings_dict


def _pg_env(db: dict) -> dict:
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _pg_args(db: dict) -> list[str]:
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return args


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise DomainError(f"{name} is not installed (Debian: postgresql-client).", code="no_tool")
    return found


def backup(path: Path, *, alias: str = "default") -> Path:
    """Write a backup of the database to `path` (made atomically: a half-written file never
    takes its name)."""
    db = _database(alias)
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    if db["ENGINE"].endswith("postgresql"):
        subprocess.run(  # noqa: S603 (our settings, a tool found on PATH)
            [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}",
             *_pg_args(db)],
            env=_pg_env(db), check=True, capture_output=True, text=True,
        )  # fmt: skip
    elif db["ENGINE"].endswith("sqlite3"):
        _sqlite_copy(db["NAME"], partial)
    else:
        raise DomainError(f"No backup for {db['ENGINE']}.", code="unsupported")
    partial.replace(path)
    return path


def restore(path: Path, *, alias: str = "default") -> None:
    """Replace what the database holds with the backup at `path`. Every connection of this
    process is closed first; stop web and workers before restoring a live site."""
    db = _database(alias)
    path = Path(path)
    if not path.exists():
        raise DomainError(f"No backup at {path}.", code="not_found")
    connections.close_all()
    if db["ENGINE"].endswith("postgresql"):
        subprocess.run(  # noqa: S603 (our settings, a tool found on PATH)
            [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
             "--exit-on-error", *_pg_args(db), str(path)],
            env=_pg_env(db), check=True, capture_output=True, text=True,
        )  # fmt: skip
    elif db["ENGINE"].endswith("sqlite3"):
        _sqlite_copy(path, db["NAME"])
    else:
        raise DomainError(f"No restore for {db['ENGINE']}.", code="unsupported")


def _sqlite_copy(source_path, target_path) -> None:
    """sqlite3's online backup: page by page, consistent even while the source is written."""
    source = sqlite3.connect(str(source_path))
    target = sqlite3.connect(str(target_path))
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
