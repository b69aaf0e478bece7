"""`flask jobs worker` and `flask jobs sweep`: run background jobs outside the web processes."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.services import jobs
from app.services.jobs import local

SWEEP_INTERVAL = 60  # seconds between an RQ worker's sweeps (when it is not rendering)

jobs_cli = AppGroup("jobs", help="Background jobs (packet renders, exports).")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs queued now, then exit.")
def worker(burst: bool):
    """Run queued jobs: through RQ when REDIS_URL is set, else straight from the database."""
    app = current_app._get_current_object()
    if jobs.uses_redis(app):
        from app.services.jobs import rq_backend

        rq_backend.use_app(app)
        queue = rq_backend.queue(app)
        click.echo(f"Rendering jobs from the RQ queue {queue.name!r} ({app.config['REDIS_URL']}).")
        # Sweeps when it starts and between jobs (stale running jobs, queued jobs Redis lost);
        # an idle worker wakes from waiting on Redis every worker_ttl - 15 s, so every minute.
        worker = rq_backend.SweepingWorker(
            [queue],
            connection=queue.connection,
            maintenance_interval=SWEEP_INTERVAL,
            worker_ttl=SWEEP_INTERVAL + 15,
        )
        worker.work(burst=burst)
        return
    click.echo(
        f"Running queued jobs from the database, at most {app.config['JOB_CONCURRENCY']} at once."
    )
    dispatcher = local.Dispatcher(app, stay=not burst)
    if burst:
        dispatcher.run_until_idle()
    else:
        dispatcher.loop()


@jobs_cli.command("sweep")
def sweep():
    """Fail jobs whose worker is gone and recover queued jobs Redis lost (for cron)."""
    click.echo(jobs.sweep(current_app._get_current_object()))
