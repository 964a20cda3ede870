"""Key derivations are bounded across threads and processes, served in turn, and a full
queue answers "busy" (503 with Retry-After, translated) at once instead of stalling."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from crypto.kdf import KdfParams, derive_master_key, new_salt
from statements.auth.kdf_pool import KdfBusy, KdfPool, PoolSize
from statements.i18n import cookie_name
from tests.support import login_member, make_member

# A real Argon2id derivation, smaller than production's so the test stays quick.
REAL = KdfParams(memory_kib=8192, iterations=2)


class Gauge:
    """How many derivations run at once, and the most ever seen."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self._lock = threading.Lock()

    @contextmanager
    def running(self) -> Iterator[None]:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            yield
        finally:
            with self._lock:
                self.now -= 1


def _hold(pool: KdfPool, entered: threading.Event, release: threading.Event) -> threading.Thread:
    def run() -> None:
        with pool.slot():
            entered.set()
            release.wait(30)

    thread = threading.Thread(target=run)
    thread.start()
    assert entered.wait(30)
    return thread


def _wait_until(condition: Any) -> None:
    event = threading.Event()
    for _ in range(3000):
        if condition():
            return
        event.wait(0.01)
    raise AssertionError("never happened")


def test_no_more_derivations_run_at_once_than_there_are_slots(tmp_path: Path) -> None:
    pool = KdfPool(tmp_path / "slots", PoolSize(slots=2, waiting=16, max_wait_seconds=120))
    gauge = Gauge()
    keys: list[bytes] = []
    failures: list[BaseException] = []

    def sign_in(n: int) -> None:
        try:
            with pool.slot(), gauge.running():
                keys.append(derive_master_key(f"codename {n}".encode(), new_salt(), REAL))
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=sign_in, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(keys) == 12
    assert 1 <= gauge.most <= 2
    assert pool.waiting() == 0


def test_two_pools_on_one_folder_share_the_slots(tmp_path: Path) -> None:
    """Two workers (two pools, as two processes would have) hold one bound between them."""
    size = PoolSize(slots=1, waiting=4, max_wait_seconds=0.2)
    first = KdfPool(tmp_path / "slots", size)
    second = KdfPool(tmp_path / "slots", size)
    release = threading.Event()
    holder = _hold(first, threading.Event(), release)
    try:
        with pytest.raises(KdfBusy), second.slot():
            pass  # pragma: no cover
    finally:
        release.set()
        holder.join()
    with second.slot():
        pass


def test_a_full_waiting_room_is_told_busy_at_once(tmp_path: Path) -> None:
    pool = KdfPool(tmp_path / "slots", PoolSize(slots=1, waiting=2, max_wait_seconds=120))
    release = threading.Event()
    holder = _hold(pool, threading.Event(), release)
    waiters: list[threading.Thread] = []
    served: list[int] = []

    def wait_in_turn(n: int) -> None:
        with pool.slot():
            served.append(n)

    try:
        for n in range(2):
            waiter = threading.Thread(target=wait_in_turn, args=(n,))
            waiter.start()
            waiters.append(waiter)
            _wait_until(lambda n=n: pool.waiting() == n + 1)
        # The slot is taken and both seats too: a third is turned away without waiting
        # (max_wait is two minutes, so only the full room can answer this quickly).
        with pytest.raises(KdfBusy) as busy, pool.slot():
            pass  # pragma: no cover
        assert busy.value.retry_after >= 1
    finally:
        release.set()
        holder.join()
        for waiter in waiters:
            waiter.join()
    # Served in the order they came.
    assert served == [0, 1]


def test_waiters_are_served_in_the_order_they_came(tmp_path: Path) -> None:
    pool = KdfPool(tmp_path / "slots", PoolSize(slots=1, waiting=8, max_wait_seconds=120))
    release = threading.Event()
    holder = _hold(pool, threading.Event(), release)
    served: list[int] = []
    waiters = []

    def wait_in_turn(n: int) -> None:
        with pool.slot():
            served.append(n)

    try:
        for n in range(6):
            waiter = threading.Thread(target=wait_in_turn, args=(n,))
            waiter.start()
            waiters.append(waiter)
            _wait_until(lambda n=n: pool.waiting() == n + 1)
    finally:
        release.set()
        holder.join()
        for waiter in waiters:
            waiter.join()
    assert served == list(range(6))


def test_a_dead_waiters_number_does_not_block_the_queue(tmp_path: Path) -> None:
    pool = KdfPool(tmp_path / "slots", PoolSize(slots=1, waiting=2, max_wait_seconds=5))
    # A worker killed while waiting leaves its number in its seat, but not its lock.
    (tmp_path / "slots" / "seat-1").write_bytes(b"1")
    with pool.slot():
        pass


def test_sign_in_during_a_full_queue_is_a_translated_503_with_retry_after(
    app: Flask, session: Session, app_with: Any
) -> None:
    _, codename = make_member(app, session)
    busy: Flask = app_with(kdf_slots=1, kdf_queue=1, kdf_wait_seconds=60)
    pool: KdfPool = busy.extensions["auth"].pool
    release = threading.Event()
    holder = _hold(pool, threading.Event(), release)
    waiter = threading.Thread(target=_queued, args=(pool,))
    try:
        waiter.start()
        _wait_until(lambda: pool.waiting() == 1)
        english = login_member(busy.test_client(), codename)
        assert english.status_code == 503
        assert english.headers["Retry-After"].isdigit()
        assert "try again in a moment" in english.get_data(as_text=True)
        farsi = busy.test_client()
        farsi.set_cookie(cookie_name(busy.extensions["settings"]), "fa")
        answer = login_member(farsi, codename)
        assert answer.status_code == 503
        page = answer.get_data(as_text=True)
        assert "try again in a moment" not in page
        assert 'dir="rtl"' in page
    finally:
        release.set()
        holder.join()
        waiter.join()
    # With the queue empty again, the same sign-in goes through.
    assert login_member(busy.test_client(), codename).status_code == 302


def _queued(pool: KdfPool) -> None:
    with pool.slot():
        pass


def test_a_worker_keeps_threads_for_readers(tmp_path: Path) -> None:
    """Past per_worker threads of one process waiting or deriving, "busy" at once, even
    with slots and seats to spare: the worker's other threads stay free for readers."""
    size = PoolSize(slots=1, waiting=8, max_wait_seconds=120, per_worker=2)
    pool = KdfPool(tmp_path / "slots", size)
    release = threading.Event()
    holder = _hold(pool, threading.Event(), release)
    waiter = threading.Thread(target=_queued, args=(pool,))
    try:
        waiter.start()
        _wait_until(lambda: pool.waiting() == 1)
        with pytest.raises(KdfBusy), pool.slot():
            pass  # pragma: no cover
        # Another worker (another pool on the same folder) may still queue.
        other = KdfPool(tmp_path / "slots", size)
        queued = threading.Thread(target=_queued, args=(other,))
        queued.start()
        _wait_until(lambda: pool.waiting() == 2)
    finally:
        release.set()
        holder.join()
        waiter.join()
    queued.join()
    with pool.slot():
        pass
