"""The stored model versions: the active one, one by number, its artifact, and the writers' lock.

Every other module of the package finds versions through here. One writer of versions and
assignments at a time (a training, an activation) holds `writers_lock()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select

from adflux._lazy import lazy_module
from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import SegmentationModel
from adflux.services.errors import NotFound, ServiceUnavailable
from adflux.services.locks import try_lock
from adflux.settings import current_settings

if TYPE_CHECKING:
    from adflux.ml.registry import ModelArtifact, ModelStore

ml_registry = lazy_module("adflux.ml.registry")

logger = logging.getLogger(__name__)

_TRAINING_LOCK_KEY = 1


@contextmanager
def writers_lock() -> Iterator[bool]:
    """Yield True if this process may now write versions and assignments, False if another is."""
    with try_lock("training", _TRAINING_LOCK_KEY) as acquired:
        yield acquired


def active_model() -> SegmentationModel | None:
    """The active model version, if any."""
    return db.session.scalar(
        select(SegmentationModel)
        .where(SegmentationModel.status == "active")
        .order_by(SegmentationModel.version.desc())
    )


def require_active_model() -> SegmentationModel:
    """The active model version, or NotFound."""
    model = active_model()
    if model is None:
        raise NotFound(_("There is no active segmentation model yet; train one first"))
    return model


def model_by_version(version: int) -> SegmentationModel:
    """One model version, or NotFound."""
    model = db.session.scalar(select(SegmentationModel).where(SegmentationModel.version == version))
    if model is None:
        raise NotFound(_("Segmentation model version %(version)s does not exist", version=version))
    return model


def model_store() -> ModelStore:
    """The configured model store."""
    return ml_registry.open_model_store(current_settings().model_store_path)


def load_artifact(model: SegmentationModel) -> ModelArtifact:
    """The version's artifact from the per-process cache, loading (and verifying) it on a miss."""
    return artifact_loader(model)()


def artifact_loader(model: SegmentationModel) -> Callable[[], ModelArtifact]:
    """`load_artifact` of `model` as a call that needs neither the app nor the session (for a
    worker thread): the store and the model's columns are read now."""
    store, version, uri, sha256 = model_store(), model.version, model.artifact_uri, model.artifact_sha256

    def load() -> ModelArtifact:
        try:
            return store.load(uri, sha256=sha256)
        except ml_registry.ArtifactError as exc:
            logger.error("segmentation artifact v%d unusable: %s", version, exc)
            raise ServiceUnavailable(
                _(
                    "The artifact of model version %(version)s cannot be used: %(exc)s",
                    version=version,
                    exc=exc,
                )
            ) from exc

    return lambda: ml_registry.model_cache.get((version, sha256), load)


def reference_year(model: SegmentationModel) -> int:
    """The year ages are computed as of: the training year, so a version keeps assigning as trained."""
    year = (model.data_window or {}).get("reference_year")
    return int(year) if year else datetime.now(UTC).year


def model_snapshot(model: SegmentationModel | None) -> dict[str, Any] | None:
    """What the audit log records of a version."""
    if model is None:
        return None
    return {"version": model.version, "status": model.status, "k": model.k, "silhouette": model.silhouette}


def json_safe(value: Any) -> Any:
    """JSON columns refuse NaN on PostgreSQL and numpy scalars everywhere: make plain values."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
