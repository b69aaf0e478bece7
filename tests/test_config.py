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


def test_fairness_min_group_defaults_to_three():
    assert config.load({})["FAIRNESS_MIN_GROUP"] == 3


@pytest.mark.parametrize(("value", "expected"), [("5", 5), (" 2 ", 2), ("1", 1)])
def test_fairness_min_group_comes_from_the_environment(value, expected):
    settings = config.load({"RUNGS_FAIRNESS_MIN_GROUP": value})
    assert settings["FAIRNESS_MIN_GROUP"] == expected


@pytest.mark.parametrize("value", ["0", "-2", "three", "2.5", "²"])
def test_fairness_min_group_must_be_a_whole_number_of_at_least_one(value):
    with pytest.raises(config.ConfigError) as refused:
        config.load({"RUNGS_FAIRNESS_MIN_GROUP": value})
    assert str(refused.value) == (
        f"RUNGS_FAIRNESS_MIN_GROUP must be a whole number of at least 1, not {value!r}"
    )


def test_an_app_refuses_to_start_with_a_bad_fairness_min_group():
    with pytest.raises(config.ConfigError, match="RUNGS_FAIRNESS_MIN_GROUP"):
        create_app(environ={"RUNGS_FAIRNESS_MIN_GROUP": "none"})


def test_job_limits_have_defaults():
    settings = config.load({})
    assert (settings["JOB_CONCURRENCY"], settings["JOB_TIME_LIMIT"]) == (1, 120)
    assert settings["JOB_MEMORY_LIMIT_MB"] == 1024
    assert settings["REDIS_URL"] is None


def test_job_limits_come_from_the_environment():
    settings = config.load(
        {
            "RUNGS_JOB_CONCURRENCY": "3",
            "RUNGS_JOB_TIME_LIMIT": "30",
            "RUNGS_JOB_MEMORY_LIMIT_MB": "512",
            "REDIS_URL": "redis://queue:6379/0",
        }
    )
    assert (settings["JOB_CONCURRENCY"], settings["JOB_TIME_LIMIT"]) == (3, 30)
    assert settings["JOB_MEMORY_LIMIT_MB"] == 512
    assert settings["REDIS_URL"] == "redis://queue:6379/0"


@pytest.mark.parametrize(
    "variable", ["RUNGS_JOB_CONCURRENCY", "RUNGS_JOB_TIME_LIMIT", "RUNGS_JOB_MEMORY_LIMIT_MB"]
)
@pytest.mark.parametrize("value", ["0", "-1", "2 minutes", "1.5"])
def test_job_limits_must_be_whole_numbers_of_at_least_one(variable, value):
    with pytest.raises(config.ConfigError) as refused:
        config.load({variable: value})
    assert str(refused.value) == f"{variable} must be a whole number of at least 1, not {value!r}"


def test_what_one_personal_data_import_may_store_comes_from_the_environment():
    defaults = config.load({})
    assert defaults["PERSONAL_DATA_IMPORT_MAX_FILES"] == 2_000
    assert defaults["PERSONAL_DATA_IMPORT_MAX_STORED_BYTES"] == 1024**3
    settings = config.load(
        {"PERSONAL_DATA_IMPORT_MAX_FILES": "50", "PERSONAL_DATA_IMPORT_MAX_STORED_BYTES": "4096"}
    )
    assert settings["PERSONAL_DATA_IMPORT_MAX_FILES"] == 50
    assert settings["PERSONAL_DATA_IMPORT_MAX_STORED_BYTES"] == 4096
    for variable in ("PERSONAL_DATA_IMPORT_MAX_FILES", "PERSONAL_DATA_IMPORT_MAX_STORED_BYTES"):
        with pytest.raises(config.ConfigError, match=variable):
            config.load({variable: "0"})


def test_the_job_queue_defaults_to_rungs_and_comes_from_the_environment():
    # An RQ worker's job processes submit jobs too (a cycle export's packets): to its own queue.
    assert config.load({})["JOB_QUEUE"] == "rungs"
    assert config.load({"RUNGS_JOB_QUEUE": " rungs-eu "})["JOB_QUEUE"] == "rungs-eu"
    assert config.load({"RUNGS_JOB_QUEUE": "  "})["JOB_QUEUE"] == "rungs"


def test_trusted_proxies_default_to_none_and_come_from_the_environment():
    assert config.load({})["TRUSTED_PROXIES"] == 0
    assert config.load({"RUNGS_TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
    assert config.load({"RUNGS_TRUSTED_PROXIES": "0"})["TRUSTED_PROXIES"] == 0


@pytest.mark.parametrize("value", ["-1", "yes", "1.5"])
def test_trusted_proxies_must_be_a_whole_number(value):
    with pytest.raises(config.ConfigError) as refused:
        config.load({"RUNGS_TRUSTED_PROXIES": value})
    assert str(refused.value) == (
        f"RUNGS_TRUSTED_PROXIES must be a whole number of at least 0, not {value!r}"
    )
