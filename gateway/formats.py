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
        return _heif_family(data)
    return None


# ISO base media file brands (ISO/IEC 23008-12, MIAF, AV1-AVIF): HEVC-coded HEIF ("HEIC") and AV1-coded AVIF.
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2", b"miaf"})
MAX_FTYP_BRANDS = 64


def _heif_family(data: bytes) -> str | None:
    """HEIF or AVIF by the ftyp box: its major brand, and for a generic major brand ("mif1", "msf1") its compatible
    brands. A video (isom, mp42, qt) or any other ISO media file is not an image we know."""
    major = data[8:12]
    if major in _AVIF_BRANDS:
        return "AVIF"
    if major in _HEIC_BRANDS:
        return "HEIF"
    if major not in _GENERIC_HEIF_BRANDS:
        return None
    size = int.from_bytes(data[:4], "big")
    end = min(len(data), max(size, 16), 16 + 4 * MAX_FTYP_BRANDS)
    compatible = {data[i:i + 4] for i in range(16, end - 3, 4)}
    return "AVIF" if compatible & _AVIF_BRANDS and not compatible & _HEIC_BRANDS else "HEIF"


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
    "PROMPT": "the prompt text sent with the upload: chat messages, prompt form fields (one report per request)",
}
# Documents that `redact` can rewrite faithfully: text spans replaced by [ENTITY] (plain text, Word and PowerPoint
# XML), pictures painted, ZIP members redacted and re-zipped. Every other type gets the rule's redact_fallback.
REDACTABLE_DOCUMENT_TYPES: frozenset[str] = frozenset({"TEXT", "ZIP", "DOCX", "PPTX", "PROMPT"})
