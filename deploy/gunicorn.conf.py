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
# Threaded workers (gthread), not sync ones. A sign-in may wait its turn for one of the
# few key-derivation slots (statements/auth/kdf_pool.py): in a sync worker that wait, and
# the derivation itself, would hold the whole process, so a storm of twenty sign-ins
# would occupy every worker and readers would queue behind them. In a thread, a waiting
# sign-in costs a sleeping thread; Argon2id releases the GIL, so the derivation runs on
# its own core while the worker's other threads serve readers (mostly kept pages, see
# statements/publishing/render_cache.py). Not gevent/eventlet: monkey-patching would
# reach the crypto and database drivers, and CPU-bound derivations block an event loop.
# KDF_PER_WORKER (2 by default) of a worker's threads may wait for a derivation at once;
# keep it below `threads`, so readers always find a free thread. Each thread may hold a
# database connection: keep workers x threads within the database's connection limit.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
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
