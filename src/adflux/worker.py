"""Entry point for Celery workers and beat: `celery -A adflux.worker worker -Q default,publishing`."""

from importlib import import_module

from adflux.app import create_app
from adflux.ml import warm_up as _warm_up_ml

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

# The web app and the CLI load scikit-learn, pandas and pyarrow only when they need them; a
# worker loads them once at start (before prefork children fork) so no task pays ~1-2 s for it.
_warm_up_ml()
import_module("adflux.services.segmentation_data")
