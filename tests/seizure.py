"""What someone who copies a running server's database files can read, and what they infer.

Forensic readers turn a copy into an ordered list of transactions, each with the rows it
inserted, updated or deleted:

- SQLite: the copied main file and `-wal`. The log is split into frames; every commit
  frame marks a transaction, and the database as of each commit is rebuilt (main file
  plus the log cut after that commit, no `-shm`: sqlite3 recovers it) and compared with
  the one before.
- PostgreSQL: every tuple of every table, live or dead, read raw with `pageinspect`
  (`xmin`, `xmax`, `ctid` and the attribute bytes), grouped by the transaction that wrote
  it and ordered by transaction id. Without `pageinspect`, the live rows' `xmin`.
- Row order: SQLite rowids and PostgreSQL ctids, as insertion order per table.

The attacks then score claims against the ground truth the test kept. Nothing here knows
how the server defends itself; it reads only what a copy of the files holds.
"""

from __future__ import annotations

import math
import shutil
import sqlite3
import struct
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

Key = tuple[Any, ...]

# --- what a copy yields -----------------------------------------------------------------


@dataclass(frozen=True)
class RowWrite:
    """One row one transaction wrote: the values after it, or before it for a delete."""

    table: str
    key: Key
    op: str  # "insert", "update" or "delete"
    values: dict[str, Any]


@dataclass
class Transaction:
    """One committed transaction, in the order the copy shows."""

    order: int
    writes: list[RowWrite] = field(default_factory=list)


@dataclass
class Seizure:
    """Everything recovered from one copy."""

    source: str
    transactions: list[Transaction]
    # Per table, row keys in the order the storage keeps them (rowid, ctid).
    row_order: dict[str, list[Key]]
    # Per table, how many rows the copy holds now.
    final_rows: dict[str, int]
    notes: list[str] = field(default_factory=list)


# --- SQLite: the write-ahead log, commit by commit ----------------------------------------

WAL_HEADER = 32
FRAME_HEADER = 24


def copy_sqlite_files(database: Path, into: Path) -> Path:
    """Copy the main file, `-wal` and `-shm` as they are, as someone seizing them would."""
    into.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{database}{suffix}")
        if source.exists():
            shutil.copyfile(source, into / f"copy.sqlite3{suffix}")
    return into / "copy.sqlite3"


def _wal_checksum(data: bytes, s0: int, s1: int, big_endian: bool) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def wal_commit_offsets(wal: bytes) -> list[int]:
    """Byte offsets just after each valid commit frame of a `-wal` file, in order.

    Frames are valid while their salts match the header's and the running checksum
    holds; frames left from before the log was restarted fail either test and are
    ignored, as sqlite3 itself ignores them.
    """
    if len(wal) < WAL_HEADER:
        return []
    magic, _version, page_size, _seq, salt1, salt2, c0, c1 = struct.unpack(">8I", wal[:32])
    if magic not in (0x377F0682, 0x377F0683):
        raise ValueError("not a SQLite write-ahead log")
    big_endian = bool(magic & 1)
    s0, s1 = _wal_checksum(wal[:24], 0, 0, big_endian)
    if (s0, s1) != (c0, c1):
        return []
    commits = []
    offset = WAL_HEADER
    frame = FRAME_HEADER + page_size
    while offset + frame <= len(wal):
        header = wal[offset : offset + FRAME_HEADER]
        _page, db_size, f_salt1, f_salt2, f_c0, f_c1 = struct.unpack(">6I", header)
        if (f_salt1, f_salt2) != (salt1, salt2):
            break
        s0, s1 = _wal_checksum(header[:8], s0, s1, big_endian)
        s0, s1 = _wal_checksum(wal[offset + FRAME_HEADER : offset + frame], s0, s1, big_endian)
        if (s0, s1) != (f_c0, f_c1):
            break
        offset += frame
        if db_size:
            commits.append(offset)
    return commits


Snapshot = dict[str, dict[Key, tuple[int | None, dict[str, Any]]]]


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, bytes | bytearray | memoryview) else value


