"""The public log over HTTP: checkpoints, entries, the bundle an entry stands for, and
inclusion and consistency proofs (RFC 9162). Routes of the public blueprint (public.py)."""

from __future__ import annotations

import re

from flask import Response, request

from statements.db import get_session
from statements.publishing import log
from statements.publishing.errors import LogRangeError
from statements.publishing.public import (
    IMMUTABLE,
    _b64,
    _json,
    _json_error,
    _text,
    blueprint,
)

_INT = re.compile(r"[0-9]{1,20}")


class BadLogQuery(Exception):
    """A proof was asked for without whole-number parameters."""


@blueprint.errorhandler(LogRangeError)
def _out_of_range(_error: LogRangeError) -> tuple[Response, int]:
    return _json_error("no such log position, size or range", 404)


@blueprint.errorhandler(BadLogQuery)
def _bad_query(error: BadLogQuery) -> tuple[Response, int]:
    return _json_error(str(error), 400)


@blueprint.route("/log/checkpoint")
def checkpoint() -> Response:
    """The latest signed checkpoint (C2SP tlog-checkpoint)."""
    return _text(log.checkpoint(get_session()), "text/plain")


@blueprint.route("/log/checkpoints/<int(max=2147483647):size>")
def checkpoint_at(size: int) -> Response:
    """The signed checkpoint of the log at an earlier size."""
    return _text(log.checkpoint(get_session(), size), "text/plain", IMMUTABLE)


@blueprint.route("/log/entries/<int(max=2147483647):position>")
def entry(position: int) -> Response:
    """A leaf's canonical bytes: a statement, a key rotation, a commitment or a withdrawal."""
    return _text(log.entry(get_session(), position), "application/json", IMMUTABLE)


@blueprint.route("/log/entries/<int(max=2147483647):position>/bundle.json")
def entry_bundle(position: int) -> Response:
    """The bundle an entry stands for: how a log monitor opens a released commitment."""
    return _text(log.bundle_at(get_session(), position), "application/json", IMMUTABLE)


def _int_arg(name: str) -> int:
    raw = request.args.get(name, "")
    if not _INT.fullmatch(raw):
        raise BadLogQuery(f"{name} must be a whole number")
    return int(raw)


@blueprint.route("/log/proof/inclusion")
def inclusion() -> Response:
    """The inclusion proof of entry `index` in the log at `size`."""
    index, size = _int_arg("index"), _int_arg("size")
    proof = log.inclusion(get_session(), index, size)
    return _json(
        {"index": index, "tree_size": size, "inclusion_proof": [_b64(h) for h in proof]},
        IMMUTABLE,
    )


@blueprint.route("/log/proof/consistency")
def consistency() -> Response:
    """The consistency proof from the log at `first` to the log at `second`."""
    first, second = _int_arg("first"), _int_arg("second")
    proof = log.consistency(get_session(), first, second)
    return _json({"first": first, "second": second, "proof": [_b64(h) for h in proof]}, IMMUTABLE)
