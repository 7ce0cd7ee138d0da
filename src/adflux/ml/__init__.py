"""Candidate segmentation in scikit-learn idiom: features, pipeline, training, profiles, registry, drift.

Pure ML: nothing here imports Flask or the database layer; services/segmentation.py wires it in.
"""
