"""A cycle's export as one job per packet, then one ZIP job (issue 17): the parts, the progress the
person sees, reuse of packets on record, a failed part named, and the ZIP byte for byte what
`write_zip` (the single job of before, still `flask packets export`) writes for the same cycle.

Most steps run in this process (store.claim + the runner's own _run_task) so that a test can stop
between them and check that no step renders more than one packet; one test runs the parts in
processes through the built-in runner with two at once. The RQ version is in tests/test_jobs_rq.py.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import Job, JobStatus, Packet, PromotionCase, User
from app.models.base import utcnow
from app.services import jobs
from app.services.jobs import runner, store
from app.services.packets import jobs as packet_jobs
from app.services.packets import store as packet_store
from tests import promotion_helpers
from tests.factories import Person

CANDIDATES = ("pm_a1", "pm_b1", "pm_d1")


def submit_export(app, person: Person, cycle_id: int, view: str = "committee") -> int:
    with app.app_context():
        actor = db.session.get(User, person.id)
        params = {"cycle_id": cycle_id, "view": view, "actor_id": person.id}
        job_id = jobs.submit(actor, "cycle_packets", params).id
        db.session.commit()
    return job_id


def run_here(app, job_id: int) -> None:
    """Claim one queued job and run its task in this process, as a job's process would."""
    with app.app_context():
        kind = store.claim(job_id)
        assert kind is not None, f"job {job_id} was not queued"
        runner._run_task(app, job_id, kind, None, 1024)


def row(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def packet_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Packet))


def settle(app) -> list[tuple[int, str]]:
    with app.app_context():
        return store.settle_waiting()


def forbid_rendering(monkeypatch) -> None:
    def refuse(*_args, **_kwargs):
        raise AssertionError("this step must not render or generate a packet")

    monkeypatch.setattr(packet_store, "generate", refuse)
    monkeypatch.setattr(packet_store, "render_html", refuse)


def zip_bytes(app, job: Job) -> bytes:
    assert job.status is JobStatus.DONE, (job.message, job.error)
    return (Path(app.config["RUNGS_DATA_DIR"]) / job.result_path).read_bytes()


def old_single_job_zip(app, person: Person, cycle_id: int, target: Path) -> bytes:
    """What the single export job wrote before (write_zip, now `flask packets export` only)."""
    with app.app_context():
        packet_jobs.write_zip(db.session.get(User, person.id), cycle_id, "committee", target)
    return target.read_bytes()


def test_an_export_is_a_job_per_packet_then_a_zip_equal_to_the_single_job_of_before(
    app, org, monkeypatch, tmp_path
):
    data = promotion_helpers.cycle_with_cases(app, org, candidates=CANDIDATES)
    export_id = submit_export(app, org.head, data.cycle_id)

    # First run: lists the cases and queues a part per case, rendering nothing itself.
    with monkeypatch.context() as patch:
        forbid_rendering(patch)
        run_here(app, export_id)
    export = row(app, export_id)
    parts = export.params[jobs.WAITED_FOR]
    assert (export.status, export.status.label) == (JobStatus.WAITING, "Running")
    assert (export.progress, export.message) == (5, "0 of 3 packets")
    assert len(parts) == 3 and packet_count(app) == 0
    assert {row(app, p).status for p in parts} == {JobStatus.QUEUED}

    # Each part stores exactly one packet; the export's page counts them.
    for n, part_id in enumerate(parts, start=1):
        run_here(app, part_id)
        assert row(app, part_id).status is JobStatus.DONE
        assert packet_count(app) == n
        ready = settle(app)
        export = row(app, export_id)
        if n < 3:
            assert ready == [] and export.status is JobStatus.WAITING
            assert export.message == f"{n} of 3 packets"
    assert ready == [(export_id, "cycle_packets")] and export.status is JobStatus.QUEUED
    assert (export.progress, export.message) == (90, "3 of 3 packets")

    # The last run only copies the stored packets into the ZIP. Taken again, the export keeps
    # saying how far its packets got (its page went back to "Starting" at 90%).
    with app.app_context():
        assert store.claim(export_id) == "cycle_packets"
    assert (row(app, export_id).progress, row(app, export_id).message) == (90, "3 of 3 packets")
    with monkeypatch.context() as patch, app.app_context():
        forbid_rendering(patch)
        runner._run_task(app, export_id, "cycle_packets", None, 1024)
    export = row(app, export_id)
    archive = zip_bytes(app, export)
    assert export.result_name == "promotion-packets-h1-2027-committee.zip"
    assert zipfile.ZipFile(io.BytesIO(archive)).namelist() == [
        "h1-2027/alice-pm-committee.pdf",
        "h1-2027/bea-pm-committee.pdf",
        "h1-2027/dev-pm-committee.pdf",
        "h1-2027/manifest.csv",
    ]
    assert archive == old_single_job_zip(app, org.head, data.cycle_id, tmp_path / "old.zip")
    assert packet_count(app) == 3  # write_zip found every packet on record

    # Only the export is on the person's list of jobs; its parts are not.
    with app.app_context():
        listed = jobs.recent(db.session.get(User, org.head.id), 1).items
        assert [job.id for job in listed] == [export_id]


