"""The packet's HTML preview: who may open which view, and that it is the PDF's own document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import packet_helpers
from tests.factories import sign_in
from tests.packet_helpers import COMMITTEE_ONLY


@pytest.fixture
def case_id(app, org):
    return packet_helpers.realistic_case(app, org, items=4).case_id


@pytest.mark.parametrize(
    ("who", "view", "status"),
    [
        ("head", "committee", 200),
        ("manager_a", "committee", 200),  # the case's manager
        ("manager_a", "candidate", 200),
        ("pm_a1", "candidate", 200),  # the candidate, once the cycle is published
        ("pm_a1", "committee", 404),
        ("manager_b", "committee", 404),  # not in the candidate's manager chain
        ("pm_a2", "candidate", 404),
        ("head", "everything", 404),
    ],
)
def test_who_may_preview_which_view(client, org, case_id, who, view, status):
    sign_in(client, getattr(org, who))
    response = client.get(f"/cases/{case_id}/packet/preview?view={view}")
    assert response.status_code == status


def test_signed_out_people_are_sent_to_sign_in(client, case_id):
    response = client.get(f"/cases/{case_id}/packet/preview")
    assert response.status_code in (302, 401)


def test_the_committee_preview_is_the_packet_with_its_chart(client, org, case_id):
    sign_in(client, org.head)
    response = client.get(f"/cases/{case_id}/packet/preview?view=committee")
    page = response.get_data(as_text=True)
    assert "Promotion packet: Alice Pm, H1 2027" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert "/packets/preview.css" in page and "Back to the case" in page
    for section in ("Summary", "Competencies", "Statements", "Calibration record", "Appendix"):
        assert f"<h2>{section}" in page
    assert "Pre-votes" in page and "LOGREASONMARK" in page
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert 'style="' not in page


def test_the_candidate_preview_holds_no_committee_only_string(client, org, case_id):
    sign_in(client, org.pm_a1)
    page = client.get(f"/cases/{case_id}/packet/preview?view=candidate").get_data(as_text=True)
    assert "SELFSTATEMENTMARK" in page
    for marker in COMMITTEE_ONLY:
        assert marker not in page, marker


def test_the_preview_stylesheet_is_the_packets_with_its_fonts_at_static_urls(app, client, org):
    """The PDF's own stylesheet, its `rungs-asset:` fonts (which the CSP refuses) served instead
    from the static files, to signed-in people like the preview itself; the stylesheet the PDF
    renderer reads keeps the asset scheme."""
    assert client.get("/packets/preview.css").status_code == 302  # to the sign-in page
    sign_in(client, org.pm_a1)
    response = client.get("/packets/preview.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    css = response.get_data(as_text=True)
    assert "rungs-asset:" not in css
    fonts = re.findall(r'url\("([^"]+)"\)', css)
    assert len(fonts) == 4
    for url in fonts:
        assert url.startswith("/static/pdf/fonts/")
        font = client.get(url)
        assert font.status_code == 200 and font.data[:4] == b"\x00\x01\x00\x00"  # TrueType
        font.close()
    pdf_css = (Path(app.static_folder) / "pdf" / "packet.css").read_text(encoding="utf-8")
    assert pdf_css.count('url("rungs-asset:fonts/') == 4
    assert css == pdf_css.replace('url("rungs-asset:', 'url("/static/pdf/')
