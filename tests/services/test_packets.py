"""Promotion packets: content of both views read back with pypdf, redaction, determinism, storage,
access, and the SSRF corpus from issue 6."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import event

from app.core.errors import NotFoundError
from app.extensions import db
from app.models import AuditEvent, Packet, PacketView, User
from app.policy import SYSTEM
from app.services import packets, storage
from tests import packet_helpers
from tests.packet_helpers import COMMITTEE_ONLY, SHARED_TEXT
from tests.services.test_pdf import local_server  # noqa: F401 - a fixture

SECTIONS = ["Cover", "Summary", "Competencies", "Statements", "Calibration record"]


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "".join(page.extract_text() for page in reader.pages)


def _squeezed(text: str) -> str:
    """Without white space and case: pypdf breaks lines anywhere, and labels are upper case."""
    return re.sub(r"\s+", "", text).lower()


def _outline(items, depth=0):
    for item in items:
        if isinstance(item, list):
            yield from _outline(item, depth + 1)
        else:
            yield depth, item.title


@pytest.fixture(scope="module")
def rendered(app, tmp_path_factory):
    """One realistic case rendered once per view; the rows are emptied after each test, so
    everything the module's tests need is kept here."""
    from tests.factories import Factory

    factory = Factory(app)
    org = factory.organisation()
    built = packet_helpers.realistic_case(app, org)
    with app.app_context():
        committee_data = packets.assemble(built.case_id, "committee")
        candidate_data = packets.assemble(built.case_id, "candidate")
        html = packets.html(committee_data)
        committee = packets.render(built.case_id, "committee")
        candidate = packets.render(built.case_id, "candidate")
        again = packets.data_version(packets.assemble(built.case_id, "committee"))
    dump = os.environ.get("PACKET_DUMP")
    if dump:
        Path(dump).mkdir(parents=True, exist_ok=True)
        Path(dump, "committee.pdf").write_bytes(committee)
        Path(dump, "candidate.pdf").write_bytes(candidate)
        Path(dump, "committee.html").write_text(html)
    yield {
        "committee_text": _squeezed(_text(committee)),
        "candidate_text": _squeezed(_text(candidate)),
        "committee": committee,
        "again": again,
        "candidate": candidate,
        "committee_data": committee_data,
        "candidate_data": candidate_data,
        "html": html,
    }


def test_every_section_is_bookmarked_with_a_competency_and_item_under_it(rendered):
    reader = PdfReader(io.BytesIO(rendered["committee"]))
    outline = list(_outline(reader.outline))
    top = [title for depth, title in outline if depth == 0]
    assert top[:5] == SECTIONS
    assert top[5].startswith("Appendix")
    assert ("Skill 0.0" in [title for _d, title in outline]) and any(
        "Evidence item 00" in title for _d, title in outline
    )
    assert len(reader.pages) > 20


def test_metadata_comes_from_the_data(rendered):
    data = rendered["committee_data"]
    meta = PdfReader(io.BytesIO(rendered["committee"])).metadata
    assert meta.title == "Promotion packet: Alice Pm, H1 2027"
    assert meta.author == "Rungs"
    assert meta.subject == "L1 → L2 (Track 0), committee view"
    stamp = data.as_of.strftime("%Y%m%d%H%M%S")
    assert meta["/CreationDate"].startswith(f"D:{stamp}")
    assert meta["/ModDate"].startswith(f"D:{stamp}")


def test_the_committee_view_holds_every_part(rendered):
    text = rendered["committee_text"]
    for marker in COMMITTEE_ONLY + SHARED_TEXT:
        assert _squeezed(marker) in text, marker
    for part in (
        "Page 3 of",
        "Does skill 0.0 at L2.",  # the expectation at the proposed level
        "Activation: 31 →",  # an outcome measure
        "Confirmed by Bea Pm",  # a corroboration
        "Kudos from Ada Manager",
        "Great work on this one",  # a comment
        "Ada Manager: Developing",  # a vote
        "Most competencies meet the bar.",  # a reason in the log
    ):
        assert _squeezed(part) in text, part


def test_the_candidate_view_holds_no_committee_only_string(rendered):
    text = rendered["candidate_text"]
    for marker in COMMITTEE_ONLY:
        assert _squeezed(marker) not in text, marker
    for marker in SHARED_TEXT:
        assert _squeezed(marker) in text, marker
    data = rendered["candidate_data"]
    assert data.log == () and all(not s.votes for s in data.competencies)
    assert {r.source for s in data.competencies for r in s.ratings} == {"self", "agreed"}


