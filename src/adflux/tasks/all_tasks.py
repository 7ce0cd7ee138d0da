"""Every task module: importing this one registers all the tasks with Celery."""

from adflux.tasks import base, feeds, imports, maintenance, metrics, publishing, segmentation  # noqa: F401
