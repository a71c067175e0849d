"""Image format sniffing by magic bytes. Content-Type headers and file names are never trusted."""

from __future__ import annotations

# (format name, Pillow format name, MIME type)
MIME_TYPES: dict[str, str] = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "HEIF": "image/heic",
    "AVIF": "image/avif",
}


def sniff_format(data: bytes) -> str | None:
    """Return the image format of `data` by its magic bytes, or None if it is not an image we know."""
    head = data[:32]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:2] == b"BM" and len(data) >= 26:
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return "HEIF"
    return None


# Documents and archives (gateway.documents.sniff tells them from their bytes). Policies name them in `format:`.
DOCUMENT_TYPES: dict[str, str] = {
    "PDF": "PDF document",
    "DOCX": "Word document (Office Open XML)",
    "XLSX": "Excel workbook (Office Open XML)",
    "PPTX": "PowerPoint presentation (Office Open XML)",
    "ZIP": "ZIP archive (also ODF, EPUB, JAR)",
    "TAR": "tar archive",
    "GZIP": "gzip-compressed file (a .tar.gz is GZIP holding a TAR)",
    "BZIP2": "bzip2-compressed file",
    "XZ": "xz-compressed file",
    "OLE": "legacy Office file (doc/xls/ppt) or a password-protected Office file: cannot be inspected",
    "TEXT": "plain text: txt, csv, json, markdown, source code, rtf",
}
# Documents that `redact` can rewrite faithfully: text spans replaced by [ENTITY] (plain text, Word and PowerPoint
# XML), pictures painted, ZIP members redacted and re-zipped. Every other type gets the rule's redact_fallback.
REDACTABLE_DOCUMENT_TYPES: frozenset[str] = frozenset({"TEXT", "ZIP", "DOCX", "PPTX"})
