"""Metadata findings (GPS position, device serials, camera owner) and the free texts hidden in metadata.

The texts (EXIF descriptions and comments, XMP, PNG text chunks, JPEG/GIF comments) go back to the caller, which
runs them through the same PII analysis as OCR text. Nothing here reports the values themselves.
"""

from __future__ import annotations

import logging
import re

from PIL import Image

from gateway.inspection.decode import DecodedImage
from gateway.models import Finding, Source

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 8_000  # per text
MAX_TOTAL_CHARS = 64_000  # per image: bounds the PII analysis time a crafted file can cost

_GPS_IFD, _EXIF_IFD = 0x8825, 0x8769
_GPS_LATITUDE, _GPS_LONGITUDE = 2, 4
_SERIAL_TAGS = {0xA431: "BodySerialNumber", 0xA435: "LensSerialNumber", 0xC62F: "CameraSerialNumber"}
_OWNER_TAGS = {0xA430: "CameraOwnerName", 0x013B: "Artist", 0x8298: "Copyright", 0x9C9D: "XPAuthor"}
_TEXT_TAGS = {
    0x010E: "ImageDescription",
    0x9286: "UserComment",
    0x9C9C: "XPComment",
    0x9C9B: "XPTitle",
    0x9C9F: "XPSubject",
    0x9C9E: "XPKeywords",
    0x9C9D: "XPAuthor",
    0x013B: "Artist",
    0x8298: "Copyright",
    0xA430: "CameraOwnerName",
}
_XMP_SERIAL = re.compile(r"(?:Body|Lens|Camera)?SerialNumber", re.I)
_XMP_GPS = re.compile(r"GPS(?:Latitude|Longitude)\b", re.I)
_XMP_OWNER = re.compile(r"^(?:dc:creator|dc:rights|photoshop:Author|aux:OwnerName|exifEX:CameraOwnerName)$", re.I)
# What editing software mints for every file it saves (xmpMM:DocumentID / InstanceID, stEvt:instanceID ...): a
# UUID or 32 hex digits behind scheme words (`xmp.iid:`, `gimp:docid:gimp:`, `adobe:docid:photoshop:`, `uuid:`).
# Not the user's data, and no analyzer text: a UUID recogniser flagged every GIMP export. Any other value stays.
_XMP_ID_VALUE = re.compile(r"(?:[A-Za-z][\w.]*:)*(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                           r"[0-9a-fA-F]{12}|[0-9a-fA-F]{32})")
# Boilerplate that is not a person: "(c) 2024 All rights reserved" and friends.
_NOT_A_NAME = re.compile(r"\(c\)|©|copyright|all rights reserved|unknown|none|n/a|\d+|[^\w\s]", re.I)


def metadata_findings(decoded: DecodedImage) -> tuple[list[Finding], list[str]]:
    """Return (findings with source="metadata" and box None, texts for the PII analyzer)."""
    findings: dict[str, Finding] = {}
    texts: list[str] = []

    def found(entity: str, score: float) -> None:
        if entity not in findings or findings[entity].score < score:
            findings[entity] = Finding(entity, Source.METADATA.value, score)

    raw = decoded.raw
    _exif(raw, found, texts)
    xmp = xmp_bytes(raw)
    if xmp:
        _xmp(xmp, found, texts)
    _comments(raw, texts)
    return list(findings.values()), _bounded(texts)


def _exif(raw: Image.Image, found, texts: list[str]) -> None:
    try:
        exif = raw.getexif()
        gps = exif.get_ifd(_GPS_IFD)
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:  # broken EXIF: report what the rest of the metadata holds
        log.debug("unreadable EXIF", exc_info=True)
        return
    if _has_position(gps):
        found("EXIF_GPS", 1.0)
    tags = {**dict(exif), **dict(sub)}
    if any(_as_text(tags.get(tag)) for tag in _SERIAL_TAGS):
        found("DEVICE_SERIAL", 0.9)
    if any(_personish(_as_text(tags.get(tag))) for tag in _OWNER_TAGS):
        found("CAMERA_OWNER", 0.8)
    for tag, name in _TEXT_TAGS.items():
        value = _as_text(tags.get(tag))
        if value:
            texts.append(f"{name}: {value}")


def _has_position(gps: dict) -> bool:
    try:
        lat, lon = gps.get(_GPS_LATITUDE), gps.get(_GPS_LONGITUDE)
        if lat is None or lon is None:
            return False
        values = [float(v) for v in (*lat, *lon)]
    except (TypeError, ValueError, ZeroDivisionError):
        return bool(gps.get(_GPS_LATITUDE) and gps.get(_GPS_LONGITUDE))
    return any(values)  # all zero is a placeholder, not a position


