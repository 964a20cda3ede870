"""`make bench`: the app under gunicorn with production settings, the hello app beside it,
and the ratios the performance goals are stated in (README, Performance).

    python -m bench.run [--database-url URL --redis-url URL] [--seconds N]

SQLite by default. Given PostgreSQL and Redis URLs it runs there, and adds the mixed load
(200 readers and 20 contributors for 60 seconds on 4 workers). The PostgreSQL database
given is emptied first: give it one of its own. Each A/B pair runs three times,
interleaved, and the medians are compared. Nothing here is a pass or a fail: the figures
are printed with the load average, for a person to read.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from bench.client import Client

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUNS = 3


@dataclass
class Load:
    """What one wrk run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    bad: int


@dataclass
class Row:
    """One line of the summary: a measure, its ratio, and the raw figures behind it."""

    name: str
    ratio: float
    goal: str
    raw: str


@dataclass
class Bench:
    """The running servers and the people signed in to the app."""

    app_port: int
    hello_port: int
    data: dict[str, object]
    rows: list[Row] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, seconds: float = 60) -> None:
    """Until something accepts connections on port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port}")


@contextmanager
def gunicorn(target: str, port: int, env: dict[str, str], workers: int) -> Iterator[int]:
    """Serve target under the project's gunicorn settings; yield the master's pid."""
    command = [
        str(BIN / "gunicorn"),
        # The deployment's own settings (threaded workers, timeouts), for both apps alike.
        "--config",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        target,
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_for(port)
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


_LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str] | None = None) -> Load:
    """One wrk run against url."""
    # A generous timeout: a request that waits is measured, not dropped from the figures.
    command = ["wrk", "--latency", "--timeout", "60s", f"-d{seconds}s", f"-c{connections}"]
    command.append(f"-t{min(2, connections)}")
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = {p: float(v) * _UNITS[u] for p, v, u in _LATENCY.findall(output)}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    count = int(bad.group(1)) if bad else 0
    count += sum(int(n) for n in errors.groups()) if errors else 0
    # No latency lines, or wrk's zeros for a run in which not one request finished: slower
    # than any.
    never = float("inf")
    if re.search(r"^\s*0 requests in", output, re.M):
        return Load(rps, never, never, count)
    return Load(rps, latency.get("50", never), latency.get("99", never), count)


def interleaved(a: Callable[[], Load], b: Callable[[], Load]) -> tuple[Load, Load]:
    """A and B, three times each, alternating; the median of each figure."""
    first, second = [], []
    for _ in range(RUNS):
        first.append(a())
        second.append(b())

    def median(loads: list[Load]) -> Load:
        return Load(
            statistics.median(x.rps for x in loads),
            statistics.median(x.p50_ms for x in loads),
            statistics.median(x.p99_ms for x in loads),
            sum(x.bad for x in loads),
        )

    return median(first), median(second)


def throughput(bench: Bench, name: str, path: str, goal: str, seconds: int, **extra: str) -> None:
    """Requests per second of an app page against the hello app's."""
    app = f"http://127.0.0.1:{bench.app_port}{path}"
    hello = f"http://127.0.0.1:{bench.hello_port}/"
    page, reference = interleaved(
        lambda: wrk(app, seconds, 8, extra), lambda: wrk(hello, seconds, 8)
    )
    bench.rows.append(
        Row(
            name,
            ratio(page.rps, reference.rps),
            goal,
            f"{page.rps:,.0f} req/s, p99 {page.p99_ms:.1f} ms (hello {reference.rps:,.0f}"
            f" req/s); {page.bad} bad",
        )
    )


def latency(
    bench: Bench, name: str, large: str, small: str, goal: str, seconds: int, cookie: str = ""
) -> None:
    """One request at a time: the median time of a page at the large size over the small."""
    headers = {"Cookie": cookie} if cookie else {}
    base = f"http://127.0.0.1:{bench.app_port}"
    big, little = interleaved(
        lambda: wrk(base + large, seconds, 1, headers),
        lambda: wrk(base + small, seconds, 1, headers),
    )
    bench.rows.append(
        Row(
            name,
            ratio(big.p50_ms, little.p50_ms),
            goal,
            f"{big.p50_ms:.1f} vs {little.p50_ms:.1f} ms; {big.bad + little.bad} bad",
        )
    )


