"""Export of all of a person's own data, and importing it again somewhere else."""

import hashlib
import io
import json
import zipfile
from datetime import date

import pytest
import yaml
from sqlalchemy import event, select

from app.core.errors import RowErrors
from app.extensions import db
from app.models import (
    Comment,
    Corroboration,
    CorroborationStatus,
    Evidence,
    EvidenceKind,
    Framework,
    FrameworkVersion,
    Kudos,
    Level,
    User,
    Visibility,
)
from app.policy import SYSTEM
from app.services import evidence as evidence_service
from app.services import personal_data, storage
from app.services.evidence import attachments
from app.services.frameworks import files
from app.services.personal_data import importing as personal_data_import
from tests import file_samples as samples
from tests.evidence_helpers import publish_and_place, record
from tests.framework_samples import framework_yaml


class QueryCounter:
    """Counts the SQL statements run inside the block."""

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.count = 0

    def _record(self, *_args):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._record)


def person(p) -> User:
    return db.session.get(User, p.id)


def attach(owner, item_id, name, content):
    evidence = evidence_service.get_evidence(item_id)
    return attachments.add_attachment(person(owner), evidence, name, io.BytesIO(content))


@pytest.fixture
def history(app, org):
    """Alice's evidence: shared with a conversation, a private draft, and one in the Trash."""
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1])
    shared = record(
        app,
        org.pm_a1,
        title="Launched CSV import",
        occurred_on=date(2026, 3, 2),
        competency_keys=["skill-0-0", "skill-1-1"],
    )
    draft = record(
        app,
        org.pm_a1,
        title="Pricing experiment: what failed",
        occurred_on=date(2026, 1, 15),
        kind=EvidenceKind.LEARNING,
        visibility=Visibility.PRIVATE,
        metric="",
        metric_before="",
        metric_after="",
        links=[],
        competency_keys=["skill-1-0"],
    )
    trashed = record(app, org.pm_a1, title="Duplicate entry", occurred_on=date(2026, 2, 1))
    others = record(app, org.pm_b1, title="Bea's launch")
    with app.app_context():
        alice = person(org.pm_a1)
        evidence_service.update_evidence(
            alice,
            evidence_service.get_evidence(shared),
            _input_like(shared, body="We shipped **CSV import** to every account."),
            expected_revision=1,
        )
        evidence_service.trash_evidence(alice, evidence_service.get_evidence(trashed))
        top = Comment(evidence_id=shared, author_id=org.manager_a.id, body="Great outcome.")
        db.session.add(top)
        db.session.flush()
        db.session.add_all(
            [
                Comment(
                    evidence_id=shared, author_id=org.pm_a1.id, parent_id=top.id, body="Thanks!"
                ),
                Kudos(evidence_id=shared, giver_id=org.manager_a.id),
                Corroboration(
                    evidence_id=shared,
                    peer_id=org.pm_a2.id,
                    status=CorroborationStatus.CONFIRMED,
                    note="I was there.",
                ),
                Comment(evidence_id=others, author_id=org.pm_a1.id, body="Nice one, Bea."),
                Kudos(evidence_id=others, giver_id=org.pm_a1.id),
            ]
        )
        attach(org.pm_a1, shared, "launch.png", samples.image("PNG"))
        attach(org.pm_a1, shared, "launch.png", samples.image("PNG", size=(10, 10)))
        attach(org.pm_a1, draft, '"><img src=x onerror=alert(1)>.pdf', samples.pdf())
        db.session.commit()
    return {"shared": shared, "draft": draft, "trashed": trashed, "others": others}


def _input_like(item_id, **changes):
    from tests.evidence_helpers import evidence_input

    item = evidence_service.get_evidence(item_id)
    values = {
        "title": item.title,
        "occurred_on": item.occurred_on,
        "competency_keys": [t.competency_key for t in item.competencies],
    }
    return evidence_input(**{**values, **changes})


