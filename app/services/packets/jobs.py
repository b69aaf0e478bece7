"""Packets as background jobs: one case's packet, or every packet of a cycle as one ZIP.

Rendering never runs in a web request: the pages submit these jobs (`jobs.submit(actor,
"packet", {"case_id", "view", "actor_id"})`) and the job's own process runs them. Each task
loads the person who asked again and checks their access again, since it may run a while after
the request (a role or the cycle may have changed). `flask packets export` calls `write_zip`
directly, as SYSTEM.

A cycle's export ("cycle_packets") is one job per packet, so that no job outlives the time limit
and the workers share the renders: its first run lists the cases the person may have and submits
an "export_packet" job for each (which renders and stores that one packet, or finds it on record),
then waits (jobs.Waiting) while its page counts them ("212 of 300 packets"); once all ended it
runs again and only copies the stored packets into the ZIP, or fails naming the cases whose
packet failed (exporting again renders only those: the others are on record).

A cycle's ZIP is reproducible: entries in a fixed order (candidate name, then case id) with fixed
names ("<cycle>/<candidate>-<view>.pdf") and fixed timestamps, so the same packets give the same
bytes, whichever way they were made.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import policy
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.infra.text import inert_csv_cell
from app.models import (
    Job,
    JobStatus,
    Level,
    Packet,
    PacketView,
    PromotionCase,
    PromotionCycle,
    User,
)
from app.services import jobs, storage
from app.services.frameworks.keys import slugify
from app.services.packets import access, store
from app.services.promotions import loading

# Every entry of a ZIP gets this date (the earliest a ZIP can hold): equal packets, equal bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MANIFEST_COLUMNS = (
    "file",
    "candidate",
    "current_level",
    "proposed_level",
    "track",
    "view",
    "pages",
    "data_version",
    "sha256",
)


@dataclass(frozen=True)
class Written:
    """What `write_zip` put in the archive."""

    cycle_name: str
    names: list[str]  # the PDFs' names in the archive, in order
    made: int  # how many packets were rendered anew (the rest were on record already)


@dataclass(frozen=True)
class Stored:
    """A packet on record, as the ZIP needs it."""

    key: str  # in app.services.storage
    pages: int
    data_version: str
    content_hash: str


def _actor(actor_id: Any) -> User:
    """The person who submitted the job, still active; else the job fails with 'Not found.'."""
    actor = db.session.get(User, actor_id) if isinstance(actor_id, int) else None
    if actor is None or not actor.is_active:
        raise NotFoundError("Not found.")
    return actor


def _view(value: Any) -> PacketView:
    try:
        return PacketView(value)
    except ValueError:
        raise NotFoundError("Not found.") from None


def _about_packets(viewer: Any, all_params: list[dict]) -> list[jobs.About | None]:
    """Names each packet ("Alice Pm's committee packet, H1 2027") and leads back to its case,
    while the viewer may have it: a query per view asked for."""
    views = [str(params.get("view")) for params in all_params]
    wanted = list(zip(jobs.ids_of(all_params, "case_id"), views, strict=True))
    found: dict[tuple[int, str], jobs.About] = {}
    for view in PacketView:
        ids = {case for case, asked in wanted if asked == view.value and case is not None}
        if not ids:
            continue
        rows = db.session.execute(
            select(PromotionCase.id, User.name, PromotionCycle.name)
            .join(User, PromotionCase.candidate_id == User.id)
            .join(PromotionCycle, PromotionCycle.id == PromotionCase.cycle_id)
            .where(PromotionCase.id.in_(ids), policy.where(f"packet.{view.value}", viewer))
        )
        for case_id, name, cycle in rows:
            found[(case_id, view.value)] = jobs.About(
                f"{name}\u2019s {view.value} packet, {cycle}", "cycles.case", {"case_id": case_id}
            )
    return [found.get(key) for key in wanted]


def _about_exports(viewer: Any, all_params: list[dict]) -> list[jobs.About | None]:
    """Names each export ("H1 2027, committee packets") and leads back to its cycle, while the
    viewer runs cycles: one query."""
    if not policy.can(viewer, "cycles.manage", None):
        return [None] * len(all_params)
    ids = jobs.ids_of(all_params, "cycle_id")
    cycles = select(PromotionCycle.id, PromotionCycle.name)
    names = dict(db.session.execute(cycles.where(PromotionCycle.id.in_(set(ids) - {None}))).all())
    views = {view.value for view in PacketView}
    return [
        jobs.About(f"{names[cycle_id]}, {view} packets", "cycles.show", {"cycle_id": cycle_id})
        if cycle_id in names and (view := str(params.get("view"))) in views
        else None
        for cycle_id, params in zip(ids, all_params, strict=True)
    ]


@jobs.register("packet", label="Promotion packet", about=_about_packets)
def render_packet(params: dict, progress: jobs.Progress) -> jobs.Result:
    """One case's packet in one view: the stored PDF when its data has not changed, else a new
    render on record; the job's file is a copy of it."""
    packet = _generate(params, progress)
    progress(90, f"{packet.pages} pages rendered")
    path, relative = jobs.output_file(".pdf")
    with storage.open(packet.file_path) as source, path.open("wb") as copy:
        shutil.copyfileobj(source, copy)
    return jobs.Result(relative, store.download_name(packet))


