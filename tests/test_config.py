"""Configuration from the environment, and an app factory without side effects."""

import pytest

import config
from app import create_app


def test_defaults_to_sqlite_under_the_data_dir(tmp_path):
    settings = config.load({"RUNGS_DATA_DIR": str(tmp_path / "data")})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'data' / 'rungs.db'}"
    assert settings["ENV_NAME"] == "development"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_database_url_goes_through_psycopg3(scheme):
    settings = config.load({"DATABASE_URL": f"{scheme}://rungs:pw@db:5432/rungs"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://rungs:pw@db:5432/rungs"


@pytest.mark.parametrize("secret", [None, "", config.INSECURE_SECRET_KEY, "too-short"])
def test_production_refuses_to_start_without_a_real_secret_key(secret):
    environ = {"RUNGS_ENV": "production"}
    if secret is not None:
        environ["SECRET_KEY"] = secret
    with pytest.raises(config.ConfigError, match="SECRET_KEY must be set"):
        create_app(environ=environ)


def test_production_starts_with_a_real_secret_key(tmp_path):
    app = create_app(
        environ={"RUNGS_ENV": "production", "SECRET_KEY": "s" * 48, "RUNGS_DATA_DIR": str(tmp_path)}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_unknown_environment_name_is_refused():
    with pytest.raises(config.ConfigError, match="RUNGS_ENV='staging' is not one of"):
        config.load({"RUNGS_ENV": "staging"})


def test_creating_the_app_touches_nothing(tmp_path):
    data_dir = tmp_path / "not-yet"
    create_app(environ={"RUNGS_DATA_DIR": str(data_dir)})
    assert not data_dir.exists()


def test_templates_come_from_the_top_level_folder():
    app = create_app(environ={})
    assert app.template_folder.endswith("/templates")
    assert app.jinja_loader.searchpath[0] == app.template_folder
