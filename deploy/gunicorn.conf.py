"""gunicorn's configuration for a deployment.

    gunicorn --config deploy/gunicorn.conf.py wsgi:app

Logging is the project's own (statements/gunicorn_conf.py): no access log, and no request
path, query or client address in any line, whatever else is set here or on the command
line. The rest can be changed through the environment (see deploy/env.example).
"""

import os

# The private logger and its settings, unchanged: see that module for why.
from statements.gunicorn_conf import (  # noqa: F401
    accesslog,
    errorlog,
    logger_class,
    loglevel,
    on_starting,
    pre_request,
)

# Behind nginx on the same machine (deploy/nginx/statements.conf): loopback only.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Each worker holds its own database connections. Without Redis, limits and queued writes
# are shared through the database and instance/, so keep workers on one machine.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# A PDF of a long statement takes a few seconds to lay out the first time.
timeout = 60
graceful_timeout = 30
# The app reads X-Forwarded-* itself (PROXY_HOPS); gunicorn trusts only loopback.
forwarded_allow_ips = "127.0.0.1"
# Workers are replaced now and then, so no process lives (and holds memory) for months.
max_requests = 2000
max_requests_jitter = 200


def child_exit(server: object, worker: object) -> None:
    """With METRICS_TOKEN and PROMETHEUS_MULTIPROC_DIR set, forget a dead worker's gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
