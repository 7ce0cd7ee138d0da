"""Model store: skops artifacts round-trip, tampering and untrusted types are refused."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from adflux.ml.features import MultiHotEncoder
from adflux.ml.registry import (
    TRUSTED_TYPES,
    ArtifactError,
    ArtifactIntegrityError,
    LocalModelStore,
    ModelArtifact,
    ModelCache,
    UntrustedArtifactError,
    loads_artifact,
    open_model_store,
    portable_uri,
    sha256_hex,
)
from adflux.ml.training import TrainingResult


class NotTrusted(MultiHotEncoder):
    """A subclass nobody listed as trusted."""


@pytest.fixture
def artifact(trained: TrainingResult) -> ModelArtifact:
    return ModelArtifact(
        pipeline=trained.pipeline, metadata={"version": 1, "k": trained.k, "features": ["age"]}
    )


def test_saved_artifact_loads_back_and_predicts_the_same(
    tmp_path: Path, artifact: ModelArtifact, frame: pd.DataFrame, trained: TrainingResult
) -> None:
    store = open_model_store(str(tmp_path / "models"))
    stored = store.save(1, artifact)
    # Stored relative to the store: the artifact's file name.
    assert stored.uri == f"segmentation-v00001-{stored.sha256[:12]}.skops"
    assert stored.sha256 == sha256_hex((tmp_path / "models" / stored.uri).read_bytes())
    loaded = store.load(stored.uri, sha256=stored.sha256)
    predicted = loaded.pipeline.predict(frame)
    # Bit-for-bit the same model: the same predictions as the pipeline that was saved.
    np.testing.assert_array_equal(predicted, trained.pipeline.predict(frame))
    # And the training labels, except a point on a float32 boundary between two centres (the fit's
    # last assignment and predict() may round a tie differently): at most 0.1 % of rows.
    assert np.mean(predicted != trained.labels) <= 0.001
    assert loaded.metadata["k"] == trained.k
    assert "scikit-learn" in loaded.metadata["library_versions"]
    # The artifact does not carry a copy of every training label, and saving did not strip ours.
    assert not hasattr(loaded.pipeline[-1], "labels_")
    assert hasattr(trained.pipeline[-1], "labels_")


def test_a_tampered_artifact_is_refused(tmp_path: Path, artifact: ModelArtifact) -> None:
    store = LocalModelStore(tmp_path)
    stored = store.save(2, artifact)
    path = tmp_path / stored.uri
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError):
        store.load(stored.uri, sha256=stored.sha256)


def test_an_artifact_with_untrusted_types_is_refused_even_with_the_right_sha256(
    artifact: ModelArtifact,
) -> None:
    data = sio.dumps(
        {"format": 1, "pipeline": artifact.pipeline, "pca": None, "metadata": "{}", "x": NotTrusted()}
    )
    with pytest.raises(UntrustedArtifactError, match="NotTrusted"):
        loads_artifact(data, sha256=sha256_hex(data))


def test_trusted_types_are_listed_explicitly() -> None:
    assert "adflux.ml.features.MultiHotEncoder" in TRUSTED_TYPES
    assert all("." in name and "*" not in name for name in TRUSTED_TYPES)


def test_garbage_is_not_an_artifact(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError):
        loads_artifact(b"not a zip", sha256=None)
    empty = tmp_path / "x.zip"
    with zipfile.ZipFile(empty, "w"):
        pass
    with pytest.raises(ArtifactError):
        loads_artifact(empty.read_bytes(), sha256=None)


def test_store_locations_are_paths_or_file_urls(tmp_path: Path) -> None:
    assert isinstance(open_model_store(tmp_path.as_uri()), LocalModelStore)
    assert open_model_store(tmp_path.as_uri()).root == tmp_path.resolve()
    with pytest.raises(ValueError, match="unsupported model store scheme 's3'"):
        open_model_store("s3://bucket/models")


def test_store_only_reads_its_own_folder(tmp_path: Path) -> None:
    store = LocalModelStore(tmp_path / "models")
    outside = tmp_path / "secret.skops"
    outside.write_bytes(b"x")
    with pytest.raises(ArtifactError, match="outside the model store"):
        store.read_bytes(outside.as_uri())
    with pytest.raises(ArtifactError, match="not found"):
        store.read_bytes((tmp_path / "models" / "missing.skops").as_uri())
    for name in ("../secret.skops", "sub/x.skops", "..", str(outside)):
        with pytest.raises(ArtifactError, match="outside the model store"):
            store.read_bytes(name)


def test_moving_the_store_keeps_every_version_loadable(
    tmp_path: Path, artifact: ModelArtifact, frame: pd.DataFrame
) -> None:
    old = LocalModelStore(tmp_path / "old")
    relative = old.save(1, artifact)
    legacy = old.save(2, artifact)
    # A version recorded before artifacts were store-relative: its absolute file:// URI.
    legacy_uri = (tmp_path / "old" / legacy.uri).as_uri()
    assert portable_uri(legacy_uri) == legacy.uri and portable_uri("s3://b/m.skops") == "s3://b/m.skops"
    (tmp_path / "old").rename(tmp_path / "restored")
    moved = open_model_store(str(tmp_path / "restored"))
    expected = artifact.pipeline.predict(frame.head(50))
    for uri, sha in ((relative.uri, relative.sha256), (legacy_uri, legacy.sha256)):
        np.testing.assert_array_equal(moved.load(uri, sha256=sha).pipeline.predict(frame.head(50)), expected)
    with pytest.raises(ArtifactError, match="not found"):
        old.load(relative.uri, sha256=relative.sha256)


def test_cache_loads_each_version_once_and_evicts_the_oldest(artifact: ModelArtifact) -> None:
    cache = ModelCache(maxsize=2)
    loads: list[int] = []

    def loader(version: int):
        return lambda: loads.append(version) or artifact

    for version in (1, 1, 2, 1, 3, 2):
        cache.get(version, loader(version))
    assert loads == [1, 2, 3, 2]
    assert 1 not in cache and 3 in cache and len(cache) == 2
    cache.clear()
    assert len(cache) == 0


def test_skops_is_imported_on_first_use_by_the_app_and_at_start_by_workers() -> None:
    # skops.io imports every scikit-learn module (~1 s): the CLI and the web app must not pay it
    # at start, a Celery worker does (`warm_up`) so that no task pays it.
    code = (
        "import sys; import adflux.app, adflux.cli; before = 'skops.io' in sys.modules; "
        "from adflux.ml import warm_up; warm_up(); print(before, 'skops.io' in sys.modules)"
    )
    command = [sys.executable, "-c", code]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.split() == ["False", "True"]
