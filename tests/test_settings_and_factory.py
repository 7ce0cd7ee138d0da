"""Settings come from the environment and are checked before anything starts."""

from __future__ import annotations

import pytest
from flask import Flask

from adflux.app import create_app
from adflux.settings import DEVELOPMENT_SECRET_KEY, Settings, SettingsError


def test_database_url_defaults_to_sqlite_under_instance(tmp_path):
    settings = Settings.from_env({}, instance_path=str(tmp_path))
    assert settings.database_uri == f"sqlite:///{tmp_path / 'adflux.db'}"


def test_postgres_urls_use_psycopg3():
    settings = Settings.from_env({"DATABASE_URL": "postgres://u@h/db"})
    assert settings.database_uri == "postgresql+psycopg://u@h/db"


def test_values_are_typed_and_bad_ones_named():
    assert Settings.from_env({"ADFLUX_API_MAX_PAGE_SIZE": "50"}).api_max_page_size == 50
    with pytest.raises(SettingsError, match="ADFLUX_API_MAX_PAGE_SIZE"):
        Settings.from_env({"ADFLUX_API_MAX_PAGE_SIZE": "many"})
    with pytest.raises(SettingsError, match="ADFLUX_DATABASE_ECHO"):
        Settings.from_env({"ADFLUX_DATABASE_ECHO": "maybe"})


def test_production_refuses_the_default_secret_key(tmp_path):
    settings = Settings.from_env({"ADFLUX_ENV": "production"}, instance_path=str(tmp_path))
    assert settings.secret_key == DEVELOPMENT_SECRET_KEY
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        create_app(settings)


def test_creating_the_app_connects_to_nothing(tmp_path):
    # An unreachable database and broker must not matter until something is used.
    settings = Settings.from_env(
        {},
        env="testing",
        database_url="postgresql://nobody@127.0.0.1:1/none",
        celery_broker_url="redis://127.0.0.1:1/0",
        instance_path=str(tmp_path),
    )
    app = create_app(settings)
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.extensions["celery"].conf.task_always_eager is False


def test_without_a_broker_tasks_run_inline(app):
    assert app.extensions["celery"].conf.task_always_eager is True


def test_hooks_are_checked_for_coroutines_once_and_the_memory_of_them_is_bounded(settings, monkeypatch):
    from adflux import app as app_module

    served = create_app(settings)
    assert isinstance(served, app_module.AdFluxFlask)
    asked: list[object] = []
    original = Flask.ensure_sync

    def counting(self: Flask, func: object) -> object:
        asked.append(func)
        return original(self, func)  # type: ignore[arg-type]

    monkeypatch.setattr(Flask, "ensure_sync", counting)

    def hook() -> None:
        return None

    assert served.ensure_sync(hook) is hook and served.ensure_sync(hook) is hook
    assert asked == [hook]  # the second answer came from memory

    class View:
        def get(self) -> None:
            return None

    bound = View().get
    assert served.ensure_sync(bound) == bound and served.ensure_sync(bound) == bound
    assert asked == [hook, bound, bound]  # bound methods (new per request) are not kept
    monkeypatch.setattr(app_module, "SYNC_FUNCTIONS_KEPT", len(served._sync_functions))
    late = lambda: None  # noqa: E731 - a function made after the memory is full
    served.ensure_sync(late)
    assert late not in served._sync_functions
    with served.test_client() as client:  # requests still run through the kept hooks
        assert client.get("/healthz").status_code == 200


def test_a_database_url_that_is_not_one_is_named(tmp_path):
    settings = Settings.from_env({"DATABASE_URL": "garbage-url"}, instance_path=str(tmp_path))
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        settings.validate()
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        create_app(settings)
