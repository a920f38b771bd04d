"""Search every file under a folder for byte strings, including where a plain grep would miss
them: Fabric keeps state, private data and indexes in LevelDB, whose table files (*.ldb) are
Snappy-compressed block by block (a compressed block can encode a repeated substring as a
back-reference, splitting the text), and whose write-ahead logs (*.log) cut records into 32 KiB
blocks with a 7-byte header in between. Both are decoded here (LevelDB's documented table and
log formats), so a value is found wherever a peer or orderer stored it."""

from __future__ import annotations

import re
from pathlib import Path

_LEVELDB_LOG = re.compile(r"^\d{6}\.log$")
_TABLE_MAGIC = 0xDB4775248B80FB57
_LOG_BLOCK = 32768
_NO_COMPRESSION, _SNAPPY = 0, 1


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def snappy_decompress(data: bytes) -> bytes:
    """Raw Snappy (the format LevelDB uses for a table block)."""
    length, at = _varint(data, 0)
    out = bytearray()
    while at < len(data):
        tag = data[at]
        at += 1
        kind = tag & 3
        if kind == 0:  # literal
            size = tag >> 2
            if size >= 60:
                extra = size - 59
                size = int.from_bytes(data[at:at + extra], "little")
                at += extra
            size += 1
            out += data[at:at + size]
            at += size
            continue
        if kind == 1:
            size, offset = ((tag >> 2) & 7) + 4, ((tag >> 5) << 8) | data[at]
            at += 1
        elif kind == 2:
            size, offset = (tag >> 2) + 1, int.from_bytes(data[at:at + 2], "little")
            at += 2
        else:
            size, offset = (tag >> 2) + 1, int.from_bytes(data[at:at + 4], "little")
            at += 4
        if offset == 0 or offset > len(out):
            raise ValueError("corrupt snappy data")
        for _ in range(size):  # a copy may overlap what it produces
            out.append(out[-offset])
    if len(out) != length:
        raise ValueError("snappy length mismatch")
    return bytes(out)


def _block(data: bytes, offset: int, size: int) -> bytes:
    contents, kind = data[offset:offset + size], data[offset + size]
    if kind == _SNAPPY:
        return snappy_decompress(contents)
    if kind == _NO_COMPRESSION:
        return contents
    raise ValueError(f"unknown block compression {kind}")


def leveldb_table_blocks(data: bytes) -> list[bytes]:
    """Every block of a LevelDB table file, uncompressed (index, meta and data blocks)."""
    if len(data) < 48 or int.from_bytes(data[-8:], "little") != _TABLE_MAGIC:
        raise ValueError("not a LevelDB table")
    footer = data[-48:]
    _, at = _varint(footer, 0)  # metaindex offset
    _, at = _varint(footer, at)  # metaindex size
    index_offset, at = _varint(footer, at)
    index_size, _ = _varint(footer, at)
    index = _block(data, index_offset, index_size)
    blocks = [index]
    restarts = int.from_bytes(index[-4:], "little")
    end, at = len(index) - 4 - 4 * restarts, 0
    while at < end:  # entries: shared, unshared, value length, key delta, value (a handle)
        _, at = _varint(index, at)
        unshared, at = _varint(index, at)
        value_length, at = _varint(index, at)
        at += unshared
        offset, handle_at = _varint(index, at)
        size, _ = _varint(index, handle_at)
        at += value_length
        blocks.append(_block(data, offset, size))
    return blocks


def leveldb_log_records(data: bytes) -> bytes:
    """The payloads of a LevelDB write-ahead log, joined without the block and record headers."""
    out, at = bytearray(), 0
    while at + 7 <= len(data):
        room = _LOG_BLOCK - at % _LOG_BLOCK
        if room < 7:  # trailer padding of a block
            at += room
            continue
        length = int.from_bytes(data[at + 4:at + 6], "little")
        if length == 0 and data[at + 6] == 0:  # preallocated zeroes
            at += room
            continue
        out += data[at + 7:at + 7 + length]
        at += 7 + length
    return bytes(out)


def readable_forms(path: Path) -> list[bytes]:
    """The file's bytes, plus what LevelDB decoding yields for its tables and logs."""
    data = path.read_bytes()
    forms = [data]
    if path.suffix in (".ldb", ".sst"):
        forms += leveldb_table_blocks(data)
    elif _LEVELDB_LOG.match(path.name) and (path.parent / "CURRENT").exists():
        forms.append(leveldb_log_records(data))
    return forms


def find(folders: list[Path], needles: dict[str, bytes]) -> dict[str, list[str]]:
    """needle name -> files (under any of ``folders``) that hold it, in any readable form."""
    found: dict[str, list[str]] = {name: [] for name in needles}
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            forms = readable_forms(path)
            for name, needle in needles.items():
                if any(needle in form for form in forms):
                    found[name].append(str(path))
    return found
