"""The kinds of job there are: a task function per kind, found again in the process that runs it."""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class Result:
    """What a task made: a file (path relative to RUNGS_DATA_DIR, where `output_file` said) and
    the name to download it as. The runner stores the file (app/services/storage.py) under that
    path as its key: with the database backend it is moved into the database."""

    path: str
    name: str


@dataclass(frozen=True)
class Task:
    kind: str
    label: str
    module: str  # imported by the process that runs the task, which registers it again
    run: Callable[[dict[str, Any], Progress], Result]


TASKS: dict[str, Task] = {}


def register(kind: str, *, label: str) -> Callable:
    """Make `task(params, progress) -> Result` the task of jobs of `kind`.

    The task runs in a separate process with its own app context and database session; it reads
    what it needs by the ids in `params` (JSON), calls `progress(percent, message)` now and then
    (each call commits the task's session, without expiring what it loaded) and returns a Result.
    Define tasks at module level: the process that runs one imports `module` to find it again.
    """
    if len(kind) > 40:
        raise ValueError(f"job kind {kind!r} is longer than 40 characters")

    def add(function: Callable[[dict[str, Any], Progress], Result]):
        known = TASKS.get(kind)
        if known is not None and known.module != function.__module__:
            raise ValueError(f"job kind {kind!r} is registered twice ({known.module})")
        TASKS[kind] = Task(kind=kind, label=label, module=function.__module__, run=function)
        return function

    return add


def task(kind: str, module: str | None = None) -> Task:
    """The task of `kind`, importing `module` first when this process has not registered it."""
    if kind not in TASKS and module:
        importlib.import_module(module)
    try:
        return TASKS[kind]
    except KeyError:
        raise LookupError(f"no job task is registered for kind {kind!r}") from None


def label(kind: str) -> str:
    known = TASKS.get(kind)
    return known.label if known else kind.replace("_", " ").capitalize()


def data_dir() -> Path:
    return Path(current_app.config["RUNGS_DATA_DIR"]).resolve()


def output_file(suffix: str) -> tuple[Path, str]:
    """A new, unguessable file for a task's output: (absolute path, path relative to the data
    directory, for Result.path). The folder is created; the file is not."""
    relative = f"jobs/{secrets.token_hex(16)}{suffix}"
    path = data_dir() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, relative


def result_file(relative: str) -> Path:
    """The absolute path of a result, refused unless it stays inside the data directory."""
    root = data_dir()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or path == root:
        raise ValueError(f"a job result must be a file inside RUNGS_DATA_DIR, not {relative!r}")
    return path
