"""PDF: each page's text layer, its embedded images, pages without a text layer rendered and read as images (a
scanned passport is a PDF of one image), annotation and form-field text, document properties, and attachments.

Library: pypdfium2 (Apache-2.0 / BSD-3-Clause; it wraps Google's PDFium, BSD-3-Clause), the engine of Chrome's
PDF viewer: maintained, fast, and it ships binary wheels. PyMuPDF, the usual alternative, is AGPL-3.0 (or
commercial), which would put every deployment of this Apache-2.0 gateway under the AGPL; pdfminer/pdfplumber
(MIT) cannot render pages; pikepdf (MPL-2.0) rewrites PDFs but does not render or extract text.

Bounds: the page count is checked against max_document_pages before any page is read, every Flate stream is
inflated once through the Walk's byte budget before PDFium sees it (a PDF can be a zip bomb too), rendering
stays under max_pixels, and an image object over max_pixels is refused before it is decoded.
"""

from __future__ import annotations

import ctypes
import io
import math
import re
import zlib
from collections.abc import Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from gateway.documents import EmbeddedImage, TextRun, Walk, join_member
from gateway.models import InspectionError, InspectionErrorKind, Source

RENDER_DPI = 200  # pages without text are rendered at this resolution (x-height of 10 pt text: ~14 px)
RENDER_MAX_PIXELS = 12_000_000
MIN_IMAGE_SIDE = 32  # smaller image objects (bullets, rules, icons) cannot hold readable text
MIN_TEXT_CHARS = 1  # a page with fewer non-blank characters has no text layer
_STREAM = re.compile(rb"stream\r?\n")
_IMAGE_SUBTYPE = re.compile(rb"/Subtype\s*/Image(?![A-Za-z])")
IMAGE_STREAM_FACTOR = 8
_CHUNK = 1024 * 1024
_ANNOT_KEYS = (b"Contents", b"V", b"T", b"TU")  # comment text, form field value, field name and tooltip


def read_pdf(data: bytes, walk: Walk, member: str | None, depth: int) -> Iterator:
    check_streams(data, walk)
    doc = _open(data)
    try:
        pages = len(doc)
        walk.facts.pages += pages
        if pages > walk.limits.max_document_pages:
            raise InspectionError(InspectionErrorKind.TOO_MANY_PAGES,
                                  f"{pages} pages (max_document_pages {walk.limits.max_document_pages})")
        for key, value in doc.get_metadata_dict(skip_empty=True).items():
            if key not in ("CreationDate", "ModDate", "Trapped"):
                yield TextRun(value, member, source=Source.METADATA.value)
        for index in range(pages):
            try:
                yield from _page_parts(doc, index, walk, member)
            except pdfium.PdfiumError:
                raise InspectionError(InspectionErrorKind.CORRUPT, f"unreadable page {index + 1}") from None
        yield from _attachments(doc, walk, member, depth)
    except pdfium.PdfiumError:
        raise InspectionError(InspectionErrorKind.CORRUPT, "unreadable PDF content") from None
    finally:
        doc.close()


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        if err.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise InspectionError(InspectionErrorKind.ENCRYPTED, "a password-protected PDF") from None
        if err.err_code == pdfium_c.FPDF_ERR_SECURITY:
            raise InspectionError(InspectionErrorKind.ENCRYPTED, "a PDF with an unsupported security handler") from None
        raise InspectionError(InspectionErrorKind.CORRUPT, "unreadable PDF") from None


def check_streams(data: bytes, walk: Walk) -> None:
    """Inflate every Flate stream once, counting what comes out; nothing is kept (a PDF can be a zip bomb too).

    Streams count against max_expanded_bytes, except images: a long PDF of Flate-compressed screenshots is not a
    bomb. Each image stream may inflate to at most 4 bytes per pixel of max_pixels, and all of them together to
    IMAGE_STREAM_FACTOR x max_expanded_bytes (inflating that takes seconds and no memory).
    """
    limits = walk.limits
    image_budget = [IMAGE_STREAM_FACTOR * limits.max_expanded_bytes]
    pos = 0
    while (m := _STREAM.search(data, pos)) is not None:
        pos = m.end()
        head = data[max(0, data.rfind(b"obj", max(0, m.start() - 4096), m.start())):m.start()]
        if _IMAGE_SUBTYPE.search(head):
            count = _image_counter(image_budget, 4 * limits.max_pixels)
        else:
            count = walk.expand
        try:
            pos += _inflate(data, pos, count)
        except zlib.error:
            continue  # not Flate (DCT, JPX, raw), or damaged: PDFium judges it


