"""Background jobs: work that must not run in a web request (packet renders, exports).

    @jobs.register("packet", label="Promotion packet")
    def render_packet(params: dict, progress) -> jobs.Result:
        path, relative = jobs.output_file(".pdf")
        ...; progress(50, "Rendering"); ...
        return jobs.Result(relative, "Packet.pdf")

    job = jobs.submit(actor, "packet", {"case_id": 7})  # in the view's transaction
    db.session.commit()                                  # handed to a worker after the commit
    return redirect(url_for("jobs.show", job_id=job.id))

A task may instead return `jobs.Waiting(ids, unit="packets")` for jobs it submitted: it waits
(no worker held, its page counting them) and runs again with `params[jobs.WAITED_FOR]` once they
all ended (a cycle export: one job per packet, then the ZIP).

Each job runs in a separate process with JOB_TIME_LIMIT and JOB_MEMORY_LIMIT_MB; without Redis a
dispatcher thread of the app runs at most JOB_CONCURRENCY at once (local.py); with REDIS_URL, RQ
workers run them (rq_backend.py). Only the person who submitted a job sees it (get_for).
"""

from app.services.jobs.backends import ensure_dispatching, run_pending, submit, sweep, uses_redis
from app.services.jobs.registry import (
    WAITED_FOR,
    About,
    Progress,
    Result,
    Waiting,
    about,
    abouts,
    ids_of,
    label,
    output_file,
    register,
    result_file,
)
from app.services.jobs.store import (
    cancel,
    file_for_download,
    get,
    get_for,
    job_page,
    jobs_page,
    parts,
    recent,
    unfinished_for,
)

__all__ = [
    "WAITED_FOR",
    "About",
    "Progress",
    "Result",
    "Waiting",
    "about",
    "abouts",
    "cancel",
    "ensure_dispatching",
    "file_for_download",
    "get",
    "get_for",
    "ids_of",
    "job_page",
    "jobs_page",
    "label",
    "output_file",
    "parts",
    "recent",
    "register",
    "result_file",
    "run_pending",
    "submit",
    "sweep",
    "unfinished_for",
    "uses_redis",
]