def test_the_export_holds_everything_the_person_owns(app, org, history, ctx):
    document = personal_data.export_document(person(org.pm_a1))
    assert document["format"] == "rungs-personal-data/1"
    assert document["person"] == {
        "name": "Alice Pm",
        "email": "alice@example.com",
        "role": "pm",
        "level": {
            "code": "L1",
            "title": "Level 1",
            "framework": "sample",
            "framework_name": "Sample",
        },
        "time_zone": "UTC",
    }
    items = document["evidence"]
    # By date: the draft (January), the trashed one (February), the shared one (March).
    assert [i["title"] for i in items] == [
        "Pricing experiment: what failed",
        "Duplicate entry",
        "Launched CSV import",
    ]
    draft, trashed, shared = items
    assert draft["visibility"] == "private" and draft["outcome"] is None
    assert trashed["in_trash"] is True and trashed["deleted_at"]
    assert shared["body"] == "We shipped **CSV import** to every account."
    assert shared["outcome"] == {"metric": "Activation", "before": "31", "after": "38", "unit": "%"}
    assert shared["links"] == [{"url": "https://example.com/launch", "label": "Launch notes"}]
    assert shared["competencies"] == [
        {"framework": "sample", "key": "skill-0-0", "name": "Skill 0.0"},
        {"framework": "sample", "key": "skill-1-1", "name": "Skill 1.1"},
    ]
    assert [(r["number"], r["action"], r["changed_by"]) for r in shared["revisions"]] == [
        (1, "created", "Alice Pm"),
        (2, "edited", "Alice Pm"),
    ]
    comments = shared["comments"]
    assert [(c["author"], c["body"]) for c in comments] == [
        ("Ada Manager", "Great outcome."),
        ("Alice Pm", "Thanks!"),
    ]
    assert comments[1]["parent_id"] == comments[0]["id"] and comments[0]["parent_id"] is None
    assert [k["giver"] for k in shared["kudos"]] == ["Ada Manager"]
    assert shared["corroborations"][0] | {"requested_at": None} == {
        "peer": "Arun Pm",
        "status": "confirmed",
        "note": "I was there.",
        "requested_at": None,
        "answered_at": None,
    }
    assert [(a["name"], a["path"]) for a in shared["attachments"]] == [
        ("launch.png", f"attachments/{history['shared']}/launch.png"),
        ("launch.png", f"attachments/{history['shared']}/launch-2.png"),
    ]
    assert draft["attachments"][0]["path"] == (
        f"attachments/{history['draft']}/___img src=x onerror=alert(1)_.pdf"
    )
    assert (
        shared["markdown_file"] == f"evidence/2026-03-02-launched-csv-import-{history['shared']}.md"
    )
    written = document["contributions"]["comments"]
    assert [(c["on_item_of"], c["body"]) for c in written] == [("Bea Pm", "Nice one, Bea.")]
    assert [k["to"] for k in document["contributions"]["kudos_given"]] == ["Bea Pm"]
    assert "Bea's launch" not in json.dumps(document)  # other people's items stay theirs


def test_the_export_of_another_person_holds_none_of_this(app, org, history, ctx):
    document = personal_data.export_document(person(org.pm_b1))
    assert [i["title"] for i in document["evidence"]] == ["Bea's launch"]
    comments = document["evidence"][0]["comments"]
    assert [(c["author"], c["body"]) for c in comments] == [("Alice Pm", "Nice one, Bea.")]


@pytest.fixture(params=storage.BACKENDS)
def file_storage(request, app, monkeypatch):
    """Files in the data folder and in the database (asked for before `history`, which attaches
    files)."""
    monkeypatch.setitem(app.config, "FILE_STORAGE", request.param)
    return request.param


def test_the_zip_has_the_json_one_markdown_file_per_item_and_the_files(
    app, org, file_storage, history, ctx
):
    with personal_data.export_zip(person(org.pm_a1)) as output:
        archive = zipfile.ZipFile(io.BytesIO(output.read()))
    document = json.loads(archive.read("rungs-export.json"))
    names = archive.namelist()
    markdown = [n for n in names if n.startswith("evidence/")]
    assert names[0] == "rungs-export.json"
    assert markdown == [item["markdown_file"] for item in document["evidence"]]
    assert len(markdown) == 3
    shared = document["evidence"][2]
    text = archive.read(shared["markdown_file"]).decode()
    front, body = text.split("---\n", 2)[1:]
    meta = yaml.safe_load(front)
    assert meta["title"] == "Launched CSV import" and meta["date"] == "2026-03-02"
    assert meta["competencies"] == ["Skill 0.0 (sample/skill-0-0)", "Skill 1.1 (sample/skill-1-1)"]
    assert body.strip() == "We shipped **CSV import** to every account."
    for item in document["evidence"]:
        for listed in item["attachments"]:
            data = archive.read(listed["path"])
            assert hashlib.sha256(data).hexdigest() == listed["sha256"]
            assert len(data) == listed["size"]
    assert archive.testzip() is None


def test_titles_that_look_like_yaml_stay_text_in_the_front_matter():
    item = {
        "title": "key: value\n---\n- evil",
        "occurred_on": "2026-01-01",
        "kind": "other",
        "visibility": "private",
        "in_trash": False,
        "competencies": [],
        "outcome": None,
        "links": [],
        "attachments": [],
        "body": "Body",
    }
    text = personal_data.item_markdown(item)
    front = text[len("---\n") : text.index("\n---\n")]
    assert yaml.safe_load(front)["title"] == "key: value\n---\n- evil"
    assert "\n---\n" not in front  # the front matter ends where a reader expects it


