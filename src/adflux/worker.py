"""Entry point for Celery workers and beat: `celery -A adflux.worker worker -Q default,publishing`."""

from adflux.app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
