"""Tell a document or archive type from its bytes: magic numbers, and ZIP member names for Office Open XML.

Pure bytes and the standard library (the extract layer calls it on request bodies). File names and Content-Type
headers are never consulted: a PDF renamed to .png is a PDF, a DOCX renamed to .zip is a DOCX.
"""

from __future__ import annotations

import codecs
import struct

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EOCD = b"PK\x05\x06"
_EOCD_SEARCH = 22 + 65535  # the end-of-central-directory record plus the longest archive comment
_CD_SCAN_LIMIT = 8 * 2**20  # central directories larger than this are not scanned for Office part names
# Main parts that make a ZIP an Office Open XML package (ECMA-376 part 2; the names are fixed by convention).
_OOXML_MAIN = ((b"word/document.xml", "DOCX"), (b"xl/workbook.xml", "XLSX"), (b"ppt/presentation.xml", "PPTX"))
_TEXT_PROBE = 64 * 1024
_CONTROL = frozenset(range(0, 32)) - {9, 10, 12, 13}


def sniff_document(data: bytes, *, text: bool = False) -> str | None:
    """The document type of `data` (a gateway.formats.DOCUMENT_TYPES key), or None.

    `text` also accepts plain text (TEXT): only where the caller knows the bytes are a file (a multipart file part,
    an archive member), since any JSON or form body is text too.
    """
    head = data[:1024]
    if _is_pdf(data, head):
        return "PDF"
    if head[:4] in ZIP_MAGICS:
        return _zip_kind(data)
    if head.startswith(OLE_MAGIC):
        return "OLE"
    if head[:2] == b"\x1f\x8b":
        return "GZIP"
    if head[:3] == b"BZh" and head[3:4].isdigit():
        return "BZIP2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "XZ"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "TAR"
    if text and decode_text_probe(data) is not None:
        return "TEXT"
    return None


def _is_pdf(data: bytes, head: bytes) -> bool:
    """A %PDF-n.n header first; or within the first KiB (readers allow junk before it) of a file ending in %%EOF."""
    at = head.find(b"%PDF-")
    if at < 0 or not head[at + 5:at + 6].isdigit():
        return False
    return at == 0 or b"%%EOF" in data[-2048:]


def _zip_kind(data: bytes) -> str:
    """DOCX/XLSX/PPTX when the central directory names the package's main part, else ZIP."""
    directory = central_directory(data)
    if directory is not None:
        offset, size, _count = directory
        if size <= _CD_SCAN_LIMIT:
            names = data[offset:offset + size]
            if b"[Content_Types].xml" in names:
                for part, kind in _OOXML_MAIN:
                    if part in names:
                        return kind
    return "ZIP"


def central_directory(data: bytes) -> tuple[int, int, int] | None:
    """(offset, size, entry count) of a ZIP's central directory from its end record (ZIP64 too), or None."""
    tail_start = max(0, len(data) - _EOCD_SEARCH)
    pos = data.rfind(_EOCD, tail_start)
    if pos < 0 or pos + 22 > len(data):
        return None
    _disk, _cd_disk, _n_disk, count, size, offset = struct.unpack("<HHHHII", data[pos + 4:pos + 20])
    if count == 0xFFFF or 0xFFFFFFFF in (size, offset):
        loc = pos - 20  # the ZIP64 end-of-central-directory locator sits right before the end record
        if loc >= 0 and data[loc:loc + 4] == b"PK\x06\x07":
            (rec,) = struct.unpack("<Q", data[loc + 8:loc + 16])
            if data[rec:rec + 4] == b"PK\x06\x06" and rec + 56 <= len(data):
                count, _, size, offset = struct.unpack("<QQQQ", data[rec + 24:rec + 56])
    # Data prepended to the archive (self-extractors) shifts every offset: find the directory from its end instead.
    if offset + size > pos:
        offset = max(0, pos - size)
    return offset, size, count


def decode_text_probe(data: bytes) -> str | None:
    """The encoding `data` reads as text in (utf-8-sig, utf-16, utf-8, cp1252), judged on its first 64 KiB."""
    probe = data[:_TEXT_PROBE]
    if not probe.strip():
        return None
    if probe.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if probe.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if b"\x00" in probe:
        return None
    try:
        text = probe.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(probe) - 3:  # not just a character cut by the probe's end
            return "cp1252" if _mostly_printable(probe) else None
        text = probe[:err.start].decode("utf-8")
    controls = sum(1 for ch in text if ord(ch) in _CONTROL)
    return "utf-8" if controls <= len(text) // 100 else None


def _mostly_printable(probe: bytes) -> bool:
    """Legacy 8-bit text (Windows-1252 CSV exports): almost no control bytes."""
    controls = sum(1 for b in probe if b in _CONTROL or b == 0x7F)
    return controls <= len(probe) // 100
