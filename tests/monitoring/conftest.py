"""Monitoring tests build extra apps (dead databases, brokers); keep the suite's Celery app current."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _restore_current_celery_app() -> Iterator[None]:
    # create_app makes its Celery app the process default; shared tasks sent later by other tests
    # must not go to a throwaway app's dead broker or database.
    from celery import _state

    before = _state.get_current_app()
    yield
    before.set_default()