def test_the_same_data_gives_the_same_version(rendered):
    assert rendered["again"] == packets.data_version(rendered["committee_data"])
    assert packets.data_version(rendered["candidate_data"]) != rendered["again"]


def test_the_data_is_in_a_stable_order(rendered):
    data = rendered["committee_data"]
    assert [s.key for s in data.competencies] == packet_helpers.KEYS
    dates = [(item.occurred_on, item.id) for item in data.appendix]
    assert dates == sorted(dates) and len(dates) == 60
    log = [(line.at, line.id) for line in data.log]
    assert log == sorted(log)


def test_only_the_fonts_the_app_ships_are_used(rendered):
    for view in ("committee", "candidate"):
        reader = PdfReader(io.BytesIO(rendered[view]))
        embedded, missing = reader.pages[1]._get_fonts()  # the summary, with the chart's text
        names = {name.split("+", 1)[-1] for name in embedded}
        assert missing == set() and names <= {
            "Rungs-Sans",
            "Rungs-Sans-Bold",
            "Rungs-Sans-Italic",
            "Rungs-Mono",
        }, names
        assert "Rungs-Sans" in names


def test_the_chart_is_inline_svg_and_nothing_is_fetched(rendered):
    html = rendered["html"]
    assert html.count("<svg") == 1 and "http://www.w3.org/2000/svg" in html
    assert 'src="http' not in html and "<img" not in html and "<link" not in html


def _statements(app, case_id: int) -> int:
    statements = []

    def record(*_args):
        statements.append(1)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            packets.assemble(case_id, "committee")
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def test_assembly_reads_in_a_fixed_number_of_queries(app, org):
    small = packet_helpers.realistic_case(app, org, items=6)
    few = _statements(app, small.case_id)
    for n in range(8):
        packet_helpers.evidence_helpers.record(app, org.pm_a1, title=f"More {n}")
    assert _statements(app, small.case_id) == few


def test_generate_stores_once_per_data_version_and_audits_downloads(app, org):
    built = packet_helpers.realistic_case(app, org, items=3)
    with app.app_context():
        head = db.session.get(User, org.head.id)
        first = packets.generate(head, built.case_id, PacketView.COMMITTEE)
        db.session.commit()
        same = packets.generate(head, built.case_id, PacketView.COMMITTEE)
        assert same.id == first.id
        path = storage.local_path(first.file_path)
        assert path.read_bytes()[:5] == b"%PDF-" and first.size == path.stat().st_size
        assert first.pages > 3 and len(first.content_hash) == 64
        assert first.generated_by_id == head.id and first.file_path.startswith("packets/")
        # The same data renders to the same bytes: a lost file comes back identical.
        stored = path.read_bytes()
        path.unlink()
        assert packets.generate(head, built.case_id, "committee").id == first.id
        assert path.read_bytes() == stored
    packet_helpers.evidence_helpers.record(app, org.pm_a1, title="A new launch")
    with app.app_context():
        head = db.session.get(User, org.head.id)
        newer = packets.generate(head, built.case_id, "committee")
        db.session.commit()
        assert newer.id != first.id and newer.data_version != first.data_version
        assert [p.id for p in packets.versions(head, built.case_id)] == [newer.id, first.id]
        packet, file = packets.download(head, first.id)
        db.session.commit()
        with file:
            assert file.read() == stored and packet.id == first.id
        actions = db.session.scalars(
            db.select(AuditEvent.action).where(AuditEvent.entity_type == "packets")
        ).all()
        assert sorted(actions) == ["packet.downloaded", "packet.generated", "packet.generated"]
        assert db.session.query(Packet).count() == 2


@pytest.mark.parametrize(
    ("who", "committee", "candidate"),
    [
        ("head", True, True),
        ("manager_a", True, True),  # the case's manager
        ("pm_a1", False, True),  # the candidate, after publishing
        ("manager_b", False, False),  # another manager, even a session participant
        ("pm_a2", False, False),
    ],
)
def test_who_may_have_which_view(app, org, who, committee, candidate):
    built = packet_helpers.realistic_case(app, org, items=1)
    with app.app_context():
        actor = db.session.get(User, getattr(org, who).id)
        for view, allowed in (("committee", committee), ("candidate", candidate)):
            if allowed:
                packets.authorize(actor, built.case_id, view)
            else:
                with pytest.raises(NotFoundError):
                    packets.authorize(actor, built.case_id, view)
        assert packets.authorize(SYSTEM, built.case_id, "committee")


