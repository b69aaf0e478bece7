"""Packets as jobs, run end to end through jobs.run_pending (each in its own process): one case's
packet, a cycle's ZIP, access checked again inside the job, and `flask packets export`."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.core.errors import NotFoundError
from app.extensions import db
from app.models import AuditEvent, Job, JobStatus, Packet, PromotionCase, User
from app.models.base import utcnow
from app.services import jobs, packets, storage
from app.services.packets import jobs as packet_jobs
from tests import evidence_helpers, promotion_helpers
from tests.factories import Person


def run(app, person: Person, kind: str, **params) -> Job:
    """Submit a job as `person`, run it in its process, and return the finished row (detached)."""
    with app.app_context():
        actor = db.session.get(User, person.id)
        job_id = jobs.submit(actor, kind, {**params, "actor_id": person.id}).id
        db.session.commit()
        jobs.run_pending(app)
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        db.session.rollback()
    return job


def result(app, job: Job) -> bytes:
    assert job.status is JobStatus.DONE, (job.message, job.error)
    return (Path(app.config["RUNGS_DATA_DIR"]) / job.result_path).read_bytes()


def packet_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Packet))


def test_the_packet_job_stores_the_pdf_once_per_data_version(app, org):
    data = promotion_helpers.cycle_with_cases(app, org, candidates=("pm_a1",))
    case_id = data.case_ids[org.pm_a1.id]

    first = run(app, org.head, "packet", case_id=case_id, view="committee")
    pdf = result(app, first)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Promotion packet: Alice Pm, H1 2027"
    assert reader.metadata.subject.endswith("committee view") and len(reader.pages) >= 3
    with app.app_context():
        packet = db.session.scalars(select(Packet)).one()
        assert pdf == storage.read(packet.file_path)  # a copy of the one on record
        # Named as the cycle's ZIP names it, with the data version: alice-pm-committee.pdf there.
        name = f"alice-pm-committee-{packet.data_version[:8]}.pdf"
        assert first.result_name == packets.download_name(packet) == name
        assert first.result_path != packet.file_path
        assert packet.generated_by_id == org.head.id

    again = run(app, org.head, "packet", case_id=case_id, view="committee")
    assert result(app, again) == pdf and packet_count(app) == 1

    evidence_helpers.record(app, org.pm_a1, title="A launch after the first packet")
    newer = run(app, org.head, "packet", case_id=case_id, view="committee")
    assert result(app, newer) != pdf and packet_count(app) == 2
    assert "A launch after the first packet" in "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(result(app, newer))).pages
    )
    with app.app_context():
        generated = db.session.scalar(
            select(func.count()).where(AuditEvent.action == "packet.generated")
        )
        assert generated == 2


def test_the_packet_job_checks_access_again(app, org, make):
    data = promotion_helpers.cycle_with_cases(app, org, candidates=("pm_a1",))
    case_id = data.case_ids[org.pm_a1.id]
    job = run(app, org.manager_b, "packet", case_id=case_id, view="committee")
    assert (job.status, job.message, job.error) == (JobStatus.FAILED, "Failed", "Not found.")
    # The same refusal, without a process each: the candidate before publishing, a view that
    # does not exist, someone deactivated since they asked, someone unknown.
    gone = make.person(name="Gone Manager", active=False)
    with app.app_context():
        for actor_id, view in (
            (org.pm_a1.id, "candidate"),
            (org.head.id, "everything"),
            (gone.id, "committee"),
            (None, "committee"),
        ):
            params = {"case_id": case_id, "view": view, "actor_id": actor_id}
            with pytest.raises(NotFoundError):
                packet_jobs.render_packet(params, lambda *_: None)
    assert packet_count(app) == 0


def test_a_cycle_zip_holds_every_open_case_in_a_fixed_order_and_is_reproducible(app, org):
    data = promotion_helpers.cycle_with_cases(app, org, candidates=("pm_a1", "pm_b1", "pm_d1"))
    with app.app_context():  # a withdrawn case stays out of the export
        db.session.get(PromotionCase, data.case_ids[org.pm_b1.id]).withdrawn_at = utcnow()
        db.session.commit()

    job = run(app, org.head, "cycle_packets", cycle_id=data.cycle_id, view="committee")
    archive_bytes = result(app, job)
    assert job.result_name == "promotion-packets-h1-2027-committee.zip"
    archive = zipfile.ZipFile(io.BytesIO(archive_bytes))
    assert archive.namelist() == [
        "h1-2027/alice-pm-committee.pdf",
        "h1-2027/dev-pm-committee.pdf",
        "h1-2027/manifest.csv",
    ]
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    alice = PdfReader(io.BytesIO(archive.read("h1-2027/alice-pm-committee.pdf")))
    assert alice.metadata.title == "Promotion packet: Alice Pm, H1 2027"
    manifest = list(csv.DictReader(io.StringIO(archive.read("h1-2027/manifest.csv").decode())))
    assert [(row["candidate"], row["proposed_level"], row["view"]) for row in manifest] == [
        ("Alice Pm", "L2", "committee"),
        ("Dev Pm", "L2", "committee"),
    ]
    assert packet_count(app) == 2

    # Unchanged data: the same packets, the same bytes, no new version.
    again = run(app, org.head, "cycle_packets", cycle_id=data.cycle_id, view="committee")
    assert result(app, again) == archive_bytes and packet_count(app) == 2

    # Alice's data changed: a new version of hers only.
    evidence_helpers.record(app, org.pm_a1, title="Shipped after the export")
    changed = run(app, org.head, "cycle_packets", cycle_id=data.cycle_id, view="committee")
    newer = zipfile.ZipFile(io.BytesIO(result(app, changed)))
    assert newer.read("h1-2027/dev-pm-committee.pdf") == archive.read(
        "h1-2027/dev-pm-committee.pdf"
    )
    assert newer.read("h1-2027/alice-pm-committee.pdf") != archive.read(
        "h1-2027/alice-pm-committee.pdf"
    )
    assert packet_count(app) == 3


def test_a_manager_exports_only_the_cases_of_their_reports(app, org, tmp_path):
    data = promotion_helpers.cycle_with_cases(app, org, candidates=("pm_a1", "pm_b1"))
    with app.app_context():
        manager = db.session.get(User, org.manager_b.id)
        written = packet_jobs.write_zip(manager, data.cycle_id, "committee", tmp_path / "b.zip")
    assert written.names == ["h1-2027/bea-pm-committee.pdf"] and written.made == 1
    assert zipfile.ZipFile(tmp_path / "b.zip").namelist() == [
        "h1-2027/bea-pm-committee.pdf",
        "h1-2027/manifest.csv",
    ]


def test_a_cycle_without_cases_is_refused_clearly(app, org):
    data = promotion_helpers.cycle_with_cases(app, org, candidates=())
    job = run(app, org.head, "cycle_packets", cycle_id=data.cycle_id, view="candidate")
    assert job.status is JobStatus.FAILED
    assert job.error == (
        "H1 2027 has no case whose candidate packet you may have (withdrawn cases are left "
        "out), so there is nothing to export."
    )
    with app.app_context(), pytest.raises(NotFoundError, match="no such promotion cycle"):
        params = {"cycle_id": data.cycle_id + 1, "view": "committee", "actor_id": org.head.id}
        packet_jobs.export_cycle(params, lambda *_: None)


# --- flask packets export ---------------------------------------------------------------------


@pytest.fixture
def cycle_id(app, org):
    return promotion_helpers.cycle_with_cases(app, org, candidates=("pm_a1", "pm_b1")).cycle_id


def test_export_writes_the_cycle_zip(app, cycle_id, tmp_path):
    target = tmp_path / "packets.zip"
    outcome = app.test_cli_runner().invoke(
        args=["packets", "export", str(cycle_id), "-o", str(target), "--view", "candidate"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert "Wrote 2 candidate packets of H1 2027 (2 rendered now)" in outcome.output
    assert zipfile.ZipFile(target).namelist() == [
        "h1-2027/alice-pm-candidate.pdf",
        "h1-2027/bea-pm-candidate.pdf",
        "h1-2027/manifest.csv",
    ]
    with app.app_context():  # on record, generated by no person (the operator)
        assert {p.generated_by_id for p in db.session.scalars(select(Packet))} == {None}
    outcome = app.test_cli_runner().invoke(
        args=["packets", "export", str(cycle_id), "-o", str(target), "--view", "candidate"]
    )
    assert "(0 rendered now)" in outcome.output


def test_export_refuses_an_unknown_cycle_or_an_unwritable_path(app, cycle_id, tmp_path):
    runner = app.test_cli_runner()
    outcome = runner.invoke(args=["packets", "export", "999", "-o", str(tmp_path / "x.zip")])
    assert outcome.exit_code == 1
    assert "Cycle 999: There is no such promotion cycle." in outcome.output
    for target in (tmp_path / "missing" / "x.zip", tmp_path):
        outcome = runner.invoke(args=["packets", "export", str(cycle_id), "-o", str(target)])
        assert outcome.exit_code == 1 and "Cannot write" in outcome.output, outcome.output
    assert packet_count(app) == 0  # refused before rendering anything
