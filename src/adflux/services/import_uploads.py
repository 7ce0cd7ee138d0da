"""Imports of any size run as background tasks, never inside a web request.

The API streams the uploaded file to ADFLUX_IMPORT_DIR (a folder the web processes and the
workers share, like the model store), records a TaskRun and queues the import; the caller gets
202 with the task id at once, follows its progress at /api/v1/tasks/<id>, and finds the same
per-row report (created, updated, failed, errors) as the run's result. The file is deleted when
the task is done with it, whatever the outcome.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import IO, Any

from adflux.catalogue import gettext as _
from adflux.constants import TASK_IMPORT_FILE
from adflux.models import TaskRun
from adflux.services import imports, task_runs
from adflux.services.errors import NotFound
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

KINDS = ("jobs", "candidates")
CHUNK = 1024 * 1024


def upload_folder() -> Path:
    """The imports folder, private to the service account (0700)."""
    folder = Path(current_settings().import_path)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder


def start_import(*, kind: str, stream: IO[bytes], filename: str | None, fmt: str | None) -> TaskRun:
    """Stream the upload to storage and queue its import; the TaskRun says how it goes."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    name = f"{uuid.uuid4().hex}.upload"
    path = upload_folder() / name
    size = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(CHUNK):
            out.write(chunk)
            size += len(chunk)
    params = {"kind": kind, "file": name, "filename": filename, "format": fmt, "size_bytes": size}
    run = task_runs.create_task_run(kind=f"import.{kind}", params=params)
    logger.info("Queued the import of %s (%d bytes) as task %s", kind, size, run.id)
    return task_runs.enqueue(TASK_IMPORT_FILE, run, run.id)


def run_import(*, run_id: str, progress: imports.Progress) -> dict[str, Any]:
    """The task's work: import the stored file of run `run_id`, then delete it."""
    run = task_runs.get_task_run(task_id=run_id)
    params = dict(run.params or {})
    path = upload_folder() / Path(str(params.get("file", ""))).name
    if not path.is_file():
        raise NotFound(_("The uploaded file is gone (already imported, or the import folder is not shared)"))
    try:
        importer = imports.IMPORTERS[str(params["kind"])]
        report = importer(
            content=path.read_bytes(),
            fmt=params.get("format"),
            filename=params.get("filename"),
            progress=progress,
        )
    finally:
        path.unlink(missing_ok=True)
    return report.as_dict()
