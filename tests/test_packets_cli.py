"""`flask packets render`: a case's packet to a file, in either view."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests import packet_helpers


def test_render_writes_the_pdf_of_the_view_asked_for(app, org, tmp_path):
    built = packet_helpers.realistic_case(app, org, items=3)
    runner = app.test_cli_runner()
    target = tmp_path / "packet.pdf"
    result = runner.invoke(
        args=["packets", "render", str(built.case_id), "-o", str(target), "--view", "candidate"]
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote the candidate packet of case {built.case_id}:" in result.output
    reader = PdfReader(io.BytesIO(target.read_bytes()))
    assert reader.metadata.subject.endswith("candidate view")
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Candidate copy" in text and "Ben Manager" not in text


def test_an_unknown_case_or_view_is_refused_clearly(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["packets", "render", "999", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and "Case 999: Not found." in result.output
    result = runner.invoke(
        args=["packets", "render", "1", "-o", str(tmp_path / "x.pdf"), "--view", "everything"]
    )
    assert result.exit_code == 2 and "'everything' is not one of" in result.output