def test_a_failed_part_is_named_and_exporting_again_renders_only_that_packet(app, org, tmp_path):
    data = promotion_helpers.cycle_with_cases(app, org, candidates=CANDIDATES)
    export_id = submit_export(app, org.head, data.cycle_id)
    run_here(app, export_id)
    parts = row(app, export_id).params[jobs.WAITED_FOR]
    with app.app_context():  # Bea's part dies (a sweep's verdict, a crash, the time limit)
        bea = next(
            p.id for p in jobs.parts(parts) if p.params["case_id"] == data.case_ids[org.pm_b1.id]
        )
        db.session.rollback()  # the sweep writes in a transaction of its own
        store.fail_if_unfinished(bea, "The job was stopped after 120 seconds.")
    for part_id in parts:
        if part_id != bea:
            run_here(app, part_id)
    assert settle(app) == [(export_id, "cycle_packets")]
    assert row(app, export_id).message == "3 of 3 packets (1 failed)"
    run_here(app, export_id)

    export = row(app, export_id)
    assert (export.status, export.result_path) == (JobStatus.FAILED, None)
    assert export.error == (
        "1 of 3 packets could not be made, so no ZIP file was written. Bea Pm (case "
        f"{data.case_ids[org.pm_b1.id]}): The job was stopped after 120 seconds. Export the cycle "
        "again to retry: the packets made this time are on record and are not rendered again."
    )
    assert packet_count(app) == 2

    # Again: Alice's and Dev's packets are reused, only Bea's is rendered.
    again = submit_export(app, org.head, data.cycle_id)
    run_here(app, again)
    for part_id in row(app, again).params[jobs.WAITED_FOR]:
        run_here(app, part_id)
    settle(app)
    run_here(app, again)
    assert packet_count(app) == 3
    assert zip_bytes(app, row(app, again)) == old_single_job_zip(
        app, org.head, data.cycle_id, tmp_path / "old.zip"
    )


def test_access_is_checked_by_the_export_each_part_and_the_zip_job(app, org):
    data = promotion_helpers.cycle_with_cases(app, org, candidates=("pm_a1", "pm_b1"))
    bea_case = data.case_ids[org.pm_b1.id]
    # The candidate view before results are out: nothing to export, said clearly.
    refused = submit_export(app, org.pm_a1, data.cycle_id, view="candidate")
    run_here(app, refused)
    assert row(app, refused).error == (
        "H1 2027 has no case whose candidate packet you may have (withdrawn cases are left "
        "out), so there is nothing to export."
    )

    # The head, deactivated after asking: each part refuses.
    export_id = submit_export(app, org.head, data.cycle_id)
    run_here(app, export_id)
    set_active(app, org.head, False)
    part = row(app, export_id).params[jobs.WAITED_FOR][0]
    run_here(app, part)
    assert (row(app, part).status, row(app, part).error) == (JobStatus.FAILED, "Not found.")
    set_active(app, org.head, True)

    # A manager exports the cases of their reports only: one part. Bea moves to another
    # manager before the ZIP is written: the ZIP job refuses her packet.
    export_id = submit_export(app, org.manager_b, data.cycle_id)
    run_here(app, export_id)
    parts = row(app, export_id).params[jobs.WAITED_FOR]
    assert [row(app, p).params["case_id"] for p in parts] == [bea_case]
    run_here(app, parts[0])
    with app.app_context():
        db.session.get(PromotionCase, bea_case).manager_id = org.manager_a.id
        db.session.get(User, org.pm_b1.id).manager_id = org.manager_a.id
        db.session.commit()
    settle(app)
    run_here(app, export_id)
    export = row(app, export_id)
    assert (export.status, export.error, export.result_path) == (
        JobStatus.FAILED,
        "Not found.",
        None,
    )
    assert packet_count(app) == 1


