"""Keeping an uploaded workbook between its dry run and applying it (instance/imports/).

The file is stored under a random token only (the person's file name never becomes a path),
with who uploaded it, for which project, and the fingerprint of the dry run they saw.
Abandoned dry runs are forgotten after a day.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from pathlib import Path

from flask import current_app

UPLOAD_TOKEN = re.compile(r"^[0-9a-f]{32}$")
UPLOAD_MAX_AGE_HOURS = 24


def _uploads_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep_upload(data: bytes, filename: str, project_id: int | None, user_id: int | None, fingerprint: str) -> str:
    """Store the workbook until it is applied; returns its token."""
    directory = _uploads_dir()
    for old in directory.iterdir():  # forget abandoned dry runs
        try:
            if time.time() - old.stat().st_mtime > UPLOAD_MAX_AGE_HOURS * 3600:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_hex(16)
    (directory / f"{token}.xlsx").write_bytes(data)
    meta = {"filename": filename[:255], "project_id": project_id, "user_id": user_id, "fingerprint": fingerprint,
            "sha256": hashlib.sha256(data).hexdigest()}
    (directory / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def load_upload(token: str) -> tuple[bytes, dict] | None:
    if not UPLOAD_TOKEN.match(token or ""):
        return None
    directory = _uploads_dir()
    try:
        meta = json.loads((directory / f"{token}.json").read_text(encoding="utf-8"))
        return (directory / f"{token}.xlsx").read_bytes(), meta
    except (OSError, ValueError):
        return None


def discard_upload(token: str) -> None:
    if not UPLOAD_TOKEN.match(token or ""):
        return
    directory = _uploads_dir()
    for suffix in (".xlsx", ".json"):
        (directory / f"{token}{suffix}").unlink(missing_ok=True)
