"""The disk scan of the private-terms test finds text that LevelDB compressed or split."""

from __future__ import annotations

from tests.integration import disk_scan

SECRET = b"SecretLesseeCo"


def varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes(out + bytes([n]))


def snappy(literal: bytes, copy_offset: int, copy_length: int) -> bytes:
    """A literal, then a 2-byte-offset copy: the text a compressed block would split."""
    expanded = bytearray(literal)
    for _ in range(copy_length):
        expanded.append(expanded[-copy_offset])
    return (varint(len(expanded)) + bytes([(len(literal) - 1) << 2]) + literal
            + bytes([(copy_length - 1) << 2 | 2]) + copy_offset.to_bytes(2, "little"))


def test_snappy_copies_are_expanded():
    compressed = snappy(b"Secret", 6, 8)  # "Secret" + "SecretSe"
    assert disk_scan.snappy_decompress(compressed) == b"SecretSecretSe"


def test_a_compressed_table_block_is_searched(tmp_path):
    # "LesseeSecret" + a copy of "Lessee": "SecretLessee" exists only once decompressed.
    data_block = snappy(b"LesseeSecret", 12, 6)
    handle = varint(0) + varint(len(data_block))
    index = varint(0) + varint(1) + varint(len(handle)) + b"k" + handle
    index += (0).to_bytes(4, "little") + (1).to_bytes(4, "little")
    table = data_block + b"\x01" + b"\0" * 4
    index_offset = len(table)
    table += index + b"\x00" + b"\0" * 4
    footer = varint(0) + varint(0) + varint(index_offset) + varint(len(index))
    table += footer.ljust(40, b"\0") + (0xDB4775248B80FB57).to_bytes(8, "little")
    path = tmp_path / "000005.ldb"
    path.write_bytes(table)
    assert b"SecretLessee" not in table
    assert disk_scan.find([tmp_path], {"secret": b"SecretLessee"})["secret"] == [str(path)]


def test_a_log_record_split_across_blocks_is_joined(tmp_path):
    (tmp_path / "CURRENT").write_text("MANIFEST-000001\n")
    payload = b"a" * (32768 - 7 - 5) + SECRET
    first = payload[:32768 - 7]
    second = payload[32768 - 7:]
    log = (b"\0" * 4 + len(first).to_bytes(2, "little") + b"\x02" + first
           + b"\0" * 4 + len(second).to_bytes(2, "little") + b"\x04" + second)
    (tmp_path / "000003.log").write_bytes(log)
    assert SECRET not in log
    assert disk_scan.find([tmp_path], {"secret": SECRET})["secret"] == [str(tmp_path / "000003.log")]
