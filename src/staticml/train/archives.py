"""Zip archives (.keras, .skops) checked from their directory before any member is read.

A zip archive declares each member's size in its central directory; Python's zipfile never
inflates a member past its declared size, so checking the declared sizes bounds what any reader
built on zipfile (Keras, skops) can unpack. The number of members is read from the archive's
end record first, so that a directory of millions of entries is refused before zipfile lists it.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import UserError

MAX_MEMBERS = 10_000
MAX_DIRECTORY_BYTES = 16_000_000  # the central directory itself (zipfile holds it all in memory)
MAX_UNPACKED_BYTES = 1_000_000_000  # all members together: more than any model a page can run
MAX_RATIO = 200  # deflated weights shrink 1.1x; a run of zeros 1000x
RATIO_FROM_BYTES = 1 << 20  # tiny members (JSON, metadata) may compress as well as they like

END_RECORD = struct.Struct("<4s4H2LH")  # signature, disks, entries here, entries, directory size, offset, comment
ZIP64_LOCATOR = struct.Struct("<4sLQL")
ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")
END_SIGNATURE, ZIP64_LOCATOR_SIGNATURE, ZIP64_END_SIGNATURE = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
LONGEST_COMMENT = 0xFFFF


def check_archive(path: Path) -> None:
    """Refuse a zip archive that would unpack to too much, holds too many members, or names a member
    outside its folder. A file that is not a zip archive is left to its importer to name."""
    path = Path(path)
    if not path.is_file() or not zipfile.is_zipfile(path):
        return
    members, directory_bytes = directory_extent(path)
    if members > MAX_MEMBERS:
        raise UserError(f"{path}: refused: the archive holds {members:,} members (at most {MAX_MEMBERS:,})")
    if directory_bytes > MAX_DIRECTORY_BYTES:
        raise UserError(f"{path}: refused: the archive's directory is {directory_bytes / 1e6:.0f} MB "
                        f"(at most {MAX_DIRECTORY_BYTES / 1e6:.0f} MB)")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UserError(f"{path}: a damaged zip archive ({exc})") from None
    for info in infos:
        check_member(path, info)
    total = sum(info.file_size for info in infos)
    if total > MAX_UNPACKED_BYTES:
        raise UserError(f"{path}: refused: its members unpack to {size_text(total)} (at most {size_text(MAX_UNPACKED_BYTES)})")


def check_member(path: Path, info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise UserError(f"{path}: refused: the member {name!r} points outside the archive's folder")
    if info.file_size > MAX_UNPACKED_BYTES:
        raise UserError(f"{path}: refused: the member {name!r} unpacks to {size_text(info.file_size)} "
                        f"(at most {size_text(MAX_UNPACKED_BYTES)})")
    if info.file_size >= RATIO_FROM_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise UserError(f"{path}: refused: the member {name!r} unpacks {info.file_size / max(info.compress_size, 1):.0f} times "
                        f"its packed size to {size_text(info.file_size)} (a zip bomb; at most {MAX_RATIO} times)")


def size_text(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB"


def directory_extent(path: Path) -> tuple[int, int]:
    """(members, central directory bytes) as the archive's end record (or its zip64 one) declares them."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        tail_start = max(0, size - END_RECORD.size - LONGEST_COMMENT)
        f.seek(tail_start)
        tail = f.read()
        at = tail.rfind(END_SIGNATURE)
        if at < 0 or at + END_RECORD.size > len(tail):
            raise UserError(f"{path}: a damaged zip archive (no end record)")
        _, _, _, _, members, directory_bytes, _, _ = END_RECORD.unpack_from(tail, at)
        if members != 0xFFFF and directory_bytes != 0xFFFFFFFF:
            return members, directory_bytes
        locator_at = tail_start + at - ZIP64_LOCATOR.size
        if locator_at < 0:
            raise UserError(f"{path}: a damaged zip archive (no zip64 locator)")
        f.seek(locator_at)
        signature, _, record_at, _ = ZIP64_LOCATOR.unpack(f.read(ZIP64_LOCATOR.size))
        f.seek(record_at)
        record = f.read(ZIP64_END_RECORD.size)
        if signature != ZIP64_LOCATOR_SIGNATURE or len(record) != ZIP64_END_RECORD.size \
                or record[:4] != ZIP64_END_SIGNATURE:
            raise UserError(f"{path}: a damaged zip archive (bad zip64 end record)")
        fields = ZIP64_END_RECORD.unpack(record)
        return fields[7], fields[8]
