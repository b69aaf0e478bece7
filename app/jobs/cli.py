"""`flask jobs worker`: run background jobs outside the web processes."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.services import jobs
from app.services.jobs import local

jobs_cli = AppGroup("jobs", help="Background jobs (packet renders, exports).")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs queued now, then exit.")
def worker(burst: bool):
    """Run queued jobs: through RQ when REDIS_URL is set, else straight from the database."""
    app = current_app._get_current_object()
    if jobs.uses_redis(app):
        from rq import Worker

        from app.services.jobs import rq_backend

        rq_backend.use_app(app)
        queue = rq_backend.queue(app)
        click.echo(f"Rendering jobs from the RQ queue {queue.name!r} ({app.config['REDIS_URL']}).")
        Worker([queue], connection=queue.connection).work(burst=burst)
        return
    click.echo(
        f"Running queued jobs from the database, at most {app.config['JOB_CONCURRENCY']} at once."
    )
    dispatcher = local.Dispatcher(app, stay=not burst)
    if burst:
        dispatcher.run_until_idle()
    else:
        dispatcher.loop()