def _image_counter(budget: list[int], per_stream: int):
    used = [0]

    def count(n: int) -> None:
        used[0] += n
        budget[0] -= n
        if used[0] > per_stream or budget[0] < 0:
            raise InspectionError(InspectionErrorKind.EXPANDED_TOO_LARGE,
                                  "a PDF image stream inflates beyond the pixel limit (max_pixels, max_expanded_bytes)")

    return count


def _inflate(data: bytes, start: int, count) -> int:
    """Inflate from `start` to the end of the zlib stream there, passing output sizes to `count`; returns the
    input bytes it used."""
    inflater = zlib.decompressobj()
    view = memoryview(data)
    offset = start
    while not inflater.eof and offset < len(data):
        chunk = view[offset:offset + _CHUNK]
        offset += len(chunk)
        count(len(inflater.decompress(chunk, _CHUNK)))
        while inflater.unconsumed_tail and not inflater.eof:
            count(len(inflater.decompress(inflater.unconsumed_tail, _CHUNK)))
    return offset - start - len(inflater.unused_data)


def _page_parts(doc: pdfium.PdfDocument, index: int, walk: Walk, member: str | None) -> Iterator:
    page = doc[index]
    number = index + 1
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
        if len(text.strip()) >= MIN_TEXT_CHARS:
            yield TextRun(text, member, number)
            yield from _images(page, number, walk, member)
        else:
            walk.facts.rendered_pages += 1
            yield EmbeddedImage(_render(page, walk), member, number, rendered=True)
        yield from _annotations(page, number, member)
    finally:
        page.close()


def _render(page: pdfium.PdfPage, walk: Walk) -> bytes:
    width, height = page.get_size()  # points
    max_pixels = min(walk.limits.max_pixels, RENDER_MAX_PIXELS)
    scale = RENDER_DPI / 72
    if width * height * scale * scale > max_pixels:
        scale = math.sqrt(max_pixels / max(1.0, width * height))
    bitmap = page.render(scale=scale, may_draw_forms=True)
    try:
        image = bitmap.to_pil().convert("RGB")
    finally:
        bitmap.close()
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    if buf.tell() > walk.limits.max_image_bytes:  # a noisy full-page photo: JPEG keeps it under the image limit
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def _images(page: pdfium.PdfPage, number: int, walk: Walk, member: str | None) -> Iterator[EmbeddedImage]:
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=8):
        width, height = obj.get_px_size()
        if min(width, height) < MIN_IMAGE_SIDE:
            continue
        if width * height > walk.limits.max_pixels:
            raise InspectionError(InspectionErrorKind.TOO_MANY_PIXELS,
                                  f"an image of {width}x{height} on page {number}")
        buf = io.BytesIO()
        try:
            obj.extract(buf, fb_format="png")
        except (pdfium.PdfiumError, ValueError, OSError):
            raise InspectionError(InspectionErrorKind.CORRUPT, f"an unreadable image on page {number}") from None
        yield EmbeddedImage(buf.getvalue(), member, number)


def _annotations(page: pdfium.PdfPage, number: int, member: str | None) -> Iterator[TextRun]:
    """Sticky-note comments and filled-in form fields are not in the text layer."""
    for i in range(pdfium_c.FPDFPage_GetAnnotCount(page.raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
        if not annot:
            continue
        try:
            for key in _ANNOT_KEYS:
                value = _annot_string(annot, key)
                if value.strip():
                    yield TextRun(value, member, number)
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)


def _annot_string(annot, key: bytes) -> str:
    size = pdfium_c.FPDFAnnot_GetStringValue(annot, key, None, 0)
    if size <= 2:
        return ""
    buf = ctypes.create_string_buffer(size)
    pdfium_c.FPDFAnnot_GetStringValue(annot, key, ctypes.cast(buf, ctypes.POINTER(pdfium_c.FPDF_WCHAR)), size)
    return buf.raw[:size - 2].decode("utf-16-le", "replace")


def _attachments(doc: pdfium.PdfDocument, walk: Walk, member: str | None, depth: int) -> Iterator:
    """Files attached to the PDF are members of it."""
    for i in range(doc.count_attachments()):
        walk.count_member()
        attachment = doc.get_attachment(i)
        name = attachment.get_name() or f"attachment-{i + 1}"
        try:
            content = bytes(attachment.get_data())
        except pdfium.PdfiumError:
            continue  # an empty attachment
        walk.expand(len(content))
        yield from walk.member_parts(content, join_member(member, name), depth)