def _read_sqlite(path: Path) -> Snapshot:
    """Every row of every table, by primary key, with its rowid where the table has one."""
    connection = sqlite3.connect(path)
    try:
        tables = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        snapshot: Snapshot = {}
        for name, sql in tables:
            info = connection.execute(f'PRAGMA table_info("{name}")').fetchall()
            columns = [row[1] for row in info]
            primary = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]]
            has_rowid = "WITHOUT ROWID" not in (sql or "").upper()
            select = ", ".join(f'"{c}"' for c in columns)
            if has_rowid:
                select = f"rowid, {select}"
            rows: dict[Key, tuple[int | None, dict[str, Any]]] = {}
            for row in connection.execute(f'SELECT {select} FROM "{name}"'):  # noqa: S608
                rowid = row[0] if has_rowid else None
                values = {
                    c: _plain(v)
                    for c, v in zip(columns, row[1:] if has_rowid else row, strict=True)
                }
                key = tuple(values[c] for c in primary) if primary else (rowid,)
                rows[key] = (rowid, values)
            snapshot[name] = rows
        return snapshot
    finally:
        connection.close()


def _snapshot_at(main: bytes, wal: bytes, end: int, workdir: Path) -> Snapshot:
    """The database as of the commit that ends at byte `end` of the log."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "at.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(main)
    if end:
        Path(f"{path}-wal").write_bytes(wal[:end])
    return _read_sqlite(path)


def _diff(order: int, before: Snapshot, after: Snapshot) -> Transaction:
    transaction = Transaction(order)
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, {}), after.get(table, {})
        for key in old.keys() - new.keys():
            transaction.writes.append(RowWrite(table, key, "delete", old[key][1]))
        for key, (_rowid, values) in new.items():
            if key not in old:
                transaction.writes.append(RowWrite(table, key, "insert", values))
            elif old[key][1] != values:
                transaction.writes.append(RowWrite(table, key, "update", values))
    return transaction


def sqlite_history(copy: Path, workdir: Path) -> Seizure:
    """Replay a copied SQLite database and its `-wal` commit by commit."""
    main = copy.read_bytes()
    wal_path = Path(f"{copy}-wal")
    wal = wal_path.read_bytes() if wal_path.exists() else b""
    commits = wal_commit_offsets(wal)
    previous = _snapshot_at(main, wal, 0, workdir)
    transactions = []
    for index, end in enumerate(commits, start=1):
        current = _snapshot_at(main, wal, end, workdir)
        transaction = _diff(index, previous, current)
        if transaction.writes:
            transactions.append(transaction)
        previous = current
    row_order = {
        table: [key for key, (rowid, _v) in sorted(rows.items(), key=lambda kv: kv[1][0] or 0)]
        for table, rows in previous.items()
        if rows and next(iter(rows.values()))[0] is not None
    }
    final_rows = {table: len(rows) for table, rows in previous.items()}
    notes = [f"-wal: {len(wal)} bytes, {len(commits)} commits"]
    return Seizure("sqlite-wal", transactions, row_order, final_rows, notes)


# --- PostgreSQL: tuples by the transaction that wrote them ------------------------------

HEAP_XMAX_LOCK_ONLY = 0x0080
HEAP_XMIN_FROZEN = 0x0300
HEAP_XMAX_INVALID = 0x0800
HEAP_XMAX_IS_MULTI = 0x1000
LP_NORMAL = 1


def ensure_pageinspect(connection: Connection, schema: str) -> str | None:
    """The schema pageinspect's functions live in, creating the extension if allowed."""
    found = connection.execute(
        text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n"
            " ON n.oid = e.extnamespace WHERE e.extname = 'pageinspect'"
        )
    ).scalar()
    if found:
        return str(found)
    try:
        with connection.begin_nested():
            connection.execute(text(f"CREATE EXTENSION pageinspect SCHEMA {schema}"))
    except Exception:  # not installed, or not allowed: the live rows' xmin is all there is
        return None
    return schema


def _varlena(raw: bytes) -> bytes | None:
    if not raw:
        return b""
    first = raw[0]
    if first == 0x01:  # a TOAST pointer: the value is elsewhere
        return None
    if first & 1:  # short header: one byte, length including itself
        return raw[1 : first >> 1]
    word = int.from_bytes(raw[:4], "little")
    if word & 2:  # compressed inline
        return None
    return raw[4 : word >> 2]


