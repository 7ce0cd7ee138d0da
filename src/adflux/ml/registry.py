"""Model store: one skops artifact per segmentation version, with its sha256, and a per-process cache.

skops, not pickle: loading a pickle runs arbitrary code. skops only rebuilds types it is told to
trust, and we list those explicitly (`TRUSTED_TYPES`) instead of trusting whatever the file
names. The sha256 recorded at save time is checked before the bytes are even parsed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlparse

from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline

from adflux._lazy import lazy_module
from adflux.ml.training import library_versions

# skops.io imports every scikit-learn module to list the types it trusts (~1 s of CPU): on first
# save or load, not when the app starts (a training saves while its assignments are written).
sio = lazy_module("skops.io")

logger = logging.getLogger(__name__)

ARTIFACT_FORMAT = 1
# Everything in an artifact beyond what skops trusts by default (scikit-learn, numpy arrays,
# builtins): our transformers and the float32 dtype object they are configured with.
TRUSTED_TYPES: tuple[str, ...] = (
    "adflux.ml.features.MultiHotEncoder",
    "adflux.ml.feature_matrix.CandidateFeatures",
    "adflux.ml.pipeline.Float32Cast",
    "numpy.dtype",
)


class ArtifactError(Exception):
    """An artifact is missing, altered or not what a segmentation artifact should be."""


class ArtifactIntegrityError(ArtifactError):
    """The artifact's bytes do not match the sha256 recorded when it was saved."""


class UntrustedArtifactError(ArtifactError):
    """The artifact asks to rebuild types we do not trust."""


@dataclass
class ModelArtifact:
    """What one version stores: the fitted pipeline, its PCA plane and JSON-able metadata."""

    pipeline: Pipeline
    metadata: dict[str, Any] = field(default_factory=dict)
    pca: PCA | None = None


@dataclass(frozen=True)
class StoredArtifact:
    """Where an artifact went and the sha256 of its bytes."""

    uri: str
    sha256: str
    size: int


def dumps_artifact(artifact: ModelArtifact) -> bytes:
    """Serialise an artifact to skops bytes."""
    payload = {
        "format": ARTIFACT_FORMAT,
        "pipeline": _without_training_labels(artifact.pipeline),
        "pca": artifact.pca,
        # JSON text keeps the metadata a plain string to skops, whatever it holds.
        "metadata": json.dumps({**artifact.metadata, "library_versions": library_versions()}, default=_json),
    }
    return sio.dumps(payload)


def loads_artifact(data: bytes, *, sha256: str | None) -> ModelArtifact:
    """Check the bytes against `sha256` and the trusted-type list, then rebuild the artifact."""
    if sha256 is not None:
        actual = sha256_hex(data)
        if actual != sha256.lower():
            raise ArtifactIntegrityError(f"artifact sha256 is {actual}, expected {sha256}")
    try:
        untrusted = set(sio.get_untrusted_types(data=data))
    except Exception as exc:  # a corrupt zip, a foreign file
        raise ArtifactError(f"not a skops artifact: {exc}") from exc
    unexpected = sorted(untrusted - set(TRUSTED_TYPES))
    if unexpected:
        raise UntrustedArtifactError(f"artifact contains untrusted types: {', '.join(unexpected)}")
    payload = sio.loads(data, trusted=list(TRUSTED_TYPES))
    if not isinstance(payload, dict) or not isinstance(payload.get("pipeline"), Pipeline):
        raise ArtifactError("artifact does not hold a segmentation pipeline")
    if payload.get("format") != ARTIFACT_FORMAT:
        raise ArtifactError(f"unsupported artifact format {payload.get('format')!r}")
    metadata = json.loads(payload.get("metadata") or "{}")
    _warn_on_version_drift(metadata.get("library_versions", {}))
    return ModelArtifact(pipeline=payload["pipeline"], metadata=metadata, pca=payload.get("pca"))


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def artifact_name(version: int, sha256: str) -> str:
    """The file name of a version's artifact; the digest keeps two writers of one version apart."""
    return f"segmentation-v{version:05d}-{sha256[:12]}.skops"


ARTIFACT_NAME = re.compile(r"^segmentation-v\d{5,}-[0-9a-f]{12}\.skops$")


def portable_uri(uri: str) -> str:
    """The store-relative form of a local artifact URI (its file name); other URIs unchanged.

    Versions trained before artifacts were stored relative to the model store recorded absolute
    `file://` URIs; migration 0013 rewrites them with this so moving the store keeps them loadable.
    """
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file"):
        return uri
    name = Path(unquote(parsed.path) if parsed.scheme == "file" else uri).name
    return name if ARTIFACT_NAME.match(name) else uri