def xmp_bytes(raw: Image.Image) -> bytes:
    """The XMP packet of the file (JPEG APP1, PNG iTXt, WebP, TIFF tag 700), b"" when there is none."""
    value = raw.info.get("xmp") or raw.info.get("XML:com.adobe.xmp") or b""
    if not value and raw.format == "TIFF":
        value = getattr(raw, "tag_v2", {}).get(700, b"")
    if not value and raw.format == "JPEG":
        for marker, payload in getattr(raw, "applist", []):
            if marker == "APP1" and payload.startswith(b"http://ns.adobe.com/xap/1.0/"):
                value = payload.split(b"\x00", 1)[-1]
    return value.encode("utf-8", "replace") if isinstance(value, str) else bytes(value)


def _xmp(xmp: bytes, found, texts: list[str]) -> None:
    text = xmp.decode("utf-8", "replace")
    parts: list[str] = []
    # XMP keeps values both as attributes (exif:GPSLatitude="...") and as element text (<rdf:li>...</rdf:li>).
    for name, value in re.findall(r'([\w.-]+:[\w.-]+)\s*=\s*"([^"]*)"', text):
        if name.startswith(("xmlns:", "rdf:", "x:", "xml:")) or not value.strip() or _XMP_ID_VALUE.fullmatch(value):
            continue
        _xmp_field(name, value, found)
        parts.append(f"{name.split(':', 1)[1]}: {value}")
    for name, value in re.findall(r"<([\w.-]+:[\w.-]+)[^>]*>([^<]+)</\1>", text):
        if value.strip():
            _xmp_field(name, value, found)
    for value in re.findall(r">([^<>]+)<", text):
        if value.strip() and not _XMP_ID_VALUE.fullmatch(value.strip()):
            parts.append(value.strip())
    if parts:
        texts.append("XMP: " + "\n".join(parts))


def _xmp_field(name: str, value: str, found) -> None:
    local = name.split(":", 1)[1]
    if _XMP_GPS.fullmatch(local) and re.search(r"[1-9]", value):
        found("EXIF_GPS", 1.0)
    elif _XMP_SERIAL.fullmatch(local):
        found("DEVICE_SERIAL", 0.9)
    elif _XMP_OWNER.match(name) and _personish(value):
        found("CAMERA_OWNER", 0.8)


def _comments(raw: Image.Image, texts: list[str]) -> None:
    comment = raw.info.get("comment")
    if comment:
        texts.append("Comment: " + _as_text(comment))
    chunks = {}
    if raw.format == "PNG":
        try:
            chunks = dict(getattr(raw, "text", {}) or {})
        except Exception:
            log.debug("unreadable PNG text chunks", exc_info=True)
    for key, value in chunks.items():
        if key in ("XML:com.adobe.xmp", "Raw profile type exif", "Raw profile type APP1"):
            continue  # parsed as XMP/EXIF above
        value = _as_text(value)
        if value:
            texts.append(f"{key}: {value}")


def _as_text(value) -> str:
    """An EXIF/PNG value as clean text ("" when empty). Handles UserComment's charset prefix and XP* UTF-16."""
    if value is None:
        return ""
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        value = bytes(value)  # XP* tags as a tuple of byte values
    if isinstance(value, bytes):
        head = value[:8]
        if head.startswith(b"UNICODE"):
            body = value[8:]
            text = body.decode("utf-16-be" if body[:1] == b"\x00" else "utf-16-le", "replace")
        elif head in (b"ASCII\x00\x00\x00", b"JIS\x00\x00\x00\x00\x00", b"\x00" * 8):
            text = value[8:].decode("utf-8", "replace")
        elif len(value) >= 2 and value[1:2] == b"\x00":
            text = value.decode("utf-16-le", "replace")  # XPComment and friends
        else:
            text = value.decode("utf-8", "replace")
    else:
        text = str(value)
    return text.replace("\x00", "").strip()


def _personish(value: str) -> bool:
    """True when the value still has a word of 2+ letters after dropping copyright boilerplate."""
    return bool(re.search(r"[^\W\d_]{2,}", _NOT_A_NAME.sub(" ", value or "")))


def _bounded(texts: list[str]) -> list[str]:
    out, total, seen = [], 0, set()
    for text in texts:
        text = text[:MAX_TEXT_CHARS]
        if text in seen or total + len(text) > MAX_TOTAL_CHARS:
            continue
        seen.add(text)
        out.append(text)
        total += len(text)
    return out