def _decode(type_name: str, raw: bytes | None) -> Any:
    """A raw attribute as Python, for the types the schema uses; else the raw bytes."""
    if raw is None:
        return None
    if type_name == "bytea":
        return _varlena(raw)
    if type_name in ("character varying", "text"):
        data = _varlena(raw)
        return data.decode("utf-8", "replace") if data is not None else None
    if type_name in ("integer", "date"):
        return int.from_bytes(raw[:4], "little", signed=True)
    if type_name in ("bigint", "timestamp with time zone", "timestamp without time zone"):
        return int.from_bytes(raw[:8], "little", signed=True)
    if type_name == "boolean":
        return bool(raw[0])
    return raw


def _tables(
    connection: Connection, schema: str
) -> dict[str, tuple[list[tuple[str, str]], list[str]]]:
    rows = connection.execute(
        text(
            "SELECT c.relname, a.attname, format_type(a.atttypid, NULL), a.attnum,"
            " coalesce(a.attnum = ANY(i.indkey), false), a.attisdropped"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
            " LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary"
            " WHERE n.nspname = :schema AND c.relkind = 'r' ORDER BY c.relname, a.attnum"
        ),
        {"schema": schema},
    ).all()
    tables: dict[str, tuple[list[tuple[str, str]], list[str]]] = {}
    for relname, column, type_name, _num, primary, dropped in rows:
        columns, keys = tables.setdefault(relname, ([], []))
        # A dropped column keeps its place in the rows written before (read as raw bytes).
        columns.append((column, "dropped" if dropped else type_name))
        if primary:
            keys.append(column)
    return tables


def _xid_statuses(connection: Connection, xids: Iterable[int]) -> dict[int, str]:
    current = int(
        connection.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
    )
    epoch, low = current >> 32, current & 0xFFFFFFFF
    statuses = {}
    for xid in set(xids):
        if xid < 3:
            continue
        full = ((epoch if xid <= low else epoch - 1) << 32) | xid
        status = connection.execute(
            text("SELECT pg_xact_status(CAST(CAST(:x AS text) AS xid8))"), {"x": full}
        ).scalar()
        statuses[xid] = str(status)
    return statuses


@dataclass
class _Tuple:
    table: str
    ctid: tuple[int, int]
    xmin: int
    xmax: int | None
    frozen: bool
    key: Key
    values: dict[str, Any]