@jobs.register("export_packet", label="A packet of a cycle export", listed=False)
def export_packet(params: dict, progress: jobs.Progress) -> jobs.Result:
    """One part of a cycle export: the case's packet on record (rendered when its data changed);
    the job's file names that packet, for the export's last run."""
    packet = _generate(params, progress)
    path, relative = jobs.output_file(".json")
    path.write_text(json.dumps({"case_id": packet.case_id, "packet_id": packet.id}))
    return jobs.Result(relative, f"packet-{packet.id}.json")


def _generate(params: dict, progress: jobs.Progress) -> Packet:
    """The packet of params' case and view on record, for params' actor if they may have it."""
    actor = _actor(params.get("actor_id"))
    view = _view(params.get("view"))
    case_id = params.get("case_id")
    progress(5, "Checking access")
    access.authorize(actor, case_id, view)
    progress(15, "Rendering the packet")
    packet = store.generate(actor, case_id, view)
    # Commits the packet on record with the job's progress, unless the job was cancelled
    # during the render: then nothing is kept (app.services.jobs.runner.Stopped).
    progress(85, "Packet rendered")
    return packet


@jobs.register("cycle_packets", label="Promotion packets of a cycle (ZIP)", about=_about_exports)
def export_cycle(params: dict, progress: jobs.Progress) -> jobs.Result | jobs.Waiting:
    """Every case of the cycle (but withdrawn ones) that the person may have in this view, as
    one ZIP: first a job per packet, then (run again once they ended) the ZIP of what they
    stored."""
    actor = _actor(params.get("actor_id"))
    view = _view(params.get("view"))
    cycle_id = params.get("cycle_id")
    if not isinstance(cycle_id, int):
        raise NotFoundError("There is no such promotion cycle.")
    parts = params.get(jobs.WAITED_FOR)
    if parts is None:
        return _start_parts(actor, cycle_id, view, progress)
    path, relative = jobs.output_file(".zip")
    cycle_name = _zip_parts(actor, cycle_id, view, parts, path, progress)
    return jobs.Result(relative, zip_name(cycle_name, view))


def _start_parts(
    actor: User, cycle_id: int, view: PacketView, progress: jobs.Progress
) -> jobs.Waiting:
    cycle = loading.cycle(cycle_id)
    cases = _exported(actor, cycle, view)
    progress(3, f"Queueing {len(cases)} packets")  # the last commit before the parts exist
    params = {"view": view.value, "actor_id": actor.id}
    parts = [jobs.submit(actor, "export_packet", {**params, "case_id": c.id}) for c in cases]
    return jobs.Waiting([part.id for part in parts], unit="packets")


