"""The text of a forwarded PDF or Word file, read with care: the file may be hostile.

The reading itself happens in a child process with kernel limits on its CPU time and
memory (statements/publishing/forwarded_reader.py), so that no file can hold a worker or
exhaust the machine's memory. Whatever goes wrong is one named error
(UnreadableDocument) whose `reason` the page turns into words; nothing of the file is
logged or kept (the child's error output is read and dropped).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from statements.publishing.errors import UnreadableDocument

READER = Path(__file__).with_name("forwarded_reader.py")
# The child's CPU limit is 10 s; a file that keeps it waiting longer (on I/O, or a
# machine so busy its CPU seconds come slowly) is given up on all the same.
TIMEOUT_SECONDS = 30
PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
REASONS = frozenset({"type", "encrypted", "corrupt", "too_large", "no_text"})


def kind_of(data: bytes) -> str | None:
    """ "pdf", "docx" or None, from the file's first bytes (never from its name)."""
    if PDF_MAGIC in data[:1024]:
        return "pdf"
    if data.startswith(ZIP_MAGIC):
        return "docx"
    return None


def text_of(data: bytes, *, cpu_seconds: int | None = None) -> str:
    """The text of a PDF or Word file; UnreadableDocument says why there is none.

    `cpu_seconds` lowers the child's CPU limit (the default is the reader's own).
    """
    if kind_of(data) is None:
        raise UnreadableDocument("type")
    environment = {"PATH": "/usr/bin:/bin"}
    if cpu_seconds is not None:
        environment["FORWARDED_CPU_SECONDS"] = str(int(cpu_seconds))
    # By path, with -I: nothing of this folder or the environment comes before the
    # libraries it imports.
    code = f"import runpy; runpy.run_path({str(READER)!r}, run_name='__main__')"
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and reader, not input
            [sys.executable, "-I", "-c", code],
            input=data,
            env=environment,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UnreadableDocument("too_large") from None
    if done.returncode != 0:
        # Killed at its CPU limit (SIGXCPU), or out of memory before it could answer.
        raise UnreadableDocument("too_large")
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        raise UnreadableDocument("corrupt") from None
    if isinstance(answer, dict) and isinstance(answer.get("text"), str):
        return str(answer["text"])
    reason = answer.get("error") if isinstance(answer, dict) else None
    raise UnreadableDocument(reason if reason in REASONS else "corrupt")
