"""Archives: ZIP, tar, and gzip/bzip2/xz streams. Every member is read (streamed, capped) and inspected as what
its bytes are: an image, a document (recursively), text, or a binary that is counted and skipped.

Declared sizes are never trusted: members are read through the Walk's byte budget, a ZIP's member count comes
from its end record before the directory is parsed, and nesting is bounded by depth. Encrypted members raise
ENCRYPTED, so the policy's on_error decides.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator

from gateway.documents import Walk, join_member
from gateway.documents.sniff import central_directory
from gateway.models import InspectionError, InspectionErrorKind

MAX_DIRECTORY_ENTRY_BYTES = 4096  # a central directory larger than members x this is refused before it is parsed
_DECOMPRESSORS = {"GZIP": lambda f: gzip.GzipFile(fileobj=f), "BZIP2": bz2.BZ2File, "XZ": lzma.LZMAFile}
_CORRUPT = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, lzma.LZMAError,
            tarfile.TarError, RuntimeError)


def open_zip(data: bytes, walk: Walk) -> zipfile.ZipFile:
    """A ZipFile on `data` after checking its end record against the member limit (ZIP and Office packages)."""
    directory = central_directory(data)
    if directory is None:
        raise InspectionError(InspectionErrorKind.CORRUPT, "ZIP without a central directory")
    _offset, size, count = directory
    walk.check_members(count)
    if size > (walk.limits.max_archive_members - walk.facts.members + 1) * MAX_DIRECTORY_ENTRY_BYTES:
        raise InspectionError(InspectionErrorKind.TOO_MANY_MEMBERS,
                              f"a {size}-byte ZIP directory (max_archive_members {walk.limits.max_archive_members})")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except _CORRUPT as err:
        raise InspectionError(InspectionErrorKind.CORRUPT, f"unreadable ZIP: {type(err).__name__}") from None


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, walk: Walk) -> bytes:
    """One ZIP member's bytes, read through the expanded-bytes budget."""
    if info.flag_bits & 0x1:
        raise InspectionError(InspectionErrorKind.ENCRYPTED, "a password-protected ZIP member")
    try:
        with zf.open(info) as stream:
            return walk.read(stream)
    except NotImplementedError:
        raise InspectionError(InspectionErrorKind.UNSUPPORTED_FORMAT,
                              f"ZIP compression method {info.compress_type} is not supported") from None
    except _CORRUPT as err:
        raise InspectionError(InspectionErrorKind.CORRUPT, f"unreadable ZIP member: {type(err).__name__}") from None


def read_zip(data: bytes, walk: Walk, member: str | None, depth: int) -> Iterator:
    with open_zip(data, walk) as zf:
        for info in zf.infolist():
            walk.count_member()
            if info.is_dir():
                continue
            content = read_member(zf, info, walk)
            yield from walk.member_parts(content, join_member(member, info.filename), depth)


def read_tar(data: bytes, walk: Walk, member: str | None, depth: int) -> Iterator:
    try:
        tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:")
    except _CORRUPT as err:
        raise InspectionError(InspectionErrorKind.CORRUPT, f"unreadable tar: {type(err).__name__}") from None
    with tar:
        while True:
            try:
                info = tar.next()
            except _CORRUPT as err:
                raise InspectionError(InspectionErrorKind.CORRUPT, f"unreadable tar: {type(err).__name__}") from None
            if info is None:
                return
            walk.count_member()
            if not info.isfile():
                continue
            stream = tar.extractfile(info)
            # A regular member is a slice of bytes already here; a sparse one expands its holes: count those.
            content = walk.read(stream) if info.issparse() else stream.read()
            yield from walk.member_parts(content, join_member(member, info.name), depth)


def read_compressed(data: bytes, kind: str, walk: Walk, member: str | None, depth: int) -> Iterator:
    """A gzip/bzip2/xz stream: its decompressed content, read through the budget, is inspected as what it is."""
    try:
        with _DECOMPRESSORS[kind](io.BytesIO(data)) as stream:
            content = walk.read(stream)
    except _CORRUPT as err:
        raise InspectionError(InspectionErrorKind.CORRUPT, f"unreadable {kind} stream: {type(err).__name__}") from None
    # The compressed file's content keeps the compressed file's place: a .tar.gz's members are "a.tar.gz!/x".
    yield from walk.member_parts(content, member, depth)


def ole_error(data: bytes, member: str | None) -> InspectionError:
    """Legacy Office files are not read; a password-protected DOCX/XLSX/PPTX is an OLE file too."""
    where = f" ({member})" if member else ""
    if "EncryptedPackage".encode("utf-16-le") in data:
        return InspectionError(InspectionErrorKind.ENCRYPTED, f"a password-protected Office file{where}")
    return InspectionError(InspectionErrorKind.UNSUPPORTED_FORMAT, f"a legacy Office (OLE) file{where}")


def rebuild_zip(data: bytes, replacements: dict[str, bytes], walk: Walk) -> bytes:
    """The ZIP with the named members' contents replaced; order, names, dates, modes and comments kept."""
    with open_zip(data, walk) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        ambiguous = [n for n in replacements if names.count(n) != 1]
        if ambiguous:
            raise InspectionError(InspectionErrorKind.NOT_REDACTABLE, "a ZIP member name that is missing or repeated")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as new:
            new.comment = zf.comment
            for info in infos:
                content = replacements[info.filename] if info.filename in replacements \
                    else (b"" if info.is_dir() else read_member(zf, info, walk))
                copy = zipfile.ZipInfo(info.filename, info.date_time)
                copy.compress_type, copy.comment, copy.extra = info.compress_type, info.comment, _without_zip64(info.extra)
                copy.external_attr, copy.create_system = info.external_attr, info.create_system
                new.writestr(copy, content)
    return out.getvalue()


def _without_zip64(extra: bytes) -> bytes:
    """Extra fields minus the ZIP64 one, whose sizes belong to the old member (zipfile writes its own)."""
    out, pos = [], 0
    while pos + 4 <= len(extra):
        field_id, size = struct.unpack("<HH", extra[pos:pos + 4])
        if field_id != 0x0001:
            out.append(extra[pos:pos + 4 + size])
        pos += 4 + size
    return b"".join(out)
