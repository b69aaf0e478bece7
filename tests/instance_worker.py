"""Run by test_several_machines: one Rungs web server in a process of its own, as on a machine of
its own. It reads its settings from the environment, as an operator's server does (DATABASE_URL,
RUNGS_DATA_DIR, RUNGS_FILE_STORAGE, REDIS_URL), serves on a free loopback port and prints the
port on its first line."""

from __future__ import annotations

import sys

from werkzeug.serving import make_server

from app import create_app


def main(queue: str) -> None:
    app = create_app({"JOB_QUEUE": queue})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
