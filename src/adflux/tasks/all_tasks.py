"""Every task module: importing this one registers all the tasks with Celery."""

from adflux.tasks import (  # noqa: F401
    base,
    campaign_changes,
    feeds,
    imports,
    maintenance,
    metrics,
    notifications,
    optimization,
    publishing,
    segmentation,
    tracking,
)
