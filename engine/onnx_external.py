"""Read which external-data files an .onnx file needs, and how many bytes of each.

A hand-written protobuf walk, because the `onnx` package is not a run-time dependency and
onnx.load has had external-data CVEs; we only need ModelProto.graph.initializer[*].external_data.
A truncated .onnx fails to parse, which is what the caller wants to know.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from pathlib import Path

# Field numbers from onnx.proto.
_MODEL_GRAPH = 7
_MODEL_OPSET_IMPORT = 8
_GRAPH_INITIALIZER = 5
_TENSOR_EXTERNAL_DATA = 13
_ENTRY_KEY, _ENTRY_VALUE = 1, 2


class MalformedOnnxError(ValueError):
    """The file is not a complete ONNX protobuf."""


@dataclass(frozen=True)
class ExternalRef:
    """One initializer stored in another file."""

    location: str
    end: int | None  # offset + length, when both are given


def external_refs(path: Path) -> list[ExternalRef]:
    """Every external-data reference of the model's main graph."""
    with path.open("rb") as handle:
        if path.stat().st_size == 0:
            raise MalformedOnnxError("the file is empty")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            top = list(_fields(data, 0, len(data)))
            graphs = [v for f, v in top if f == _MODEL_GRAPH]
            # opset_import is written after the graph, so a file cut at a field boundary
            # still shows as incomplete.
            if not graphs or not any(f == _MODEL_OPSET_IMPORT for f, _ in top):
                raise MalformedOnnxError("the file is truncated or not an ONNX model")
            refs: list[ExternalRef] = []
            for start, stop in graphs:
                for field, (t_start, t_stop) in _fields(data, start, stop):
                    if field == _GRAPH_INITIALIZER:
                        ref = _tensor_ref(data, t_start, t_stop)
                        if ref is not None:
                            refs.append(ref)
            return refs


def _tensor_ref(data: mmap.mmap, start: int, stop: int) -> ExternalRef | None:
    entries: dict[str, str] = {}
    for field, (e_start, e_stop) in _fields(data, start, stop):
        if field != _TENSOR_EXTERNAL_DATA:
            continue
        key = value = ""
        for sub, (s_start, s_stop) in _fields(data, e_start, e_stop):
            text = bytes(data[s_start:s_stop]).decode("utf-8", "replace")
            if sub == _ENTRY_KEY:
                key = text
            elif sub == _ENTRY_VALUE:
                value = text
        entries[key] = value
    if "location" not in entries:
        return None
    try:
        offset = int(entries.get("offset", "0"))
        length = int(entries["length"]) if "length" in entries else None
    except ValueError as exc:
        raise MalformedOnnxError(f"bad external data offset or length: {exc}") from None
    return ExternalRef(entries["location"], None if length is None else offset + length)


def _fields(data: mmap.mmap, pos: int, stop: int):
    """Yield (field number, (start, stop)) for length-delimited fields; skip the others."""
    while pos < stop:
        key, pos = _varint(data, pos, stop)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = _varint(data, pos, stop)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(data, pos, stop)
            if pos + length > stop:
                raise MalformedOnnxError("the file is truncated")
            yield field, (pos, pos + length)
            pos += length
        else:
            raise MalformedOnnxError(f"unexpected protobuf wire type {wire}")
        if pos > stop:
            raise MalformedOnnxError("the file is truncated")


def _varint(data: mmap.mmap, pos: int, stop: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= stop:
            raise MalformedOnnxError("the file is truncated")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise MalformedOnnxError("bad varint")
