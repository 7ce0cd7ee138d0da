"""Candidate segmentation in scikit-learn idiom: features, pipeline, training, profiles, registry, drift.

Pure ML: nothing here imports Flask or the database layer; the services/segmentation package wires it in.
"""

from __future__ import annotations

import importlib

_MODULES = (
    "features",
    "feature_matrix",
    "pipeline",
    "k_search",
    "training",
    "profiles",
    "drift",
    "evaluation",
    "registry",
)


def warm_up() -> None:
    """Import the ML stack now (workers call this at start; the web app and CLI import lazily).

    skops.io too: the registry imports it on first save or load, and a worker should not pay it
    (~1 s) in its first task.
    """
    for name in _MODULES:
        importlib.import_module(f"{__name__}.{name}")
    importlib.import_module("skops.io")
