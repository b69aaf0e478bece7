"""Packet pages through HTTP: the case page's packet panel, generating as a job, the job's page and
file, the stored versions' download (audited), who gets a 404, and the cycle's ZIP export."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, CyclePhase, Job, JobStatus, Packet, User
from app.services import jobs, packets
from tests import evidence_helpers, promotion_helpers
from tests.factories import sign_in
from tests.queries import count_queries


@pytest.fixture
def cycle(app, org):
    return promotion_helpers.cycle_with_cases(app, org, candidates=("pm_a1", "pm_b1"))


@pytest.fixture
def case_id(cycle, org):
    return cycle.case_ids[org.pm_a1.id]


def signed_in(app, person):
    client = app.test_client()
    sign_in(client, person)
    return client


def run_jobs(app) -> None:
    with app.app_context():
        jobs.run_pending(app)


def stored(app, person, case_id: int, view: str) -> int:
    """A packet on record, generated in this process (the panel and download tests need one)."""
    with app.app_context():
        packet = packets.generate(db.session.get(User, person.id), case_id, view)
        db.session.commit()
        return packet.id


def job_id_of(response) -> int:
    assert response.status_code == 303, response.status_code
    return int(re.fullmatch(r"/jobs/(\d+)", response.headers["Location"]).group(1))


def test_the_panel_offers_each_view_with_a_preview_and_an_empty_state(app, org, case_id):
    page = signed_in(app, org.head).get(f"/cases/{case_id}").get_data(as_text=True)
    assert '<h2 id="packet-heading">Promotion packet</h2>' in page
    assert "/static/css/packets.css" in page
    for view in ("committee", "candidate"):
        assert f"Generate the {view} packet</button>" in page
        assert f'<input type="hidden" name="view" value="{view}">' in page
        assert f'href="/cases/{case_id}/packet/preview?view={view}"' in page
    assert page.count(f'action="/cases/{case_id}/packet"') == 2
    assert "No packet generated yet." in page
    assert 'href="/jobs"' not in page  # "Jobs" is offered once the head has started one


def test_the_candidate_sees_the_panel_only_once_published_and_only_their_view(
    app, org, cycle, case_id
):
    client = signed_in(app, org.pm_a1)
    assert "Promotion packet" not in client.get(f"/cases/{case_id}").get_data(as_text=True)
    promotion_helpers.set_phase(app, cycle.cycle_id, CyclePhase.PUBLISHED)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Generate the candidate packet" in page
    assert "committee packet" not in page and "view=committee" not in page


def test_generate_runs_as_a_job_and_the_version_is_listed_and_downloaded(app, org, case_id):
    client = signed_in(app, org.head)
    response = client.post_form(f"/cases/{case_id}/packet", {"view": "committee"})
    job_id = job_id_of(response)
    with app.app_context():  # the request only queued it: nothing was rendered
        assert db.session.get(Job, job_id).status is JobStatus.QUEUED
        assert db.session.scalars(select(Packet)).all() == []
    run_jobs(app)

    job_page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Your file is ready." in job_page
    # The page names whose packet it made, and leads back to the case.
    about = "Alice Pm\u2019s committee packet, H1 2027"
    assert f"<title>Promotion packet: {about}" in job_page
    assert f'<p class="job-about">For <a href="/cases/{case_id}">{about}</a></p>' in job_page
    with client.get(f"/jobs/{job_id}/download") as job_file:
        job_pdf = job_file.data
    assert job_file.status_code == 200 and job_pdf[:5] == b"%PDF-"
    with app.app_context():
        packet = db.session.scalars(select(Packet)).one()
        packet_id, name = packet.id, packets.download_name(packet)
        short_hash, version = packet.content_hash[:12], packet.data_version[:8]
        assert packet.generated_by_id == org.head.id
    assert name in job_file.headers["Content-Disposition"]

    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "No packet generated yet." not in page
    assert '<code title="SHA-256 of the PDF: ' in page and f">{short_hash}</code>" in page
    assert "from data version <code" in page and f">{version}</code>" in page
    assert "by Hana Head" in page
    assert f'href="/packets/{packet_id}/download"' in page

    with client.get(f"/packets/{packet_id}/download") as download:
        pdf = download.data
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert name in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in download.headers["Cache-Control"]
    assert pdf == job_pdf
    assert PdfReader(io.BytesIO(pdf)).metadata.subject.endswith("committee view")
    with app.app_context():
        audit = db.session.execute(
            select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.entity_id).where(
                AuditEvent.action == "packet.downloaded"
            )
        ).all()
        assert [(a, actor, str(entity)) for a, actor, entity in audit] == [
            ("packet.downloaded", org.head.id, str(packet_id))
        ]


def test_people_without_access_get_404_for_generate_download_and_the_job(app, org, cycle, case_id):
    committee_id = stored(app, org.head, case_id, "committee")
    candidate_id = stored(app, org.head, case_id, "candidate")
    head = signed_in(app, org.head)
    head_job = job_id_of(head.post_form(f"/cases/{case_id}/packet", {"view": "candidate"}))

    for person in (org.manager_b, org.pm_a2):
        client = signed_in(app, person)
        for view in ("committee", "candidate"):
            response = client.post_form(f"/cases/{case_id}/packet", {"view": view})
            assert response.status_code == 404, (person.name, view)
        for packet_id in (committee_id, candidate_id):
            assert client.get(f"/packets/{packet_id}/download").status_code == 404
        assert client.get(f"/jobs/{head_job}").status_code == 404
        assert client.get(f"/jobs/{head_job}/download").status_code == 404

    # The candidate: nothing before publishing; then the candidate view only.
    candidate = signed_in(app, org.pm_a1)
    for view in ("committee", "candidate"):
        assert candidate.post_form(f"/cases/{case_id}/packet", {"view": view}).status_code == 404
    assert candidate.get(f"/packets/{candidate_id}/download").status_code == 404
    promotion_helpers.set_phase(app, cycle.cycle_id, CyclePhase.PUBLISHED)
    with candidate.get(f"/packets/{candidate_id}/download") as allowed:
        assert allowed.status_code == 200
    assert candidate.get(f"/packets/{committee_id}/download").status_code == 404
    assert candidate.post_form(f"/cases/{case_id}/packet", {"view": "committee"}).status_code == 404
    job_id_of(candidate.post_form(f"/cases/{case_id}/packet", {"view": "candidate"}))
    assert head.post_form(f"/cases/{case_id}/packet", {"view": "everything"}).status_code == 404
    assert head.get("/packets/99999/download").status_code == 404


def test_generate_needs_the_form_token(app, org, case_id):
    response = signed_in(app, org.head).post(f"/cases/{case_id}/packet", data={"view": "committee"})
    assert response.status_code == 400


def test_the_panel_reads_in_a_fixed_number_of_queries(app, org, case_id):
    client = signed_in(app, org.head)
    stored(app, org.head, case_id, "committee")
    few = count_queries(app, client, f"/cases/{case_id}")
    for n in range(2):
        evidence_helpers.record(app, org.pm_a1, title=f"Another launch {n}")
        stored(app, org.head, case_id, "committee")
    stored(app, org.manager_a, case_id, "candidate")
    assert count_queries(app, client, f"/cases/{case_id}") == few
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert page.count('/download"') == 4 and "by Ada Manager" in page


def test_the_head_exports_the_cycle_as_a_zip_job(app, org, cycle):
    client = signed_in(app, org.head)
    page = client.get(f"/promotions/{cycle.cycle_id}").get_data(as_text=True)
    assert f'action="/promotions/{cycle.cycle_id}/packets"' in page
    assert '<label for="packet-export-view">Packets</label>' in page
    assert "Export every packet as a ZIP</button>" in page

    job_id = job_id_of(
        client.post_form(f"/promotions/{cycle.cycle_id}/packets", {"view": "candidate"})
    )
    run_jobs(app)
    job_page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    link = f'<a href="/promotions/{cycle.cycle_id}">H1 2027, candidate packets</a>'
    assert f'<p class="job-about">For {link}</p>' in job_page
    with client.get(f"/jobs/{job_id}/download") as response:
        assert response.status_code == 200
        content = response.data
    assert "promotion-packets-h1-2027-candidate.zip" in response.headers["Content-Disposition"]
    assert zipfile.ZipFile(io.BytesIO(content)).namelist() == [
        "h1-2027/alice-pm-candidate.pdf",
        "h1-2027/bea-pm-candidate.pdf",
        "h1-2027/manifest.csv",
    ]

    bad = client.post_form(f"/promotions/{cycle.cycle_id}/packets", {"view": "everything"})
    assert bad.status_code == 404
    assert client.post_form("/promotions/99999/packets", {"view": "committee"}).status_code == 404


def test_only_the_head_may_export_a_cycle(app, org, cycle):
    client = signed_in(app, org.manager_a)
    page = client.get(f"/promotions/{cycle.cycle_id}").get_data(as_text=True)
    assert "Export every packet" not in page
    response = client.post_form(f"/promotions/{cycle.cycle_id}/packets", {"view": "committee"})
    assert response.status_code == 403


def test_a_job_page_names_what_the_job_is_for_only_while_its_viewer_may_see_it(
    app, org, cycle, case_id
):
    """A job's page is its creator's; what it was for may since have become hidden to them."""
    packet = {"case_id": case_id, "view": "committee"}
    with app.app_context():
        head, candidate = db.session.get(User, org.head.id), db.session.get(User, org.pm_a1.id)
        assert (
            jobs.about(head, "packet", packet).text == "Alice Pm\u2019s committee packet, H1 2027"
        )
        assert jobs.about(candidate, "packet", packet) is None  # not their view of it
        assert jobs.about(candidate, "cycle_packets", {"cycle_id": cycle.cycle_id}) is None
        assert jobs.about(head, "packet", {"case_id": "1; drop", "view": "committee"}) is None
        assert jobs.about(head, "packet", {**packet, "view": "everything"}) is None
        assert jobs.about(head, "send_messages", {}) is None  # a kind that names nothing


def test_the_jobs_list_names_each_job_in_a_query_per_kind_not_per_job(app, org, cycle):
    """Your jobs, each with what it is for: the queries grow with the kinds on the page (and the
    views of packets), never with the number of jobs."""
    client = signed_in(app, org.head)

    def submit(kind: str, **params) -> None:
        with app.app_context():
            head = db.session.get(User, org.head.id)
            jobs.submit(head, kind, {**params, "actor_id": head.id})
            db.session.commit()

    alice, bea = cycle.case_ids[org.pm_a1.id], cycle.case_ids[org.pm_b1.id]
    submit("packet", case_id=alice, view="committee")
    one = count_queries(app, client, "/jobs")
    submit("packet", case_id=bea, view="candidate")
    submit("cycle_packets", cycle_id=cycle.cycle_id, view="committee")
    kinds = count_queries(app, client, "/jobs")
    assert kinds == one + 2  # the candidate view's packets, and the exports
    submit("packet", case_id=bea, view="committee")
    submit("packet", case_id=alice, view="candidate")
    submit("cycle_packets", cycle_id=cycle.cycle_id, view="candidate")
    assert count_queries(app, client, "/jobs") == kinds

    page = client.get("/jobs").get_data(as_text=True)
    for text in (
        "Alice Pm\u2019s committee packet, H1 2027",
        "Bea Pm\u2019s candidate packet, H1 2027",
        "Bea Pm\u2019s committee packet, H1 2027",
        "Alice Pm\u2019s candidate packet, H1 2027",
        "H1 2027, committee packets",
        "H1 2027, candidate packets",
    ):
        assert f'<span class="job-for">For {text}</span>' in page