def _zip_parts(
    actor: User,
    cycle_id: int,
    view: PacketView,
    part_ids: list,
    target: Path,
    progress: jobs.Progress,
) -> str:
    """Write the ZIP of the packets the export's parts stored (no render here): the cycle's
    name. Fails naming the cases whose part failed; access is checked again for every case."""
    cycle = loading.cycle(cycle_id)
    cycle_name = cycle.name
    parts = jobs.parts([i for i in part_ids if isinstance(i, int)])
    made = {}
    for part in parts:
        if part.status is JobStatus.DONE:
            made[part.params["case_id"]] = json.loads(storage.read(part.result_path))
    failed = [part for part in parts if part.params.get("case_id") not in made]
    if failed or not parts:
        raise ValidationError(_failures(failed, len(part_ids)))
    progress(92, "Writing the ZIP file")
    cases = _cases(select(PromotionCase).where(PromotionCase.id.in_(made)))
    for case in cases:
        access.authorize(actor, case.id, view)
    packets = {
        packet.id: packet
        for packet in db.session.scalars(
            select(Packet).where(Packet.id.in_([m["packet_id"] for m in made.values()]))
        )
    }
    stored = [_stored(packets[made[case.id]["packet_id"]]) for case in cases]
    names = entry_names(cycle, cases, view)
    _write_archive(target, view, _people(cases), stored, names)
    progress(98, f"{len(cases)} packets in the ZIP file")
    return cycle_name


FAILURES_NAMED = 10


def _failures(failed: list[Job], total: int) -> str:
    """Which cases' packets failed and why, and how to try again."""
    if not failed:
        return "The export's packets are gone, so no ZIP file was written. Export the cycle again."
    cases = {
        case.id: case
        for case in _cases(
            select(PromotionCase).where(PromotionCase.id.in_([p.params["case_id"] for p in failed]))
        )
    }
    named = []
    for part in failed[:FAILURES_NAMED]:
        case = cases.get(part.params["case_id"])
        who = case.candidate.name if case else "A case since deleted"
        why = (part.error or part.message).rstrip(".")
        named.append(f"{who} (case {part.params['case_id']}): {why}")
    more = f"; and {len(failed) - FAILURES_NAMED} more" if len(failed) > FAILURES_NAMED else ""
    return (
        f"{len(failed)} of {total} packets could not be made, so no ZIP file was written. "
        f"{'; '.join(named)}{more}. Export the cycle again to retry: the packets made this time "
        "are on record and are not rendered again."
    )


def zip_name(cycle_name: str, view: PacketView) -> str:
    return f"promotion-packets-{slugify(cycle_name, 'cycle')}-{view.value}.zip"


def cases_of(actor: Any, cycle: PromotionCycle, view: PacketView) -> list[PromotionCase]:
    """The cycle's cases, but withdrawn ones, whose packet the actor may have in this view, by
    candidate name."""
    cases = _cases(
        select(PromotionCase).where(
            PromotionCase.cycle_id == cycle.id, PromotionCase.withdrawn_at.is_(None)
        )
    )
    return [case for case in cases if access.may_get(actor, case, view)]


def _cases(query) -> list[PromotionCase]:
    """The cases of `query` in the ZIP's order (candidate name, then case id), with what the
    entry names and the manifest need."""
    return list(
        db.session.scalars(
            query.join(PromotionCase.candidate)
            .options(
                joinedload(PromotionCase.candidate),
                joinedload(PromotionCase.proposed_level).joinedload(Level.track),
                joinedload(PromotionCase.current_level),
            )
            .order_by(User.name, PromotionCase.id)
        ).unique()
    )


def _exported(actor: Any, cycle: PromotionCycle, view: PacketView) -> list[PromotionCase]:
    """`cases_of`, refused when there are none."""
    cases = cases_of(actor, cycle, view)
    if not cases:
        raise ValidationError(
            f"{cycle.name} has no case whose {view.value} packet you may have (withdrawn "
            "cases are left out), so there is nothing to export."
        )
    return cases