def etag_of(port: int, path: str) -> str:
    """The ETag a public page answers with, if any."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.headers.get("ETag", "")


def sign_in(bench: Bench, codename: str) -> str:
    """A member's Cookie header, after signing in by codename."""
    client = Client(bench.app_port)
    status = client.submit("/login", {"codename": codename})
    if status not in (302, 303):
        raise SystemExit(f"a benchmark member could not sign in (HTTP {status})")
    return client.cookie_header()


def sign_in_staff(bench: Bench) -> str:
    """The coordinator's Cookie header, after signing in with passphrase and TOTP."""
    import pyotp

    staff = cast(dict[str, str], bench.data["staff"])
    client = Client(bench.app_port)
    fields = {
        "username": staff["username"],
        "passphrase": staff["passphrase"],
        "code": pyotp.TOTP(staff["totp"]).now(),
    }
    status = client.submit("/staff/login", fields)
    if status not in (302, 303):
        raise SystemExit(f"the benchmark coordinator could not sign in (HTTP {status})")
    return client.cookie_header()


def login_storm(bench: Bench, seconds: int) -> None:
    """Public page p99 while 20 members sign in over and over, against its idle p99."""
    codenames = cast(list[str], bench.data["storm"])
    url = f"http://127.0.0.1:{bench.app_port}/statements/few-versions"
    logins = [0]

    def storm() -> Load:
        stop = threading.Event()

        def member(codename: str) -> None:
            while not stop.is_set():
                client = Client(bench.app_port)
                client.submit("/login", {"codename": codename})
                logins[0] += 1

        threads = [threading.Thread(target=member, args=(c,), daemon=True) for c in codenames]
        for thread in threads:
            thread.start()
        time.sleep(2)  # every worker busy with logins before measuring
        try:
            return wrk(url, seconds, 4)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)

    idle, stormy = interleaved(lambda: wrk(url, seconds, 4), storm)
    bench.rows.append(
        Row(
            "public page p99 during 20 logins",
            ratio(stormy.p99_ms, idle.p99_ms),
            "<= 2x",
            f"{stormy.p99_ms:.1f} vs idle {idle.p99_ms:.1f} ms; {logins[0]} logins; "
            f"{stormy.bad} bad",
        )
    )