def exported_with_queries(app, who) -> int:
    with app.app_context(), QueryCounter(app) as counter:
        personal_data.export_zip(person(who)).close()
    return counter.count


def test_export_reads_a_fixed_number_of_queries(app, org, history):
    few = exported_with_queries(app, org.pm_a1)
    for number in range(15):
        item_id = record(app, org.pm_a1, title=f"More {number}")
        with app.app_context():
            attach(org.pm_a1, item_id, f"more-{number}.txt", b"more")
            db.session.add(Comment(evidence_id=item_id, author_id=org.manager_a.id, body="Yes"))
            db.session.add(Kudos(evidence_id=item_id, giver_id=org.manager_a.id))
            db.session.commit()
    assert exported_with_queries(app, org.pm_a1) == few


# --- import -------------------------------------------------------------------------------------


def place_on_fresh_framework(app, people):
    """Another organisation's career path: slug 'fresh', one competency per area."""
    with app.app_context():
        files.import_text(SYSTEM, framework_yaml(slug="fresh", per_area=1), "yaml", publish=True)
        level_id = db.session.execute(
            select(Level.id)
            .join(FrameworkVersion, FrameworkVersion.id == Level.version_id)
            .join(Framework, Framework.id == FrameworkVersion.framework_id)
            .where(Framework.slug == "fresh", Level.code == "L1")
        ).scalar_one()
        for p in people:
            db.session.get(User, p.id).level_id = level_id
        db.session.commit()


def test_round_trip_into_a_fresh_framework(app, org, make, file_storage, history):
    with app.app_context():
        with personal_data.export_zip(person(org.pm_a1)) as output:
            archive = output.read()
        exported = personal_data.export_document(person(org.pm_a1))
    newcomer = make.person(name="Alice Elsewhere", email="alice@other.example.com")
    place_on_fresh_framework(app, [newcomer])
    with app.app_context():
        report = personal_data_import.import_upload(person(newcomer), io.BytesIO(archive))
        db.session.commit()
        assert len(report.imported) == 2
        assert report.in_trash == 1
        assert report.attachments == 3
        assert report.dropped_tags == ["“Launched CSV import”: Skill 1.1 (skill-1-1)"]
        assert report.untagged == []
        mine = (
            db.session.execute(
                select(Evidence)
                .where(Evidence.owner_id == newcomer.id)
                .order_by(Evidence.occurred_on)
            )
            .scalars()
            .all()
        )
        imported = personal_data.export_document(person(newcomer))["evidence"]
    before = [i for i in exported["evidence"] if not i["in_trash"]]
    assert [i["title"] for i in imported] == [i["title"] for i in before]
    for new, old in zip(imported, before, strict=True):
        assert new["body"] == old["body"]
        assert new["occurred_on"] == old["occurred_on"]
        assert new["kind"] == old["kind"]
        assert new["outcome"] == old["outcome"]
        assert new["links"] == old["links"]
        assert new["visibility"] == "private"  # another organisation: the person shares again
        assert [a["sha256"] for a in new["attachments"]] == [
            a["sha256"] for a in old["attachments"]
        ]
        assert [a["name"] for a in new["attachments"]] == [a["name"] for a in old["attachments"]]
        assert new["comments"] == [] and new["kudos"] == [] and new["corroborations"] == []
    assert [c["key"] for c in imported[1]["competencies"]] == ["skill-0-0"]
    assert imported[1]["competencies"][0]["framework"] == "fresh"
    assert [c["key"] for c in imported[0]["competencies"]] == ["skill-1-0"]
    assert all(item.shared_at is None for item in mine)


def test_importing_the_same_file_twice_adds_nothing(app, org, history):
    with app.app_context():
        document = personal_data.export_document(person(org.pm_a1))
        report = personal_data_import.import_items(person(org.pm_a1), document)
        assert report.imported == []
        assert sorted(report.duplicates) == [
            "Launched CSV import",
            "Pricing experiment: what failed",
        ]
        assert report.attachments_left_behind == 0


def test_a_json_upload_says_which_attachments_stayed_behind(app, org, make, history):
    with app.app_context():
        text = json.dumps(personal_data.export_document(person(org.pm_a1))).encode()
    newcomer = make.person(name="Newcomer")
    place_on_fresh_framework(app, [newcomer])
    with app.app_context():
        report = personal_data_import.import_upload(person(newcomer), io.BytesIO(text))
        assert len(report.imported) == 2
        assert report.attachments == 0 and report.attachments_left_behind == 3


