"""PDFs: the deny-by-default fetcher, and the framework PDF (bookmarks, metadata, same bytes)."""

import http.server
import io
import threading

import pytest
import yaml
from pypdf import PdfReader

from app.infra.pdf import render_pdf
from app.policy import SYSTEM
from app.services import storage
from app.services.frameworks import files, store
from app.services.frameworks import pdf as framework_pdf
from tests.framework_samples import framework_data, framework_yaml


@pytest.fixture
def local_server():
    """An HTTP server on loopback that records every request it gets."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def test_the_fetcher_blocks_files_remote_urls_imports_and_embeds(local_server, tmp_path):
    base, requests = local_server
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    html = f"""<html><head>
      <link rel="attachment" href="file://{secret}">
      <link rel="stylesheet" href="{base}/style.css">
      <style>@import url("{base}/imported.css");
        body {{ background: url("{base}/bg.png"); }}</style>
      </head><body>
      <p>Visible text</p>
      <a rel="attachment" href="file://{secret}">attachment</a>
      <img src="{base}/tracker.png"> <img src="file://{secret}">
      <object data="{base}/object.pdf"></object><embed src="{base}/embed.swf">
      <iframe src="{base}/frame.html"></iframe>
      <img src="ftp://127.0.0.1/x.png">
      </body></html>"""
    pdf = render_pdf(html, stylesheet="framework.css")
    assert requests == []
    assert b"TOP-SECRET-CONTENT" not in pdf
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {}
    assert "Visible text" in reader.pages[0].extract_text()


def test_data_urls_still_work():
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    pdf = render_pdf(f'<p>Dot</p><img src="{pixel}" alt="dot">', stylesheet="framework.css")
    assert PdfReader(io.BytesIO(pdf)).pages[0].images


def test_framework_pdf_has_bookmarks_metadata_and_the_same_bytes_twice(app, ctx, tmp_path):
    version, _ = files.import_text(SYSTEM, framework_yaml(levels=3), "yaml", publish=True)
    version = store.load_version(version.id)
    key = framework_pdf.version_pdf(version)
    first = storage.read(key)
    storage.local_path(key).unlink()
    version = store.load_version(version.id)  # the render committed, which expired it
    assert storage.read(framework_pdf.version_pdf(version)) == first
    reader = PdfReader(io.BytesIO(first))
    assert reader.metadata.title == "Sample — version 1"
    assert reader.metadata.author == "Rungs"
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles[:4] == ["Sample", "Level 1 L1", "Level 2 L2", "Level 3 L3"]
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Does skill 1.1 at L3." in text and "Page 2 of" in text


def test_framework_pdf_prints_the_measure_right_after_the_expectation(app, ctx):
    data = framework_data(levels=1, areas=1, per_area=1)
    cell = data["areas"][0]["competencies"][0]["expectations"]["L1"]
    cell["indicators"].append({"kind": "measure", "text": "Two teams cite the research."})
    text_yaml = yaml.safe_dump(data, sort_keys=False)
    version, _ = files.import_text(SYSTEM, text_yaml, "yaml", publish=True)
    key = framework_pdf.version_pdf(store.load_version(version.id))
    text = " ".join(
        "".join(
            page.extract_text() for page in PdfReader(io.BytesIO(storage.read(key))).pages
        ).split()
    )
    # Stored after the example, printed before it: the measure is read with the expectation.
    assert "Does skill 0.0 at L1. MEASURE Two teams cite the research. EXAMPLE An example" in text