def entry_names(cycle: PromotionCycle, cases: list[PromotionCase], view: PacketView) -> list[str]:
    """'<cycle>/<candidate>-<view>.pdf' per case; the case id joins a name two people share."""
    folder = slugify(cycle.name, "cycle")
    slugs = [slugify(case.candidate.name, "candidate") for case in cases]
    return [
        f"{folder}/{slug}{f'-case-{case.id}' if slugs.count(slug) > 1 else ''}-{view.value}.pdf"
        for case, slug in zip(cases, slugs, strict=True)
    ]


def write_zip(
    actor: Any,
    cycle_id: int,
    view: PacketView | str,
    target: Path,
    progress: Callable[[int, str], None] | None = None,
) -> Written:
    """Generate (or reuse) the packet of every case `cases_of` gives, and write them with a
    manifest to the ZIP file `target` (written aside, then renamed into place). Commits after
    each packet, so that what was rendered stays on record and no transaction is held open."""
    view = PacketView(view)
    report = progress or (lambda _percent, _message: None)
    cycle = loading.cycle(cycle_id)
    cycle_name = cycle.name
    cases = _exported(actor, cycle, view)
    names = entry_names(cycle, cases, view)
    # Read before the loop: each commit expires what the session loaded (outside a job's process).
    people = _people(cases)
    total = len(cases)
    stored: list[Stored] = []
    made = 0
    for n, (case_id, name, *_levels) in enumerate(people, start=1):
        report(5 + 85 * (n - 1) // total, f"Packet {n} of {total}: {name}")
        before = _count(case_id, view)
        packet = store.generate(actor, case_id, view)
        made += _count(case_id, view) - before
        stored.append(_stored(packet))
        db.session.commit()
    report(92, "Writing the ZIP file")
    _write_archive(target, view, people, stored, names)
    report(98, f"{total} packets in the ZIP file")
    return Written(cycle_name=cycle_name, names=names, made=made)


def _people(cases: list[PromotionCase]) -> list[tuple]:
    """Per case: its id, then the manifest's candidate, current and proposed level, track."""
    return [
        (
            case.id,
            case.candidate.name,
            case.current_level.code,
            case.proposed_level.code,
            case.proposed_level.track.name,
        )
        for case in cases
    ]


def _stored(packet: Packet) -> Stored:
    return Stored(
        key=packet.file_path,
        pages=packet.pages,
        data_version=packet.data_version,
        content_hash=packet.content_hash,
    )


def _write_archive(
    target: Path, view: PacketView, people: list[tuple], stored: list[Stored], names: list[str]
) -> None:
    """The packets and their manifest as the ZIP file `target` (written aside, then renamed)."""
    manifest = _manifest(view, people, stored, names)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file, zipfile.ZipFile(file, "w") as archive:
            for name, packet in zip(names, stored, strict=True):
                with storage.open(packet.key) as pdf:
                    _add(archive, name, pdf, zipfile.ZIP_STORED)
            folder = names[0].split("/", 1)[0]
            _add(
                archive,
                f"{folder}/manifest.csv",
                io.BytesIO(manifest.encode()),
                zipfile.ZIP_DEFLATED,
            )
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _count(case_id: int, view: PacketView) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Packet)
        .where(Packet.case_id == case_id, Packet.view == view)
    )


def _add(archive: zipfile.ZipFile, name: str, source: BinaryIO, compression: int) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = compression  # PDFs are compressed already: stored as they are
    info.external_attr = 0o644 << 16
    with archive.open(info, "w") as entry:
        shutil.copyfileobj(source, entry)


def _manifest(view: PacketView, people: list[tuple], stored: list[Stored], names: list[str]) -> str:
    """One line per packet: who, which levels, and which data and bytes it holds."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    for name, (_id, *texts), packet in zip(names, people, stored, strict=True):
        file_name = name.split("/", 1)[1]
        facts = (view.value, packet.pages, packet.data_version, packet.content_hash)
        writer.writerow([inert_csv_cell(cell) for cell in (file_name, *texts, *facts)])
    return out.getvalue()
