"""A bound on concurrent key derivations across every worker of one machine, queued fairly.

Each sign-in (and each new account or passphrase) spends one Argon2id derivation: 64 MiB
and about a core for a fraction of a second, on purpose. Twenty at once would take every
core from the readers of a published statement. So derivations take one of a few *slots*
first; the others wait in a bounded *waiting room*, served in the order they came; and
when the waiting room is full, or the wait would be too long, the answer is "busy, try
again in a moment" instead of a request that hangs until the proxy gives up.

The slots and the waiting room are files in a private folder, held with flock(): the
kernel releases a dead process's locks, so a killed worker never leaks a slot. They are
per machine, not shared through Redis, on purpose: what a derivation spends is this
machine's cores and memory, and each host of a deployment has its own. Nothing is written
but a queue number, overwritten and never kept: no time, no account, no address. Yet
writing it stamps the file with the time of that busy sign-in, so the folder is in memory
(/dev/shm, see settings.kdf_slots_dir) wherever there is one, not beside the database.

Each worker process also lets only a few of its own threads into the queue at a time
(`per_worker`): a waiting sign-in sleeps in a request thread, and a queue that took every
thread of every worker would leave none for the readers. Past that, "busy" at once.

Fairness: each waiter draws a number from a shared counter and writes it into its seat
in the waiting room; only the live waiter with the lowest number may take a free slot.
"""

from __future__ import annotations

import fcntl
import os
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from statements.auth.errors import AuthError


class KdfBusy(AuthError):
    """Too many key derivations are queued: the request should be tried again shortly."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class KdfSlots(Protocol):
    """Something that hands out derivation slots."""

    def slot(self) -> AbstractContextManager[None]:
        """Hold a slot for one derivation."""
        ...


def default_slots() -> int:
    """Leave at least one core to the readers: one slot on two cores, three on four."""
    return max(1, (os.cpu_count() or 2) - 1)


@dataclass(frozen=True)
class PoolSize:
    """How many derivations run at once, how many may wait, and for how long at most."""

    slots: int
    waiting: int
    max_wait_seconds: float
    # Threads of one worker that may wait for or hold a slot (0: no bound).
    per_worker: int = 0


class KdfPool:
    """Slots for key derivations shared by the processes that use one folder."""

    POLL_SECONDS = 0.01

    def __init__(self, folder: Path, size: PoolSize) -> None:
        self.folder = folder
        self.size = size
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # In shared memory another local user could have made it first: then they could
        # watch the queue or hold every slot. Only a private folder of ours will do.
        status = folder.lstat()
        if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
            raise RuntimeError(f"{folder} is not a folder of this user's")
        if status.st_mode & 0o077:
            raise RuntimeError(f"{folder} is open to other users (chmod 700 it)")
        self._counter = folder / "counter"
        self._counter.touch(mode=0o600, exist_ok=True)
        for name in self._slot_names() + self._seat_names():
            (folder / name).touch(mode=0o600, exist_ok=True)
        self._local = threading.local()
        self._worker = threading.BoundedSemaphore(size.per_worker) if size.per_worker else None

    def _slot_names(self) -> list[str]:
        return [f"slot-{n}" for n in range(self.size.slots)]

    def _seat_names(self) -> list[str]:
        return [f"seat-{n}" for n in range(self.size.waiting)]

    def retry_after(self) -> int:
        """Seconds a turned-away client should wait: about one full queue's turn."""
        return max(1, min(30, round(self.size.max_wait_seconds / 2)))

    @staticmethod
    def _try_lock(name: Path) -> IO[bytes] | None:
        handle = name.open("r+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    @staticmethod
    def _release(handle: IO[bytes]) -> None:
        with suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()

    def _take_seat(self) -> IO[bytes] | None:
        for name in self._seat_names():
            handle = self._try_lock(self.folder / name)
            if handle is not None:
                return handle
        return None

    def _draw_number(self) -> int:
        with self._counter.open("r+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            number = int(handle.read() or b"0") + 1
            handle.seek(0)
            handle.truncate()
            handle.write(str(number).encode())
            handle.flush()
            return number

    def _is_first(self, number: int, seat: IO[bytes]) -> bool:
        """No live waiter drew a lower number than this one."""
        for name in self._seat_names():
            path = self.folder / name
            if os.path.samefile(path, seat.name):
                continue
            try:
                theirs = int(path.read_bytes() or b"0")
            except ValueError:
                continue  # being written: its number is new, so higher than ours
            if not theirs or theirs >= number:
                continue
            # Live only while its owner holds the seat's lock; a dead worker's number stays.
            probe = self._try_lock(path)
            if probe is None:
                return False
            self._release(probe)
        return True

    def _take_slot(self) -> IO[bytes] | None:
        for name in self._slot_names():
            handle = self._try_lock(self.folder / name)
            if handle is not None:
                return handle
        return None

    def waiting(self) -> int:
        """How many derivations are waiting for a slot now (for tests and metrics)."""
        count = 0
        for name in self._seat_names():
            probe = self._try_lock(self.folder / name)
            if probe is None:
                count += 1
            else:
                self._release(probe)
        return count

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for one derivation, waiting in turn; raise KdfBusy rather than stall."""
        if getattr(self._local, "held", False):
            # Nested (a sign-in that also re-keys): the outer slot covers it.
            yield
            return
        if self._worker is not None and not self._worker.acquire(blocking=False):
            raise KdfBusy(self.retry_after())
        try:
            held = self._take_slot() if not self.waiting() else None
            if held is None:
                held = self._queue()
            self._local.held = True
            try:
                yield
            finally:
                self._local.held = False
                self._release(held)
        finally:
            if self._worker is not None:
                self._worker.release()

    def _queue(self) -> IO[bytes]:
        # The number first: whoever is seated before another arrives holds a lower one.
        number = self._draw_number()
        seat = self._take_seat()
        if seat is None:
            raise KdfBusy(self.retry_after())
        try:
            seat.seek(0)
            seat.truncate()
            seat.write(str(number).encode())
            seat.flush()
            deadline = time.monotonic() + self.size.max_wait_seconds
            while True:
                if self._is_first(number, seat):
                    held = self._take_slot()
                    if held is not None:
                        return held
                if time.monotonic() >= deadline:
                    raise KdfBusy(self.retry_after())
                time.sleep(self.POLL_SECONDS)
        finally:
            seat.seek(0)
            seat.truncate()
            self._release(seat)


class Unbounded:
    """No bound (tests of other things, and one-off commands)."""

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Derive at once."""
        yield
