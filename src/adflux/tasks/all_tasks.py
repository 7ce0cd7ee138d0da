"""Every task module: importing this one registers all the tasks with Celery."""

from adflux.tasks import (  # noqa: F401
    base,
    feeds,
    imports,
    maintenance,
    metrics,
    publishing,
    segmentation,
    tracking,
)
