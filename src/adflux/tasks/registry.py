"""Importing this module registers every task with Celery."""

from adflux.tasks import base, maintenance, metrics, publishing, segmentation  # noqa: F401