def test_the_candidate_waits_for_publishing_and_the_skip_level_sees_the_committee_view(app, org):
    from app.models import CyclePhase
    from tests import promotion_helpers

    data = promotion_helpers.cycle_with_cases(app, org, candidates=("pm_d1",))
    case_id = data.case_ids[org.pm_d1.id]
    with app.app_context():
        candidate = db.session.get(User, org.pm_d1.id)
        skip_level = db.session.get(User, org.manager_a.id)
        with pytest.raises(NotFoundError):
            packets.authorize(candidate, case_id, "candidate")
        packets.authorize(skip_level, case_id, "committee")
    promotion_helpers.set_phase(app, data.cycle_id, CyclePhase.PUBLISHED)
    with app.app_context():
        packets.authorize(db.session.get(User, org.pm_d1.id), case_id, "candidate")


HOSTILE = """Imports <link rel="attachment" href="file:///etc/passwd"> and more.

![tracker]({base}/markdown.png)

<img src="{base}/html.png"> <object data="{base}/object.pdf"></object>
<embed src="{base}/embed.swf"> <iframe src="{base}/frame.html"></iframe>
<style>@import url("{base}/imported.css");</style>
<a rel="attachment" href="file:///etc/passwd">passwd</a> [file](file:///etc/passwd)
<svg><image href="{base}/svg.png"/></svg>"""


def test_hostile_evidence_fetches_nothing_and_attaches_nothing(app, org, local_server):  # noqa: F811
    base, requests = local_server
    built = packet_helpers.realistic_case(app, org, items=2, body=HOSTILE.replace("{base}", base))
    with app.app_context():
        html = packets.html(packets.assemble(built.case_id, "committee"))
        pdf = packets.render(built.case_id, "committee")
    assert requests == []
    assert "root:x:0:0" not in pdf.decode("latin-1")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {}
    assert b"/EmbeddedFile" not in pdf and b"/FileAttachment" not in pdf
    # The hostile markup is shown as text, never as markup.
    assert '<link rel="attachment"' not in html and "&lt;link rel=&#34;attachment&#34;" in html
    assert "Evidence item 00" in _text(pdf)


def test_votes_stay_blind_and_the_self_assessment_waits_for_the_manager(app, org):
    from app.models import CyclePhase, RatingSource
    from tests import promotion_helpers as rows

    data = rows.cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, with_session=True)
    case_id = data.case_ids[org.pm_a1.id]
    rows.rate(app, case_id, RatingSource.SELF, rows.all_meets(), rationale="SELFDRAFTMARK")
    rows.vote(app, data.session_id, case_id, org.manager_b, rows.all_meets())
    with app.app_context():
        committee = packets.assemble(case_id, "committee")
    assert not committee.shows_self and not committee.shows_manager
    assert all(not s.votes and not s.ratings for s in committee.competencies)
    assert "SELFDRAFTMARK" not in repr(committee)
    rows.rate(app, case_id, RatingSource.MANAGER, rows.all_meets(), rationale="MANAGERMARK")
    with app.app_context():
        from app.models import CalibrationSession
        from app.models.base import utcnow

        db.session.get(CalibrationSession, data.session_id).votes_revealed_at = utcnow()
        db.session.commit()
        committee = packets.assemble(case_id, "committee")
        candidate = packets.assemble(case_id, "candidate")
    assert committee.shows_self and committee.shows_manager
    # Revealed to the session's people, but the packet goes to the manager chain too: it names
    # the votes only once the session is locked (then votes.view shows them in the app as well).
    assert all(not s.votes for s in committee.competencies)
    with app.app_context():
        db.session.get(CalibrationSession, data.session_id).locked_at = utcnow()
        db.session.commit()
        committee = packets.assemble(case_id, "committee")
    assert [v.voter for v in committee.competencies[0].votes] == ["Ben Manager"]
    assert "MANAGERMARK" not in repr(candidate) and "Ben Manager" not in repr(candidate)
    assert "SELFDRAFTMARK" in repr(candidate)  # the candidate's own assessment


def test_a_withdrawn_case_says_so_on_the_cover(app, org):
    from app.models import PromotionCase
    from app.models.base import utcnow
    from tests import promotion_helpers as rows

    data = rows.cycle_with_cases(app, org)
    case_id = data.case_ids[org.pm_a1.id]
    with app.app_context():
        db.session.get(PromotionCase, case_id).withdrawn_at = utcnow()
        db.session.commit()
        page = packets.html(packets.assemble(case_id, "committee"))
    assert "Withdrawn on" in page and "No outcome yet" in page