def set_active(app, person: Person, active: bool) -> None:
    with app.app_context():
        db.session.get(User, person.id).deactivated_at = None if active else utcnow()
        db.session.commit()


def test_settling_counts_parts_in_any_state_and_queues_the_export_once(app, org):
    data = promotion_helpers.cycle_with_cases(app, org, candidates=("pm_a1",))
    export_id = submit_export(app, org.head, data.cycle_id)
    with app.app_context():
        head = db.session.get(User, org.head.id)
        case_id = data.case_ids[org.pm_a1.id]
        parts = [
            jobs.submit(head, "export_packet", {"case_id": case_id, "view": "committee"})
            for _ in range(4)
        ]
        statuses = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE, JobStatus.FAILED)
        for part, status in zip(parts, statuses, strict=True):
            part.status = status  # two of four finished
        db.session.get(Job, export_id).status = JobStatus.RUNNING
        store.wait(export_id, {}, jobs.Waiting([p.id for p in parts], unit="packets"))
        db.session.commit()
        ids = [p.id for p in parts]

    assert settle(app) == []
    assert (row(app, export_id).progress, row(app, export_id).message) == (
        5 + 85 * 2 // 4,
        "2 of 4 packets (1 failed)",
    )
    with app.app_context():
        for job in jobs.parts(ids):
            job.status = JobStatus.DONE
        db.session.commit()
    with app.app_context():  # a sweep settles too (a part's supervisor died before it could)
        swept = jobs.sweep(app)
    assert swept == "0 past the time limit failed; 1 waiting for finished parts queued again."
    assert settle(app) == []  # queued once, however many supervisors and sweeps settle
    export = row(app, export_id)
    assert (export.status, export.message) == (JobStatus.QUEUED, "4 of 4 packets")
    assert export.params[jobs.WAITED_FOR] == ids


def test_the_built_in_runner_renders_the_parts_two_at_once_in_their_own_processes(
    app, org, tmp_path
):
    data = promotion_helpers.cycle_with_cases(app, org, candidates=("pm_a1", "pm_b1"))
    app.config["JOB_CONCURRENCY"] = 2
    export_id = submit_export(app, org.head, data.cycle_id)
    with app.app_context():
        jobs.run_pending(app)  # the export, its two parts, the export again: all processes

    export = row(app, export_id)
    parts = [row(app, p) for p in export.params[jobs.WAITED_FOR]]
    assert [p.status for p in parts] == [JobStatus.DONE] * 2
    assert (export.progress, export.message) == (100, "Ready")
    # Two at once: the first two parts were both claimed before either finished.
    first, second = sorted(parts, key=lambda p: p.started_at)
    assert second.started_at < first.finished_at
    # One packet per part, each named by its part's file.
    made = [json.loads(jobs_file(app, p).read_text()) for p in parts]
    assert sorted(m["case_id"] for m in made) == sorted(data.case_ids.values())
    assert len({m["packet_id"] for m in made}) == 2 == packet_count(app)
    assert zip_bytes(app, export) == old_single_job_zip(
        app, org.head, data.cycle_id, tmp_path / "old.zip"
    )


def jobs_file(app, job: Job) -> Path:
    with app.app_context():
        return jobs.result_file(job.result_path)


def test_a_case_withdrawn_while_its_packet_rendered_stays_in_the_zip_it_was_planned_for(app, org):
    data = promotion_helpers.cycle_with_cases(app, org, candidates=("pm_a1", "pm_b1"))
    export_id = submit_export(app, org.head, data.cycle_id)
    run_here(app, export_id)
    for part_id in row(app, export_id).params[jobs.WAITED_FOR]:
        run_here(app, part_id)
    with app.app_context():
        db.session.get(PromotionCase, data.case_ids[org.pm_b1.id]).withdrawn_at = utcnow()
        db.session.commit()
    settle(app)
    run_here(app, export_id)
    names = zipfile.ZipFile(jobs_file(app, row(app, export_id))).namelist()
    assert names == [
        "h1-2027/alice-pm-committee.pdf",
        "h1-2027/bea-pm-committee.pdf",
        "h1-2027/manifest.csv",
    ]
