"""Configuration is checked at start: a value that cannot be read stops the app with a message
naming the variable and the problem; placeholder keys are refused; the database in use is
printed (without its password), with a loud warning when PostgreSQL was meant."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker import create_app
from tracker.config import ConfigError, database_notice, parse_env_value

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "3f6c1e0b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A clean TRACKER_* environment with its own instance folder; returns monkeypatch.setenv."""
    for name in list(os.environ):
        if name.startswith(("TRACKER_", "PG")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))
    return monkeypatch.setenv


def refused(**config) -> str:
    if "TRACKER_DATABASE_URL" not in os.environ:
        config.setdefault("SQLALCHEMY_DATABASE_URI", "sqlite://")
    with pytest.raises(ConfigError) as error:
        create_app(config)
    return str(error.value)


def test_an_inline_comment_in_the_proxy_count_stops_the_app_and_says_why(env):
    env("TRACKER_PROXY_COUNT", "1               # one reverse proxy in front (nginx)")
    message = refused()
    assert "TRACKER_PROXY_COUNT" in message and "inline comment" in message


def test_an_inline_comment_after_a_boolean_is_not_read_as_false(env):
    env("TRACKER_SECURE_COOKIES", "1            # cookies only over HTTPS")
    assert "TRACKER_SECURE_COOKIES" in refused()


@pytest.mark.parametrize("raw", ["two", "1.5", "", " 1"])
def test_a_proxy_count_that_is_not_a_whole_number_is_refused(raw):
    if raw == "":  # an empty value means "unset" in the environment, so test the parser's rule
        raw = "x"
    with pytest.raises(ConfigError, match="TRACKER_PROXY_COUNT"):
        parse_env_value("PROXY_COUNT", raw, "TRACKER_PROXY_COUNT")


def test_a_negative_proxy_count_is_refused(env):
    env("TRACKER_PROXY_COUNT", "-1")
    assert "TRACKER_PROXY_COUNT" in refused() and "too small" in refused()


@pytest.mark.parametrize("raw, value", [("1", True), ("true", True), ("YES", True), ("on", True),
                                        ("0", False), ("false", False), ("No", False), ("off", False)])
def test_booleans_take_the_usual_words(env, raw, value):
    env("TRACKER_DEMO_ACCOUNTS", raw)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    assert app.config["DEMO_ACCOUNTS"] is value


@pytest.mark.parametrize("raw", ["ture", "2", "enabled", "y e s"])
def test_a_boolean_that_is_not_one_of_the_words_is_refused(env, raw):
    env("TRACKER_SECURE_COOKIES", raw)
    message = refused()
    assert "TRACKER_SECURE_COOKIES" in message and "1/0, true/false, yes/no, on/off" in message


@pytest.mark.parametrize("key", ["...", "changeme", "CHANGE-ME", "change_me", "<your secret key>", "xxxxxxxx",
                                 "please-change-this"])
def test_placeholder_secret_keys_are_refused(env, key):
    env("TRACKER_SECRET_KEY", key)
    message = refused()
    assert "TRACKER_SECRET_KEY" in message and "placeholder" in message


def test_a_short_secret_key_is_refused_on_a_real_server_only(env):
    env("TRACKER_SECRET_KEY", "short-but-chosen")
    env("TRACKER_SECURE_COOKIES", "1")
    assert "at least 32" in refused()
    env("TRACKER_SECURE_COOKIES", "0")
    env("TRACKER_DEMO_ACCOUNTS", "0")
    assert "at least 32" in refused()
    env("TRACKER_SECRET_KEY", GOOD_KEY)
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"] == GOOD_KEY


def test_values_from_instance_config_are_checked_too(env, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('PROXY_COUNT = "1"\n')
    message = refused()
    assert "TRACKER_PROXY_COUNT" in message and "whole number" in message


def test_session_protection_must_be_a_known_mode(env):
    env("TRACKER_SESSION_PROTECTION", "strict")
    assert "TRACKER_SESSION_PROTECTION" in refused()


@pytest.mark.parametrize("url", ["postgresql+psycopg://tracker:p@ss@127.0.0.1/tracker",
                                 "postgresql+psycopg://tracker:secret@127.0.0.1:port/tracker",
                                 "mysql://tracker@127.0.0.1/tracker"])
def test_a_database_url_that_does_not_say_what_was_meant_is_refused(env, url):
    env("TRACKER_DATABASE_URL", url)
    message = refused()
    assert "TRACKER_DATABASE_URL" in message


def test_a_percent_encoded_password_is_accepted_and_decoded(env):
    env("TRACKER_DATABASE_URL", "postgresql+psycopg://tracker:p%40ss%2Fw%23rd@127.0.0.1:5432/tracker")
    app = create_app({"TESTING": True})
    from sqlalchemy.engine import make_url

    assert make_url(app.config["SQLALCHEMY_DATABASE_URI"]).password == "p@ss/w#rd"


def test_the_notice_hides_the_password():
    line, warning = database_notice("postgresql+psycopg://tracker:s3cret@db.example.org/tracker", environ={})
    assert "s3cret" not in line and "***" in line and "db.example.org/tracker" in line and warning is None


@pytest.mark.parametrize("environ", [{"TRACKER_DATABASE_URL": ""}, {"TRACKER_DATABASE_URL": "  "},
                                     {"PGHOST": "127.0.0.1"}, {"PGDATABASE": "tracker", "PGUSER": "tracker"},
                                     {"DATABASE_URL": "postgresql://tracker@127.0.0.1/tracker"}])
def test_a_postgresql_environment_falling_back_to_sqlite_is_warned_about(environ):
    _line, warning = database_notice("sqlite:////srv/tracker/instance/tracker.sqlite3", environ=environ)
    assert warning is not None and "WARNING" in warning and "SQLite" in warning


def test_plain_sqlite_is_not_warned_about():
    assert database_notice("sqlite:////srv/tracker/instance/tracker.sqlite3", environ={})[1] is None


def _cli(tmp_path, extra_env: dict, *args: str) -> subprocess.CompletedProcess:
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith(("TRACKER_", "PG")) and name != "DATABASE_URL"}
    environ.update({"TRACKER_INSTANCE_PATH": str(tmp_path / "instance")}, **extra_env)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "tracker", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


def test_the_cli_prints_the_database_it_uses_and_warns_when_postgresql_was_meant(tmp_path):
    result = _cli(tmp_path, {"TRACKER_DATABASE_URL": "", "PGHOST": "127.0.0.1"}, "routes")
    assert result.returncode == 0, result.stderr
    assert "Results tracker: database sqlite:///" in result.stderr
    assert "WARNING" in result.stderr and "TRACKER_DATABASE_URL is set but empty" in result.stderr
    hidden = _cli(tmp_path, {"TRACKER_DATABASE_URL": "postgresql+psycopg://tracker:s3cret@127.0.0.1:9/tracker"},
                  "routes")
    assert "database postgresql+psycopg://tracker:***@127.0.0.1:9/tracker" in hidden.stderr
    assert "s3cret" not in hidden.stderr + hidden.stdout and "WARNING" not in hidden.stderr


def test_the_cli_stops_on_a_value_it_cannot_read(tmp_path):
    result = _cli(tmp_path, {"TRACKER_PROXY_COUNT": "1   # one proxy"}, "routes")
    assert result.returncode != 0
    assert "configuration error: TRACKER_PROXY_COUNT=" in result.stderr and "inline comment" in result.stderr