def _raw_tuples(connection: Connection, schema: str, pageinspect: str) -> list[_Tuple]:
    found = []
    block_size = int(connection.execute(text("SHOW block_size")).scalar_one())
    # The extension's schema is read from the catalogue; the table goes in as a parameter.
    query = (
        "SELECT lp, lp_flags, t_xmin, t_xmax, t_infomask, t_attrs"  # noqa: S608
        f" FROM {pageinspect}.heap_page_item_attrs("
        f"{pageinspect}.get_raw_page(:t, CAST(:b AS integer)), CAST(:t AS regclass))"
    )
    for table, (columns, keys) in _tables(connection, schema).items():
        qualified = f"{schema}.{table}"
        size = int(
            connection.execute(
                text("SELECT pg_relation_size(CAST(:t AS regclass))"), {"t": qualified}
            ).scalar_one()
        )
        for block in range(size // block_size):
            items = connection.execute(text(query), {"t": qualified, "b": block}).all()
            for lp, flags, xmin, xmax, infomask, attrs in items:
                if flags != LP_NORMAL or attrs is None:
                    continue
                values = {
                    name: _decode(type_name, bytes(raw) if raw is not None else None)
                    # A row written before a column was added holds fewer attributes.
                    for (name, type_name), raw in zip(columns, attrs, strict=False)
                }
                removed = None
                if (
                    xmax
                    and not infomask & HEAP_XMAX_INVALID
                    and not infomask & HEAP_XMAX_LOCK_ONLY
                    and not infomask & HEAP_XMAX_IS_MULTI
                ):
                    removed = int(xmax)
                found.append(
                    _Tuple(
                        table,
                        (block, int(lp)),
                        int(xmin),
                        removed,
                        infomask & HEAP_XMIN_FROZEN == HEAP_XMIN_FROZEN,
                        tuple(values[k] for k in keys),
                        values,
                    )
                )
    return found


def postgres_history(connection: Connection, schema: str) -> Seizure:
    """Group every tuple of a schema, live or dead, by the transaction that wrote it."""
    pageinspect = ensure_pageinspect(connection, schema)
    notes = []
    if pageinspect is None:
        notes.append("pageinspect unavailable: live rows' xmin only")
        tuples = []
        for table, (_columns, keys) in _tables(connection, schema).items():
            for row in connection.execute(
                text(f'SELECT ctid::text, xmin::text, * FROM {schema}."{table}"')  # noqa: S608
            ).mappings():
                block, lp = (int(p) for p in row["ctid"].strip("()").split(","))
                values = {k: _plain(v) for k, v in row.items() if k not in ("ctid", "xmin")}
                tuples.append(
                    _Tuple(
                        table,
                        (block, lp),
                        int(row["xmin"]),
                        None,
                        False,
                        tuple(values[k] for k in keys),
                        values,
                    )
                )
    else:
        tuples = _raw_tuples(connection, schema, pageinspect)
    statuses = _xid_statuses(
        connection, [t.xmin for t in tuples] + [t.xmax for t in tuples if t.xmax]
    )

    def committed(xid: int | None) -> bool:
        return xid is not None and statuses.get(xid) == "committed"

    written = {(t.table, t.key, t.xmin) for t in tuples if not t.frozen and committed(t.xmin)}
    removed = {(t.table, t.key, t.xmax) for t in tuples if committed(t.xmax)}
    by_xid: dict[int, list[RowWrite]] = defaultdict(list)
    for t in tuples:
        if not t.frozen and committed(t.xmin):
            op = "update" if (t.table, t.key, t.xmin) in removed else "insert"
            by_xid[t.xmin].append(RowWrite(t.table, t.key, op, t.values))
        if committed(t.xmax) and (t.table, t.key, t.xmax) not in written:
            assert t.xmax is not None
            by_xid[t.xmax].append(RowWrite(t.table, t.key, "delete", t.values))
    transactions = [Transaction(xid, by_xid[xid]) for xid in sorted(by_xid)]
    live = [t for t in tuples if (t.frozen or committed(t.xmin)) and not committed(t.xmax)]
    row_order: dict[str, list[Key]] = defaultdict(list)
    for t in sorted(live, key=lambda t: t.ctid):
        row_order[t.table].append(t.key)
    final_rows = dict(Counter(t.table for t in live))
    notes.append(f"{len(tuples)} tuples, {len(transactions)} transactions")
    return Seizure("postgresql-xid", transactions, dict(row_order), final_rows, notes)


# --- the attacks ------------------------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    """Which tables an attacker treats as anonymous, naming an account, or a login session."""

    anonymous: frozenset[str]
    # table -> the column that holds an account id ("accounts" -> "id").
    account_columns: dict[str, str]
    sessions: frozenset[str]
    # For cascades: (child table, column) -> parent anonymous table whose key it holds.
    cascades: dict[tuple[str, str], str] = field(default_factory=dict)


Write = tuple[int, str, Key]  # (transaction order, table, row key)


@dataclass
class AttackResult:
    """The claims one attack made, and how many the ground truth bears out."""

    name: str
    kind: str  # "attribution" or "same-author"
    claims: int = 0
    correct: int = 0
    chance: float = 0.0
    allowed: int = 0
    examples: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for the report."""
        return (
            f"{self.name}: {self.claims} claims, {self.correct} correct"
            f" (chance {self.chance:.2f} per claim; at most {self.allowed - 1} allowed)"
        )


def chance_limit(claims: int, chance: float, alpha: float = 1e-3) -> int:
    """The least number of correct claims that chance alone reaches with probability < alpha."""
    for k in range(claims + 1):
        tail = sum(
            math.comb(claims, i) * chance**i * (1 - chance) ** (claims - i)
            for i in range(k, claims + 1)
        )
        if tail < alpha:
            return k
    return claims + 1


@dataclass
class _View:
    order: int
    accounts: set[str]  # named directly or through a linked session
    direct: set[str]
    sessions: set[Key]
    anonymous: list[RowWrite]  # the anonymous rows it wrote, cascaded deletes left out


def _views(seizure: Seizure, schema: Schema) -> list[_View]:
    links: dict[Key, str] = {}
    views = []
    for transaction in seizure.transactions:
        direct = {
            str(w.values[schema.account_columns[w.table]])
            for w in transaction.writes
            if w.table in schema.account_columns
            and w.values.get(schema.account_columns[w.table]) is not None
        }
        sessions = {w.key for w in transaction.writes if w.table in schema.sessions}
        if len(direct) == 1:
            for session in sessions:
                links.setdefault(session, next(iter(direct)))
        deleted_parents = {(w.table, w.key) for w in transaction.writes if w.op == "delete"}
        anonymous = [
            w
            for w in transaction.writes
            if w.table in schema.anonymous
            and not (
                w.op == "delete"
                and any(
                    (parent, (w.values.get(column),)) in deleted_parents
                    for (child, column), parent in schema.cascades.items()
                    if child == w.table
                )
            )
        ]
        accounts = direct | {links[s] for s in sessions if s in links}
        views.append(_View(transaction.order, accounts, direct, sessions, anonymous))
    return views


def mixed_transactions(seizure: Seizure, schema: Schema) -> list[str]:
    """Transactions that wrote an anonymous row and a row naming an account or a session."""
    return [
        f"#{view.order}: {sorted({w.table for w in view.anonymous})} with "
        f"{len(view.direct)} account(s), {len(view.sessions)} session row(s)"
        for view in _views(seizure, schema)
        if view.anonymous and (view.direct or view.sessions)
    ]


def run_attacks(
    seizure: Seizure,
    schema: Schema,
    owner: Callable[[RowWrite], str | None],
    members: set[str],
) -> list[AttackResult]:
    """Attribution and grouping attacks, each claim scored against `owner` (the truth).

    An attack claims only where its evidence is unique: one account named, one anonymous
    row written. Chance per claim is what a blind guesser gets: for an attribution,
    always naming the member who wrote most; for a same-author pair, two rows drawn at
    random sharing their author.
    """
    views = _views(seizure, schema)
    truths = [owner(w) for v in views for w in v.anonymous]
    shares = Counter(t for t in truths if t is not None)
    total = sum(shares.values()) or 1
    attribution_chance = max((shares[m] for m in members), default=0) / total
    pair_chance = sum((n / total) ** 2 for n in shares.values())

    same = AttackResult("1 same transaction", "attribution", chance=attribution_chance)
    adjacent = AttackResult("2 adjacent transaction", "attribution", chance=attribution_chance)
    together = AttackResult("3a same transaction", "same-author", chance=pair_chance)
    session = AttackResult("3b same session row", "same-author", chance=pair_chance)

    def attribute(result: AttackResult, write: RowWrite, account: str, order: int) -> None:
        truth = owner(write)
        result.claims += 1
        if truth is not None and truth == account:
            result.correct += 1
            if len(result.examples) < 5:
                result.examples.append(f"#{order} {write.table} {write.op} -> {account[:8]}")

    def pair(result: AttackResult, a: RowWrite, b: RowWrite, where: str) -> None:
        result.claims += 1
        truth_a, truth_b = owner(a), owner(b)
        if truth_a is not None and truth_a == truth_b:
            result.correct += 1
            if len(result.examples) < 5:
                result.examples.append(f"{where}: {a.table} {a.op} ~ {b.table} {b.op}")

    def unique_row(view: _View) -> RowWrite | None:
        keys = {(w.table, w.key) for w in view.anonymous}
        return view.anonymous[0] if len(keys) == 1 else None

    last_in_session: dict[Key, tuple[int, RowWrite]] = {}
    for index, view in enumerate(views):
        if not view.anonymous:
            continue
        if len(view.accounts) == 1:
            (account,) = view.accounts
            for write in view.anonymous:
                attribute(same, write, account, view.order)
        row = unique_row(view)
        if index and row is not None:
            before = views[index - 1]
            if len(before.accounts) == 1 and not before.anonymous:
                attribute(adjacent, row, next(iter(before.accounts)), view.order)
        rows = {(w.table, w.key): w for w in view.anonymous}
        if len(rows) == 2:
            first, second = rows.values()
            pair(together, first, second, f"#{view.order}")
        if row is not None:
            for key in view.sessions:
                if key in last_in_session:
                    order, earlier = last_in_session[key]
                    pair(session, earlier, row, f"#{order}~#{view.order}")
                last_in_session[key] = (view.order, row)
    results = [same, adjacent, together, session]
    for result in results:
        result.allowed = chance_limit(result.claims, result.chance)
    return results
