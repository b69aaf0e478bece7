"""The command line: the demo organisation and the people commands."""

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app import demo
from app.extensions import db
from app.models import Framework, FrameworkVersion, Level, Role, User, VersionStatus
from tests.framework_samples import framework_yaml


def count(app, *where) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(User).where(*where)).scalar_one()


def test_demo_load_creates_a_realistic_organisation(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Loaded the demo organisation (17 people added)." in result.output
    assert f"password for all: {demo.DEMO_PASSWORD}" in result.output
    assert "maya@orbit.example.com" in result.output
    assert count(app, User.role == Role.HEAD) == 1
    assert count(app, User.role == Role.MANAGER) == 3
    assert count(app, User.role == Role.PM) >= 12
    with app.app_context():
        team_sizes = (
            db.session.execute(
                select(func.count(User.id))
                .join(User.manager.of_type(aliased_manager := aliased(User)))
                .where(aliased_manager.role == Role.MANAGER)
                .group_by(User.manager_id)
            )
            .scalars()
            .all()
        )
        mentors = db.session.execute(
            select(func.count()).select_from(User).where(User.mentees.any())
        ).scalar_one()
    assert len(team_sizes) == 3 and min(team_sizes) >= 4  # every manager leads a team
    assert mentors >= 1


def test_demo_load_publishes_the_shipped_frameworks_and_places_people(app):
    app.test_cli_runner().invoke(args=["demo", "load"])
    with app.app_context():
        placed = dict(
            db.session.execute(
                select(User.email, Level.code).join(Level, User.level_id == Level.id)
            ).all()
        )
        published = (
            db.session.execute(
                select(Framework.slug)
                .join(FrameworkVersion)
                .where(FrameworkVersion.status == VersionStatus.PUBLISHED)
                .order_by(Framework.slug)
            )
            .scalars()
            .all()
        )
    assert published == ["product-leadership", "product-management"]
    assert len(placed) == 17
    assert placed["maya@orbit.example.com"] == "CPO"
    assert placed["lena@orbit.example.com"] == "SPM"
    assert {"APM", "PM", "SPM", "GPM", "DIR"} <= set(placed.values())


def test_demo_sign_ins_work(app, client):
    app.test_cli_runner().invoke(args=["demo", "load"])
    response = client.post_form(
        "/login", {"email": "maya@orbit.example.com", "password": demo.DEMO_PASSWORD}
    )
    assert response.status_code == 302


def test_demo_load_refuses_a_database_with_people(app, make):
    make.person(name="Already Here")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "The database already has people. Use --force" in result.output
    assert count(app) == 1


def test_demo_load_if_empty_is_a_quiet_no_op(app, make):
    make.person(name="Already Here")
    result = app.test_cli_runner().invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0
    assert "demo organisation was not loaded" in result.output
    assert count(app) == 1


def test_demo_load_force_adds_missing_people_and_changes_nobody(app, make):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load"])
    with app.app_context():
        lena = db.session.execute(
            select(User).where(User.email == "lena@orbit.example.com")
        ).scalar_one()
        lena.name = "Lena Renamed"
        db.session.commit()
    make.person(name="Someone Else")
    result = runner.invoke(args=["demo", "load", "--force"])
    assert result.exit_code == 0
    assert "(0 people added)" in result.output
    assert count(app) == 18
    assert count(app, User.name == "Lena Renamed") == 1


def test_people_import_from_the_command_line(app, tmp_path, make):
    make.person(name="Boss", role=Role.MANAGER, email="boss@example.com")
    good = tmp_path / "good.csv"
    good.write_text("email,name,role,manager_email\nq@example.com,Quinn,pm,boss@example.com\n")
    result = app.test_cli_runner().invoke(args=["people", "import", str(good)])
    assert result.exit_code == 0 and "Imported 1 people." in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name,role,manager_email\nr@example.com,Rae,pm,\nq@example.com,Q,pm,\n")
    result = app.test_cli_runner().invoke(args=["people", "import", str(bad)])
    assert result.exit_code == 1
    assert "Line 3: Quinn already uses q@example.com." in result.output
    assert count(app, User.email == "r@example.com") == 0


def test_password_link_from_the_command_line(app, client, make):
    person = make.person(name="Linda", password=None)
    result = app.test_cli_runner().invoke(
        args=["people", "password-link", person.email, "--base-url", "https://rungs.example"]
    )
    assert result.exit_code == 0, result.output
    link = result.output.strip()
    assert link.startswith("https://rungs.example/password/")
    assert client.get(link.removeprefix("https://rungs.example")).status_code == 200
    missing = app.test_cli_runner().invoke(args=["people", "password-link", "no@example.com"])
    assert missing.exit_code == 1 and "Nobody in Rungs uses no@example.com." in missing.output


def versions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FrameworkVersion))


def test_framework_import_of_the_same_file_twice_adds_no_draft(app, tmp_path):
    runner = app.test_cli_runner()
    ladder = tmp_path / "ladder.yaml"
    ladder.write_text(framework_yaml())
    first = runner.invoke(args=["frameworks", "import", str(ladder), "--publish"])
    assert first.exit_code == 0 and "Imported Sample as version 1 (published)." in first.output
    exported = tmp_path / "ladder.csv"
    runner.invoke(args=["frameworks", "export", "sample", "--format", "csv", "-o", str(exported)])
    again = runner.invoke(args=["frameworks", "import", str(exported)])
    assert again.exit_code == 0, again.output
    assert (
        f"{exported} is identical to version 1 of Sample (published), so no new draft was made."
        in again.output
    )
    assert versions(app) == 1


def test_framework_csv_with_a_nul_byte_is_refused_with_its_line(app, tmp_path):
    ladder = tmp_path / "ladder.csv"
    ladder.write_text("track,level_code\nIC,P\x00M\n")
    result = app.test_cli_runner().invoke(args=["frameworks", "import", str(ladder)])
    assert result.exit_code == 1
    nul = "contains a control character (U+0000 at character 5); remove it (line 2)"
    assert nul in result.output
    assert versions(app) == 0
