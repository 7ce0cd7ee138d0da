"""Candidate segmentation in scikit-learn idiom: features, pipeline, training, profiles, registry, drift.

Pure ML: nothing here imports Flask or the database layer; the services/segmentation package wires it in.
"""

from __future__ import annotations

import importlib

_MODULES = ("features", "pipeline", "k_search", "training", "profiles", "drift", "evaluation", "registry")


def warm_up() -> None:
    """Import the ML stack now (workers call this at start; the web app and CLI import lazily)."""
    for name in _MODULES:
        importlib.import_module(f"{__name__}.{name}")