# ---- stores -------------------------------------------------------------------------------------
class ModelStore(ABC):
    """Where artifacts live. Subclasses move bytes; this class does naming, hashing and checks."""

    schemes: ClassVar[tuple[str, ...]] = ()

    def save(self, version: int, artifact: ModelArtifact) -> StoredArtifact:
        """Store a version's artifact; returns its URI and sha256."""
        data = dumps_artifact(artifact)
        digest = sha256_hex(data)
        uri = self.write_bytes(artifact_name(version, digest), data)
        stored = StoredArtifact(uri=uri, sha256=digest, size=len(data))
        logger.info("saved segmentation artifact v%d (%d bytes) to %s", version, stored.size, uri)
        return stored

    def load(self, uri: str, *, sha256: str) -> ModelArtifact:
        """Read and verify an artifact (sha256 first, then trusted types)."""
        return loads_artifact(self.read_bytes(uri), sha256=sha256)

    @abstractmethod
    def write_bytes(self, name: str, data: bytes) -> str:
        """Write `data` under `name`; return the URI to read it back."""

    @abstractmethod
    def read_bytes(self, uri: str) -> bytes:
        """The bytes at `uri`; `ArtifactError` if missing."""

    @abstractmethod
    def delete(self, uri: str) -> None:
        """Remove the artifact at `uri` (missing is fine)."""

    @abstractmethod
    def healthy(self) -> bool:
        """True when the store can be written to."""


class LocalModelStore(ModelStore):
    """A folder on a local (or mounted) file system.

    URIs are relative to the store: an artifact's file name. Moving the folder (or restoring a
    backup elsewhere) and pointing `ADFLUX_MODEL_STORE` at the new place keeps every version
    loadable. An absolute `file://` URI (recorded before) is read by its artifact file name in
    this store; any other name or path is refused.
    """

    schemes = ("", "file")

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).expanduser().resolve()

    def write_bytes(self, name: str, data: bytes) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / name
        # Write then rename: a reader never sees half an artifact, even if training is killed.
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return name

    def read_bytes(self, uri: str) -> bytes:
        path = self._path(uri)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise ArtifactError(f"artifact not found: {uri}") from exc

    def delete(self, uri: str) -> None:
        self._path(uri).unlink(missing_ok=True)

    def healthy(self) -> bool:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            return os.access(self.root, os.W_OK)
        except OSError:
            return False

    def _path(self, uri: str) -> Path:
        parsed = urlparse(uri)
        path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(uri)
        if not path.is_absolute() and len(path.parts) == 1 and path.name not in ("", ".", ".."):
            return self.root / path.name
        resolved = path.expanduser().resolve()
        if self.root == resolved.parent:
            return resolved
        # An absolute URI from an older version or another store folder: the same artifact name here.
        if ARTIFACT_NAME.match(path.name):
            return self.root / path.name
        # Only files inside the store: a URI from the database must not reach elsewhere.
        raise ArtifactError(f"{uri} is outside the model store {self.root}")

    def __repr__(self) -> str:
        return f"LocalModelStore({str(self.root)!r})"


_STORES: dict[str, Callable[[str], ModelStore]] = {}


def register_store(scheme: str, factory: Callable[[str], ModelStore]) -> None:
    """Make `open_model_store` understand another URL scheme (s3, gs, ...)."""
    _STORES[scheme] = factory


def open_model_store(location: str) -> ModelStore:
    """The store for a folder path or URL (`/srv/models`, `file:///srv/models`, registered schemes)."""
    parsed = urlparse(location)
    # A one-letter scheme is a Windows drive, not a URL.
    scheme = parsed.scheme if len(parsed.scheme) > 1 else ""
    factory = _STORES.get(scheme)
    if factory is None:
        known = ", ".join(sorted(s or "<path>" for s in _STORES))
        raise ValueError(f"unsupported model store scheme {scheme!r} (supported: {known})")
    return factory(location)


def _local_store(location: str) -> ModelStore:
    parsed = urlparse(location)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"file:// model store must be local, got host {parsed.netloc!r}")
        return LocalModelStore(unquote(parsed.path))
    return LocalModelStore(location)


register_store("", _local_store)
register_store("file", _local_store)


# ---- per-process cache ---------------------------------------------------------------------------
class ModelCache:
    """A small LRU of loaded artifacts, so assigning one candidate is one predict.

    Keys are versions, or (version, sha256) pairs where a database can be rebuilt and reuse a
    version number for another artifact.
    """

    def __init__(self, maxsize: int = 2):
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, ModelArtifact] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: Hashable, loader: Callable[[], ModelArtifact]) -> ModelArtifact:
        """The cached artifact for `version`, loading it with `loader` on a miss."""
        with self._lock:
            if version in self._items:
                self._items.move_to_end(version)
                return self._items[version]
        # Load outside the lock: a slow read must not block hits on other versions.
        artifact = loader()
        with self._lock:
            self._items[version] = artifact
            self._items.move_to_end(version)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return artifact

    def discard(self, version: Hashable) -> None:
        """Forget one version (e.g. after its artifact was replaced)."""
        with self._lock:
            self._items.pop(version, None)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()

    def __contains__(self, version: object) -> bool:
        with self._lock:
            return version in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


model_cache = ModelCache()


# ---- helpers ------------------------------------------------------------------------------------
def _without_training_labels(pipeline: Pipeline) -> Pipeline:
    """The pipeline minus K-means' `labels_` (4 MB per million rows; assignments live in the database)."""
    name, cluster = pipeline.steps[-1]
    if not hasattr(cluster, "labels_"):
        return pipeline
    slim = copy.copy(cluster)
    del slim.labels_
    return Pipeline([*pipeline.steps[:-1], (name, slim)])


def _json(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _warn_on_version_drift(saved: dict[str, str]) -> None:
    current = library_versions()
    changed = {k: (v, current.get(k)) for k, v in saved.items() if k != "python" and current.get(k) != v}
    if changed:
        logger.warning("artifact was saved with other library versions: %s", changed)
