"""Audience segmentation as a service: train versions, activate (or roll back), assign, watch drift.

`training` makes versions, `activation` decides and switches the active one, `assignments` gives
a candidate's segment, `drift` compares today's data with a version's, `queries` reads versions
and segments, and `versions` finds them and their artifacts; callers use the names re-exported here.
"""

from adflux.services.segmentation.activation import ActivationDecision, activate_model, decide_activation
from adflux.services.segmentation.assignments import assign_candidate, candidate_segment, prune_assignments
from adflux.services.segmentation.drift import check_drift, get_drift
from adflux.services.segmentation.queries import (
    get_model,
    get_segment,
    list_models,
    list_segments,
    pca_view,
    segment_detail,
    segment_members,
)
from adflux.services.segmentation.training import start_training, train_segmentation
from adflux.services.segmentation.versions import active_model, model_store

__all__ = [
    "ActivationDecision",
    "activate_model",
    "active_model",
    "assign_candidate",
    "candidate_segment",
    "check_drift",
    "decide_activation",
    "get_drift",
    "get_model",
    "get_segment",
    "list_models",
    "list_segments",
    "model_store",
    "pca_view",
    "prune_assignments",
    "segment_detail",
    "segment_members",
    "start_training",
    "train_segmentation",
]
