"""What a CSV round trip keeps: each shipped framework is imported, exported as CSV (as the
download button does), read back, and compared with the original, part by part.

    PYTHONPATH=. .venv/bin/python bench/framework_csv_round_trip.py

Runs on a throw-away SQLite database; prints one line per framework.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import FrameworkVersion  # noqa: E402
from app.policy import SYSTEM  # noqa: E402
from app.services.frameworks import files, store  # noqa: E402


def compare(before, after) -> dict[str, str]:
    old = [c.key for *_, c in before.competencies()]
    new = [c.key for *_, c in after.competencies()]
    levels = [(a, b) for (_, a), (_, b) in zip(before.levels(), after.levels(), strict=False)]
    fields = ("summary", "scope", "typical_experience")
    tracks = list(zip(before.tracks, after.tracks, strict=False))
    dropped = sum(bool(getattr(a, f)) and not getattr(b, f) for a, b in levels for f in fields)
    rights = sum(len(a.decision_rights) - len(b.decision_rights) for a, b in levels)
    return {
        "competency keys changed": f"{sum(x != y for x, y in zip(old, new, strict=False))}"
        f"/{len(old)}",
        "track keys changed": f"{sum(a.key != b.key for a, b in tracks)}/{len(before.tracks)}",
        "level fields dropped": f"{dropped}",
        "decision rights dropped": f"{rights}",
        "name kept": str(before.name == after.name),
        "slug kept": str(before.slug == after.slug),
        "documents equal": str(before == after),
    }


def fresh_app(uri: str, data_dir: str):
    app = create_app(
        {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": uri, "RUNGS_DATA_DIR": data_dir},
        environ={},
    )
    with app.app_context():
        upgrade()
    return app


def main() -> None:
    """Export from one database, import into an empty one (nothing to match or dedupe against),
    export again; then import the CSV once more into the first, where it is identical."""
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted((ROOT / "frameworks").glob("*.yaml")):
            first = fresh_app(f"sqlite:///{tmp}/{path.stem}-1.db", tmp)
            second = fresh_app(f"sqlite:///{tmp}/{path.stem}-2.db", tmp)
            with first.app_context():
                version = files.import_text(SYSTEM, path.read_text(), "yaml", publish=True)[0]
                original = store.to_document(store.load_version(version.id))
                exported = files.export(version.id, "csv")
                exported_yaml = files.export(version.id, "yaml")
                filename = f"{original.slug}-v{version.number}.csv"
                db.session.commit()
            with second.app_context():
                again = files.import_text(SYSTEM, exported, "csv", filename=filename)[0]
                result = compare(original, store.to_document(store.load_version(again.id)))
                result["CSV export again identical"] = str(
                    files.export(again.id, "csv") == exported
                )
                result["YAML export identical"] = str(
                    files.export(again.id, "yaml") == exported_yaml
                )
                db.session.commit()
            with first.app_context():
                files.import_text(SYSTEM, exported, "csv", filename=filename)
                count = select(func.count()).select_from(FrameworkVersion)
                result["versions after importing it where it came from"] = str(
                    db.session.scalar(count)
                )
                db.session.commit()
            for app in (first, second):
                with app.app_context():
                    db.engine.dispose()
            print(path.name + ": " + "; ".join(f"{k} {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
