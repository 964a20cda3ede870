"""The derivation slots keep no trace of when anyone signed in in the server's files.

A sign-in that waits for a slot writes its queue number into the pool's files; on disk,
their modification and change times would say when the last busy sign-ins were, beside
the session rows they made. So the slots live in memory (/dev/shm) by default."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from statements import create_app
from statements.settings import Settings

SHM = Path("/dev/shm")  # noqa: S108


def _filesystem(path: Path) -> str:
    """The type of the filesystem holding path (from /proc/mounts)."""
    best, kind = "", ""
    for line in Path("/proc/mounts").read_text().splitlines():
        _device, mount, fstype, *_rest = line.split()
        target = str(path.resolve())
        if (target == mount or target.startswith(mount.rstrip("/") + "/")) and len(mount) > len(
            best
        ):
            best, kind = mount, fstype
    return kind


@pytest.mark.skipif(not SHM.is_dir(), reason="no /dev/shm on this system")
def test_a_busy_sign_in_leaves_no_time_in_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import statements.settings

    # The real shared memory (tests elsewhere use a folder of their own).
    monkeypatch.setattr(statements.settings, "SHARED_MEMORY", SHM)
    instance = tmp_path / "instance"
    settings = Settings.from_env({"APP_ENV": "development", "KDF_SLOTS": "1"}, instance)
    app = create_app(settings)
    pool = app.extensions["auth"].pool
    try:
        assert _filesystem(pool.folder) == "tmpfs"
        assert not pool.folder.resolve().is_relative_to(instance.resolve())
        # Only its owner may read or use it.
        assert pool.folder.stat().st_uid == os.getuid()
        assert pool.folder.stat().st_mode & 0o077 == 0

        started = time.time()
        time.sleep(0.05)
        held, release = threading.Event(), threading.Event()

        def first() -> None:
            with pool.slot():
                held.set()
                release.wait(30)

        holder = threading.Thread(target=first)
        holder.start()
        assert held.wait(30)
        waited: list[bool] = []

        def second() -> None:
            with pool.slot():
                waited.append(True)

        waiter = threading.Thread(target=second)
        waiter.start()
        # Queued once its number is in a seat. (Not "once waiting() counts one": waiting()
        # probes each seat's lock, and so does the waiter before it queues, so a probe of
        # the waiter's own could be counted for a moment.)
        seats = sorted(pool.folder.glob("seat-*"))
        assert seats
        for _ in range(3000):
            if any(seat.read_bytes() for seat in seats):
                break
            time.sleep(0.01)
        assert pool.waiting() == 1  # it queued: it drew a number and took a seat
        release.set()
        holder.join(30)
        waiter.join(30)
        assert waited == [True]

        # Nothing on disk beside the database changed while they signed in.
        for path in instance.rglob("*"):
            stat = path.lstat()
            assert stat.st_mtime < started, path
            assert stat.st_ctime < started, path
    finally:
        if pool.folder.resolve().is_relative_to(SHM.resolve()):
            shutil.rmtree(pool.folder, ignore_errors=True)


def test_a_folder_another_user_could_open_is_refused(tmp_path: Path) -> None:
    from statements.auth.kdf_pool import KdfPool, PoolSize

    folder = tmp_path / "slots"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    with pytest.raises(RuntimeError):
        KdfPool(folder, PoolSize(slots=1, waiting=2, max_wait_seconds=5))
