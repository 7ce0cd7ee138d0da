"""Running AdFlux: the web server and background workers."""

from __future__ import annotations

import click

from adflux.catalogue import N_
from adflux.catalogue import gettext as _
from adflux.cli import CliContext, pass_cli


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--debug", is_flag=True)
@pass_cli
def serve(cli: CliContext, host: str, port: int, debug: bool) -> None:
    """Serve the API and dashboard (development server; use gunicorn in production)."""
    click.echo(
        _(
            "AdFlux on http://%(host)s:%(port)s/  (API docs: http://%(host)s:%(port)s/api/v1/docs)",
            host=host,
            port=port,
        )
    )
    cli.app.run(host=host, port=port, debug=debug, use_reloader=False)


@click.command("worker", context_settings={"ignore_unknown_options": True})
@click.option(
    "--queues", "-Q", default="default,publishing,sync,training,maintenance,automation", show_default=True
)
@click.option("--concurrency", "-c", type=int, default=2, show_default=True)
@click.option("--beat", is_flag=True, help=N_("Also run the periodic scheduler (one per deployment)."))
@pass_cli
def worker(cli: CliContext, queues: str, concurrency: int, beat: bool) -> None:
    """Run a Celery worker (needs CELERY_BROKER_URL)."""
    celery_app = cli.app.extensions["celery"]
    if celery_app.conf.task_always_eager:
        raise click.ClickException(_("CELERY_BROKER_URL is not set: tasks run inline, no worker is needed"))
    argv = [
        "worker",
        "-Q",
        queues,
        "-c",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "-l",
        "INFO",
    ]
    if beat:
        argv.append("-B")
    celery_app.worker_main(argv)


def register(group: click.Group) -> None:
    group.add_command(serve)
    group.add_command(worker)