def bad_export(**item_changes):
    item = {
        "title": "Good item",
        "occurred_on": "2026-01-02",
        "kind": "launch",
        "body": "",
        "competencies": [{"key": "skill-0-0", "name": "Skill 0.0"}],
        "links": [],
        "attachments": [],
        "outcome": None,
    }
    return {
        "format": "rungs-personal-data/1",
        "evidence": [item, {**item, "title": "Second", **item_changes}],
    }


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"occurred_on": "02/01/2026"},
            "Item 2 (“Second”): the date '02/01/2026' is not YYYY-MM-DD.",
        ),
        ({"kind": "party"}, "Item 2 (“Second”): the kind 'party' is not one Rungs knows."),
        ({"title": "   "}, "Item 2: Give the item a title."),
        ({"links": [{"url": "javascript:alert(1)"}]}, "is not an http or https link"),
        ({"outcome": {"metric": "NPS", "before": "10"}}, "An outcome needs the metric"),
        ({"body": 5}, "Item 2 (“Second”): body must be text."),
        ({"attachments": "x"}, "attachments must be a list"),
    ],
)
def test_every_problem_is_listed_and_nothing_is_imported(app, org, ctx, changes, problem):
    publish_and_place(app, [org.pm_a1])
    with pytest.raises(RowErrors) as error:
        personal_data_import.import_items(person(org.pm_a1), bad_export(**changes))
    assert any(problem in line for line in error.value.errors), error.value.errors
    assert db.session.execute(select(Evidence)).first() is None


def test_a_file_of_another_kind_is_refused(app, org, ctx):
    publish_and_place(app, [org.pm_a1])
    with pytest.raises(RowErrors, match="nothing was imported") as error:
        personal_data_import.import_items(person(org.pm_a1), {"format": "something/else"})
    assert "not a Rungs personal data export" in error.value.errors[0]
    for content, message in [
        (b"{not json", "not valid JSON (line 1, column 2"),
        (b"\xff\xfe\x00", "neither a ZIP nor UTF-8 JSON"),
        (samples.plain_zip(), "has no rungs-export.json"),
        (b"[" * 100_000, "nested too deeply"),
    ]:
        with pytest.raises(RowErrors) as error:
            personal_data_import.import_upload(person(org.pm_a1), io.BytesIO(content))
        assert message in error.value.errors[0]


def test_someone_not_placed_is_told_to_ask_first(app, org, ctx):
    with pytest.raises(RowErrors) as error:
        personal_data_import.import_items(person(org.pm_a1), bad_export())
    assert "not placed on a level" in error.value.errors[0]


def zip_with(document: dict, files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export/rungs-export.json", json.dumps(document))
        for name, data in files.items():
            archive.writestr(f"export/{name}", data)
    return buffer.getvalue()


def listed_file(path: str, content: bytes, name: str = "chart.png") -> dict:
    """An attachment entry as the export writes it."""
    return {
        "name": name,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "path": path,
    }


def test_attachments_from_the_zip_pass_the_upload_checks(app, org, ctx):
    publish_and_place(app, [org.pm_a1])
    document = bad_export()
    listed = listed_file("attachments/1/chart.png", samples.HTML)
    document["evidence"][1]["attachments"] = [listed]
    for content, message in [
        (samples.HTML, "is named as a PNG image but its content is a web page"),
        (samples.image("PNG"), "not the file that was exported"),
        (samples.HTML.replace(b"<", b">"), "not the file that was exported"),  # same size
    ]:
        archive = zip_with(document, {"attachments/1/chart.png": content})
        with pytest.raises(RowErrors) as error:
            personal_data_import.import_upload(person(org.pm_a1), io.BytesIO(archive))
        assert message in error.value.errors[0]
    listed["path"] = "attachments/1/missing.png"
    with pytest.raises(RowErrors) as error:
        personal_data_import.import_upload(person(org.pm_a1), io.BytesIO(zip_with(document, {})))
    assert "missing from the ZIP" in error.value.errors[0]
    assert db.session.execute(select(Evidence)).first() is None


def test_a_zip_unpacked_and_zipped_again_in_a_folder_still_imports(app, org, ctx):
    publish_and_place(app, [org.pm_a1])
    document = bad_export()
    png = samples.image("PNG")
    document["evidence"][0]["attachments"] = [listed_file("attachments/9/chart.png", png)]
    archive = zip_with(document, {"attachments/9/chart.png": png})
    report = personal_data_import.import_upload(person(org.pm_a1), io.BytesIO(archive))
    assert report.attachments == 1
    stored = attachments.attachments_of(report.imported[0])
    assert storage.read(attachments.key_of(stored[0].stored_name)) == png
