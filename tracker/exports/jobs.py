"""Large exports prepared in the background, with progress the page can poll.

A job writes the workbook to ``instance/exports/<job id>.xlsx`` in a thread of the web
process and keeps its state in ``instance/exports/<job id>.json`` (rows done, rows
expected, state), so any worker can answer the htmx poll. Job ids are random and
unguessable; a job belongs to one project (the routes check it) and remembers who started it. Files
older than ``EXPORT_JOB_MAX_AGE_HOURS`` (default 6) are removed when a new job starts.

A running job carries a heartbeat (a time written every ``HEARTBEAT_SECONDS`` by a small
thread beside the one writing the workbook). When the worker process dies (a restart, a
deploy, the OOM killer) the heartbeat stops; a job whose heartbeat is older than
``EXPORT_JOB_STALE_SECONDS`` (default 60) is then marked failed when it is next read, is
logged, and the page stops polling and offers to start again.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app

from ..extensions import db
from ..i18n import N_
from ..models import Project
from .services import ExportContext, read_snapshot, row_estimate
from .workbook import write_workbook

log = logging.getLogger(__name__)
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
HEARTBEAT_SECONDS = 5
STALE_SECONDS = 60
STALE_MESSAGE = N_("The workbook was not finished: the server stopped while preparing it. Nothing was changed; "
                 "start the export again.")
# Job messages are kept in English (the job's file is read by whoever follows the job); the page
# translates them when shown (templates/exports/_job.html).
FAILED_MESSAGE = N_("The workbook could not be prepared. Nothing was changed; try again, or tell an admin.")
_threads: dict[str, threading.Thread] = {}


@dataclass
class Job:
    id: str
    project_id: int
    user_id: int | None
    state: str = "queued"  # queued, running, done, failed
    done: int = 0
    total: int = 0
    message: str = ""
    created: str = ""
    finished: str = ""
    heartbeat: float = 0.0  # time.time() of the worker's last sign of life
    language: str = "en"  # of the workbook (tracker/exports/language.py), carried to the worker

    @property
    def message_shown(self) -> str:
        """The job's message (kept in English, a catalogue msgid) in the person's language."""
        from flask_babel import gettext

        return gettext(self.message) if self.message else ""

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        if not self.total:
            return 0
        return max(0, min(99, self.done * 100 // self.total))

    @property
    def running(self) -> bool:
        return self.state in ("queued", "running")


def jobs_dir(app: Flask | None = None) -> Path:
    path = Path((app or current_app).instance_path) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _status_path(directory: Path, job_id: str) -> Path:
    return directory / f"{job_id}.json"


def file_path(job: Job, app: Flask | None = None) -> Path:
    return jobs_dir(app) / f"{job.id}.xlsx"


@contextmanager
def one_off_file(suffix: str = ".xlsx") -> Iterator[Path]:
    """A new file under instance/exports/ for one download (``send_and_remove`` sends it);
    removed at once if anything fails before it is sent."""
    handle = tempfile.NamedTemporaryFile(dir=jobs_dir(), prefix="direct-", suffix=suffix, delete=False)
    handle.close()
    path = Path(handle.name)
    try:
        yield path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def send_and_remove(path: Path, **send_file_options):
    """``send_file`` for a file written for one download: the file is opened, then unlinked at
    once (the open handle keeps its bytes until the download ends), so nothing is left in
    instance/exports/ whether the download finishes, is cancelled, or the worker dies.

    (``Response.call_on_close`` does not help here: ``send_file`` answers with
    ``direct_passthrough``, whose iterator the server closes without calling it.)
    """
    from flask import send_file

    handle = open(path, "rb")  # noqa: SIM115  (closed by the response)
    try:
        size = os.fstat(handle.fileno()).st_size
        path.unlink(missing_ok=True)
        response = send_file(handle, **send_file_options)
    except BaseException:
        handle.close()
        raise
    response.content_length = size
    return response


def save(directory: Path, job: Job) -> None:
    """Write the state atomically (a poll never reads half a file)."""
    target = _status_path(directory, job.id)
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(asdict(job)), encoding="utf-8")
    os.replace(temporary, target)


def load(job_id: str) -> Job | None:
    """The job with this id, or None (also for an id that is not well formed). A running job
    whose heartbeat stopped is marked failed (and saved so) here."""
    if not JOB_ID.match(job_id or ""):
        return None
    directory = jobs_dir()
    path = _status_path(directory, job_id)
    try:
        job = Job(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if job.running and _stale(job):
        log.error("export job %s: no heartbeat for %.0f s; its worker died, marked failed",
                  job.id, time.time() - job.heartbeat)
        job.state = "failed"
        job.message = STALE_MESSAGE
        job.finished = datetime.now(UTC).isoformat(timespec="seconds")
        save(directory, job)
        (directory / f"{job.id}.xlsx.part").unlink(missing_ok=True)
    return job


def _stale(job: Job) -> bool:
    limit = float(current_app.config.get("EXPORT_JOB_STALE_SECONDS", STALE_SECONDS))
    return time.time() - (job.heartbeat or 0) > limit


def cleanup(app: Flask | None = None) -> None:
    """Remove job files older than the configured age."""
    app = app or current_app
    max_age = float(app.config.get("EXPORT_JOB_MAX_AGE_HOURS", 6)) * 3600
    now = time.time()
    for path in jobs_dir(app).iterdir():
        try:
            if now - path.stat().st_mtime > max_age:
                path.unlink()
        except OSError:
            pass


def start(project: Project, user, language: str = "en") -> Job:
    """Start preparing the workbook of ``project`` in the background, in ``language`` (en, vi or
    both); returns the job."""
    app = current_app._get_current_object()
    cleanup(app)
    job = Job(id=secrets.token_urlsafe(18), project_id=project.id, user_id=getattr(user, "id", None),
              total=row_estimate(project.id), created=datetime.now(UTC).isoformat(timespec="seconds"),
              heartbeat=time.time(), language=language)
    directory = jobs_dir(app)
    save(directory, job)
    generated_by = f"{user.name} <{user.email}>" if getattr(user, "email", None) else "system"
    thread = threading.Thread(target=_run, args=(app, job, generated_by), name=f"export-{job.id[:8]}", daemon=True)
    _threads[job.id] = thread
    thread.start()
    return job


def _run(app: Flask, job: Job, generated_by: str) -> None:
    directory = jobs_dir(app)
    part = directory / f"{job.id}.xlsx.part"
    lock = threading.Lock()  # the heartbeat and the progress both save the job
    finished = threading.Event()

    def beat() -> None:
        interval = float(app.config.get("EXPORT_JOB_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))
        while not finished.wait(interval):
            with lock:
                if finished.is_set():
                    return
                job.heartbeat = time.time()
                try:
                    save(directory, job)
                except OSError:
                    return

    with app.app_context():
        heart = threading.Thread(target=beat, name=f"export-beat-{job.id[:8]}", daemon=True)
        try:
            with lock:
                job.state = "running"
                job.heartbeat = time.time()
                save(directory, job)
            heart.start()

            def progress(done: int) -> None:
                with lock:
                    job.done = done
                    job.heartbeat = time.time()
                    save(directory, job)

            with read_snapshot():
                project = db.session.get(Project, job.project_id)
                job.done = write_workbook(ExportContext(project, generated_by, language=job.language), part,
                                          progress=progress)
            os.replace(part, directory / f"{job.id}.xlsx")
            job.state = "done"
        except Exception:  # the page shows the failure; the log keeps the details
            log.exception("export job %s failed", job.id)
            job.state = "failed"
            job.message = FAILED_MESSAGE
            part.unlink(missing_ok=True)
        finally:
            with lock:
                finished.set()
                job.finished = datetime.now(UTC).isoformat(timespec="seconds")
                try:
                    save(directory, job)
                except OSError:  # the instance folder went away (a test's app closing)
                    log.warning("export job %s: its state could not be saved", job.id)
            db.session.remove()
            _threads.pop(job.id, None)


def wait(job_id: str, timeout: float = 120) -> Job | None:
    """Block until the job's thread ends (for tests and scripts); returns its final state."""
    thread = _threads.get(job_id)
    if thread is not None:
        thread.join(timeout)
    return load(job_id)
