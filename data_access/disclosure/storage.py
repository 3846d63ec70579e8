"""Protected cubes as bytes and back, so the disclosure audit runs once per release.

A site's protected cubes take seconds to minutes of linear programming; they
depend only on the release (its checksum), the site, the audience, the
threshold and this code. `data_access.cube_store` keeps them in the database
as the bytes made here, so every server process and every restart reuses them.

Why not pickle: a pickle read back from a database table runs whatever code
the bytes name, which would turn write access to one table into code
execution on the dashboard server. This format names only the classes
registered with `@storable` (plus the two sealed result types of this
package), builds them through their constructors (so their checks run
again), and keeps frames as Arrow IPC.

Layout: MAGIC, an 8-byte big-endian length, a JSON document, then the frames'
IPC bytes one after another (the JSON holds each frame's offset and length);
an audit log is one such table (its cells as JSON text).
An object referenced twice (the same audit log tuple in every level of a cube)
is written once and shared again on reading.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

from data_access.audience import Audience
from data_access.disclosure.protected import _SEAL, AuditRecord, Protected, ProtectedCounts

MAGIC = b"LEAD-CUBE-2\n"  # 2: audit logs as one table

_SEALED = {"Protected": Protected, "ProtectedCounts": ProtectedCounts}
_CLASSES: dict[str, type] = {"AuditRecord": AuditRecord, **_SEALED}


class StorageError(ValueError):
    """Bytes that are not a stored cube this code can read."""


def storable(cls: type) -> type:
    """Register a frozen dataclass (a cube's container) as readable from storage."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    name = cls.__name__
    if _CLASSES.get(name, cls) is not cls:
        raise ValueError(f"two storable classes are named {name!r}")
    _CLASSES[name] = cls
    return cls


def to_bytes(value: Any) -> bytes:
    """The bytes of a cube (any nesting of registered dataclasses, frames and plain values)."""
    writer = _Writer()
    document = json.dumps(writer.encode(value), separators=(",", ":")).encode()
    return MAGIC + len(document).to_bytes(8, "big") + document + b"".join(writer.blobs)


def from_bytes(data: bytes) -> Any:
    """The cube `to_bytes` wrote; StorageError for anything else."""
    if not data.startswith(MAGIC):
        raise StorageError("not a stored cube (unknown header)")
    start = len(MAGIC) + 8
    size = int.from_bytes(data[len(MAGIC) : start], "big")
    try:
        document = json.loads(data[start : start + size])
    except ValueError as exc:
        raise StorageError(f"stored cube header is not JSON: {exc}") from None
    return _Reader(memoryview(data)[start + size :]).decode(document)


class _Writer:
    def __init__(self) -> None:
        self.blobs: list[bytes] = []
        self.offset = 0
        self.seen: dict[int, int] = {}  # id(object) -> reference number
        self.count = 0

    def encode(self, value: Any) -> Any:
        if isinstance(value, Audience):  # before str: Audience is a StrEnum
            return {"audience": value.value}
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, dt.datetime):
            raise TypeError("datetimes are not stored in cubes")
        if isinstance(value, dt.date):
            return {"date": value.isoformat()}
        # Containers and frames: written once, referenced afterwards.
        if id(value) in self.seen:
            return {"ref": self.seen[id(value)]}
        encoded = self._encode_shared(value)
        self.seen[id(value)] = self.count
        encoded["id"] = self.count
        self.count += 1
        return encoded

    def _encode_shared(self, value: Any) -> dict[str, Any]:
        if isinstance(value, pl.DataFrame):
            return {"frame": self._blob(value)}
        if isinstance(value, tuple) and value and all(type(v) is AuditRecord for v in value):
            audit = _audit_table(value)
            if audit is not None:
                return {"audit": self._blob(audit)}
        if isinstance(value, tuple):
            return {"tuple": [self.encode(v) for v in value]}
        if isinstance(value, list):
            return {"list": [self.encode(v) for v in value]}
        if isinstance(value, Mapping):
            return {"map": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        name = type(value).__name__
        if dataclasses.is_dataclass(value) and _CLASSES.get(name) is type(value):
            fields = {
                f.name: self.encode(getattr(value, f.name))
                for f in dataclasses.fields(value)
                if f.init and f.name != "_seal"
            }
            return {"class": name, "fields": fields}
        raise TypeError(f"cannot store a {type(value).__qualname__} (register it with @storable)")

    def _blob(self, frame: pl.DataFrame) -> list[int]:
        buffer = io.BytesIO()
        frame.write_ipc(buffer, compression="zstd")
        blob = buffer.getvalue()
        self.blobs.append(blob)
        self.offset += len(blob)
        return [self.offset - len(blob), len(blob)]


def _audit_table(records: tuple[AuditRecord, ...]) -> pl.DataFrame | None:
    """An audit log as one table, its cells as JSON; None if a cell value is not JSON.

    A cube's audit log holds a record per withheld cell (tens of thousands for a
    national site); as nested JSON nodes they were most of the time to read a
    cube back, as one Arrow table they are one read and a loop.
    """
    try:
        cells = [json.dumps(r.cell, allow_nan=False) for r in records]
    except (TypeError, ValueError):  # a date or other value: the general form keeps it
        return None
    return pl.DataFrame(
        {
            "view": [r.view for r in records],
            "column": [r.column for r in records],
            "cell": cells,
            "rule": [r.rule for r in records],
            "reason": [r.reason for r in records],
        },
        schema={c: pl.String for c in ("view", "column", "cell", "rule", "reason")},
    )


class _Reader:
    def __init__(self, blobs: memoryview) -> None:
        self.blobs = blobs
        self.shared: dict[int, Any] = {}
        self.decoders: dict[str, Callable[[Any], Any]] = {
            "frame": self._frame,
            "audit": self._audit,
            "tuple": lambda items: tuple(self.decode(v) for v in items),
            "list": lambda items: [self.decode(v) for v in items],
            "map": lambda pairs: {self.decode(k): self.decode(v) for k, v in pairs},
        }

    def decode(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if "audience" in node:
            return Audience(node["audience"])
        if "date" in node:
            return dt.date.fromisoformat(node["date"])
        if "ref" in node:
            try:
                return self.shared[node["ref"]]
            except KeyError:
                raise StorageError(f"stored cube refers to unknown object {node['ref']}") from None
        value = self._decode_shared(node)
        self.shared[node["id"]] = value
        return value

    def _decode_shared(self, node: dict[str, Any]) -> Any:
        if "class" in node:
            name = node["class"]
            cls = _CLASSES.get(name)
            if cls is None:
                raise StorageError(f"stored cube names an unknown class {name!r}")
            arguments = {k: self.decode(v) for k, v in node["fields"].items()}
            if name in _SEALED:
                # This package wrote these bytes from a Protected it made; the
                # constructor's own checks (audience against k) run again.
                arguments["_seal"] = _SEAL
            return cls(**arguments)
        for kind, decoder in self.decoders.items():
            if kind in node:
                return decoder(node[kind])
        raise StorageError(f"stored cube holds an unknown node {sorted(node)}")

    def _audit(self, span: list[int]) -> tuple[AuditRecord, ...]:
        table = self._frame(span)
        # One parse for every cell of the log, not one per record.
        cells = json.loads("[" + ",".join(table["cell"]) + "]")
        return tuple(
            AuditRecord(view, column, tuple(tuple(pair) for pair in cell), rule, why)
            for view, column, cell, rule, why in zip(
                table["view"], table["column"], cells, table["rule"], table["reason"], strict=True
            )
        )

    def _frame(self, span: list[int]) -> pl.DataFrame:
        start, length = span
        if start < 0 or start + length > len(self.blobs):
            raise StorageError("stored cube is truncated")
        # pyarrow reads a small IPC file three times faster than pl.read_ipc, and a
        # cold Compare page reads about 1,500 of them.
        table = ipc.open_file(pa.BufferReader(self.blobs[start : start + length])).read_all()
        return pl.from_arrow(table)
