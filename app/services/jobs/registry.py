"""The kinds of job there are: a task function per kind, found again in the process that runs it."""

from __future__ import annotations

import importlib
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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


# The parameter a job that waited is run again with: the ids of the jobs it waited for.
WAITED_FOR = "waited_for"
WAITING_UNIT = "waiting_unit"


@dataclass(frozen=True)
class Waiting:
    """What a task returns instead of a Result to go on once other jobs are finished: the jobs
    it submitted (in its own session, after its last progress call, so that they are handed to
    workers in the same commit that marks it waiting). Meanwhile its progress counts them
    ("212 of 300 packets"); once all are done or failed it is queued again and its task runs
    again with the same params plus WAITED_FOR, the ids, to finish the work (or fail, saying
    which failed)."""

    jobs: list[int]
    unit: str  # what the jobs make, in the plural: "packets"

    def __post_init__(self):
        if not self.jobs:
            raise ValueError("a task can only wait for at least one job")


@dataclass(frozen=True)
class About:
    """What one job is for, as its page names it ("Alice Pm's committee packet, H1 2027") and
    the page it came from, as an endpoint and its values (none: no page to go back to)."""

    text: str
    endpoint: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


# about(viewer, [params, ...]): what each job is for, or None where the viewer may no longer
# see it; for the jobs of one kind at once (a page of the list), in a fixed number of queries.
Describe = Callable[[Any, list[dict[str, Any]]], list[About | None]]


@dataclass(frozen=True)
class Task:
    kind: str
    label: str
    module: str  # imported by the process that runs the task, which registers it again
    run: Callable[[dict[str, Any], Progress], Result | Waiting]
    listed: bool = True  # on the person's list of jobs (a part of another job is not)
    about: Describe | None = None


TASKS: dict[str, Task] = {}


def register(
    kind: str, *, label: str, listed: bool = True, about: Describe | None = None
) -> Callable:
    """Make `task(params, progress) -> Result` the task of jobs of `kind`.

    The task runs in a separate process with its own app context and database session; it reads
    what it needs by the ids in `params` (JSON), calls `progress(percent, message)` now and then
    (each call commits the task's session, without expiring what it loaded) and returns a Result.
    Define tasks at module level: the process that runs one imports `module` to find it again.
    A task may return Waiting instead, to finish after jobs it submitted; those jobs' kind is
    registered with `listed=False` when they are parts the person need not see on their list.
    `about(viewer, params_list)` names what each job is for, on its page and the list, checking
    that the viewer may still see it: one answer per params, in their order, None for a job
    whose object is gone or hidden from the viewer (it answers, never raises, so that one such
    job leaves the rest of the list named).
    """
    if len(kind) > 40:
        raise ValueError(f"job kind {kind!r} is longer than 40 characters")

    def add(function: Callable[[dict[str, Any], Progress], Result]):
        known = TASKS.get(kind)
        if known is not None and known.module != function.__module__:
            raise ValueError(f"job kind {kind!r} is registered twice ({known.module})")
        TASKS[kind] = Task(
            kind=kind,
            label=label,
            module=function.__module__,
            run=function,
            listed=listed,
            about=about,
        )
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


def about(viewer: Any, kind: str, params: dict[str, Any]) -> About | None:
    """What a job of `kind` with `params` is for, if its kind says and the viewer may see it."""
    return _described(viewer, kind, [params])[0]


def abouts(viewer: Any, jobs: Iterable[Any]) -> dict[int, About]:
    """What each of these jobs is for (by id), where its kind says and the viewer may see it:
    one call per kind, whatever the number of jobs."""
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for job in jobs:
        by_kind[job.kind].append(job)
    found: dict[int, About] = {}
    for kind, of_kind in by_kind.items():
        described = _described(viewer, kind, [job.params or {} for job in of_kind])
        pairs = zip(of_kind, described, strict=True)
        found.update({job.id: named for job, named in pairs if named})
    return found


def ids_of(all_params: list[dict[str, Any]], key: str) -> list[int | None]:
    """Each params' `key` where it is an id (a whole number; params are JSON), else None: for
    the `about` of a kind, which looks them all up at once."""
    return [value if isinstance(value := params.get(key), int) else None for params in all_params]


def _described(viewer: Any, kind: str, params: list[dict[str, Any]]) -> list[About | None]:
    known = TASKS.get(kind)
    if known is None or known.about is None:
        return [None] * len(params)
    return known.about(viewer, params)


def unlisted() -> list[str]:
    """The kinds of job kept off the person's list (parts of other jobs)."""
    return sorted(kind for kind, task in TASKS.items() if not task.listed)


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