def worker_memory(master: int) -> float:
    """Mean resident memory of a gunicorn master's workers, in MiB."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master}$", text, re.M):
            rss = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
            if rss:
                sizes.append(int(rss.group(1)) / 1024)
    return statistics.mean(sizes) if sizes else float("nan")


def mixed_load(bench: Bench, env: dict[str, str], seconds: int) -> None:
    """200 readers and 20 contributors at once: errors, lost contributions, reader p99."""
    contributors = cast(list[str], bench.data["contributors"])
    rooms = cast(dict[str, str], bench.data["rooms"])
    url = f"http://127.0.0.1:{bench.app_port}/statements/few-versions"
    alone = wrk(url, 20, 200)
    sent, refused = [0], [0]
    stop = threading.Event()

    def contributor(codename: str) -> None:
        client = Client(bench.app_port)
        client.submit("/login", {"codename": codename})
        path = f"/rooms/{rooms['busy']}/contribute?kind=comment"
        while not stop.is_set():
            status = client.submit(path, {"text": f"A comment {secrets.token_hex(4)}."})
            if status in (302, 303):
                sent[0] += 1
            else:
                refused[0] += 1
            time.sleep(0.5)

    threads = [threading.Thread(target=contributor, args=(c,), daemon=True) for c in contributors]
    for thread in threads:
        thread.start()
    try:
        readers = wrk(url, seconds, 200)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "flush-writes"], cwd=ROOT, env=env, check=True, capture_output=True)
    stored = subprocess.run(
        [sys.executable, "-m", "bench.count", str(rooms["busy"])],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    lost = sent[0] - int(stored)
    bench.rows.append(
        Row(
            "mixed load: reader p99, with 20 contributors",
            ratio(readers.p99_ms, alone.p99_ms),
            "<= 1.5x, 0 errors, 0 lost",
            f"{readers.p99_ms:.1f} vs alone {alone.p99_ms:.1f} ms; {readers.bad} reader errors,"
            f" {refused[0]} refused of {sent[0] + refused[0]} contributions, {lost} lost",
        )
    )


def main() -> None:
    """Seed, serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""))
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: make bench installs it (Debian package wrk)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        env = {
            **os.environ,
            "APP_ENV": "production",
            "INSTANCE_PATH": tmp,
            "SECRET_KEY": secrets.token_hex(32),
            "LOOKUP_PEPPER": secrets.token_hex(32),
            "LOG_ORIGIN": "bench.example.org",
            # The login budget is per client, and every benchmark client is 127.0.0.1: at
            # the production default, the login storm would measure the limiter.
            "LOGIN_RATE_LIMIT": "100000 per minute",
            # And the site-wide budget: the storm alone signs in several hundred times a
            # minute, and the room measures after it would be refused.
            "LOGIN_RATE_LIMIT_TOTAL": "100000 per minute",
            "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.sqlite3",
        }
        if args.redis_url:
            env["REDIS_URL"] = args.redis_url
        if args.database_url:
            subprocess.run(
                [sys.executable, "-m", "bench.count", "--empty"], cwd=ROOT, env=env, check=True
            )
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
        print("== seeding through the service layer", flush=True)
        data_file = Path(tmp) / "seed.json"
        subprocess.run(
            [sys.executable, "-m", "bench.seed", str(data_file)], cwd=ROOT, env=env, check=True
        )
        data = json.loads(data_file.read_text())
        print(f"   seeded in {time.monotonic() - started:.0f} s", flush=True)
        bench = Bench(free_port(), free_port(), data)
        seconds = args.seconds
        with (
            gunicorn("wsgi:app", bench.app_port, env, 2) as app_master,
            gunicorn("bench.hello:app", bench.hello_port, env, 2) as hello_master,
        ):
            for path in ("/", "/statements/few-versions", "/feed.atom"):
                Client(bench.app_port).request("GET", path)
            time.sleep(1)
            memory = (worker_memory(app_master), worker_memory(hello_master))
            print("== public pages against hello", flush=True)
            throughput(
                bench, "published statement page", "/statements/few-versions", ">= 0.8x", seconds
            )
            tag = etag_of(bench.app_port, "/statements/few-versions")
            if tag:
                throughput(
                    bench,
                    "statement page, conditional GET (304)",
                    "/statements/few-versions",
                    "no render",
                    seconds,
                    **{"If-None-Match": tag},
                )
            throughput(
                bench, "bundle.json", "/statements/few-versions/v/1/bundle.json", ">= 0.9x", seconds
            )
            throughput(bench, "API list", "/api/v1/statements", ">= 0.9x", seconds)
            throughput(bench, "Atom feed", "/feed.atom", ">= 0.9x", seconds)
            print("== logins", flush=True)
            login_storm(bench, seconds)
            print("== rooms and versions", flush=True)
            rooms = cast(dict[str, str], data["rooms"])
            member = sign_in(bench, str(data["reader"]))
            staff = sign_in_staff(bench)
            for name, page, cookie in (
                ("moderation", "moderation", staff),
                ("contributions list", "contributions", member),
                ('"Yours"', "mine", member),
            ):
                latency(
                    bench,
                    f"{name}, 1,000 vs 25 contributions",
                    f"/rooms/{rooms['large']}/{page}",
                    f"/rooms/{rooms['small']}/{page}",
                    "<= 1.2x",
                    seconds,
                    cookie,
                )
            latency(
                bench,
                "statement page, 100 vs 2 versions",
                "/statements/many-versions",
                "/statements/few-versions",
                "<= 1.2x",
                seconds,
            )
            latency(
                bench,
                "API statement, 100 vs 2 versions",
                "/api/v1/statements/many-versions",
                "/api/v1/statements/few-versions",
                "<= 1.2x",
                seconds,
            )
            bench.rows.append(
                Row(
                    "worker memory at idle",
                    ratio(memory[0], memory[1]),
                    "<= 1.5x",
                    f"{memory[0]:.0f} MiB (hello {memory[1]:.0f} MiB)",
                )
            )
        if args.database_url and args.redis_url:
            print("== mixed load, 4 workers, 60 s", flush=True)
            bench.app_port = free_port()
            with gunicorn("wsgi:app", bench.app_port, env, 4):
                mixed_load(bench, env, 60)
        else:
            print("== mixed load: skipped (needs --database-url and --redis-url)", flush=True)
    summary(bench, time.monotonic() - started)


def ratio(a: float, b: float) -> float:
    """a / b, or infinity where b measured nothing."""
    return a / b if b else float("inf")


def summary(bench: Bench, elapsed: float) -> None:
    """The one-screen summary."""
    load = os.getloadavg()
    print()
    print(f"{'measure':<44} {'ratio':>7}  {'goal':<26} raw figures")
    for row in bench.rows:
        print(f"{row.name:<44} {row.ratio:>6.2f}x  {row.goal:<26} {row.raw}")
    print(
        f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores;"
        f" {elapsed / 60:.1f} minutes"
    )


if __name__ == "__main__":
    main()
