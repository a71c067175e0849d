"""Test documents and archives made on the fly (nothing binary is committed): real PDFs (pypdfium2, Pillow), real
DOCX/XLSX/PPTX (python-docx, openpyxl, python-pptx), ZIPs and tars, and hostile ones (bombs, deep nesting)."""

from __future__ import annotations

import ctypes
import io
import tarfile
import zipfile

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image


def text_pdf(pages: list[list[str]], *, title: str = "", author: str = "") -> bytes:
    """A PDF with a real text layer (Helvetica), one list of lines per page."""
    doc = pdfium.PdfDocument.new()
    for lines in pages:
        page = doc.new_page(612, 792)
        for i, line in enumerate(lines):
            obj = pdfium_c.FPDFPageObj_NewTextObj(doc.raw, b"Helvetica", 12.0)
            encoded = (line + "\0").encode("utf-16-le")
            pdfium_c.FPDFText_SetText(obj, (ctypes.c_ushort * (len(encoded) // 2)).from_buffer_copy(encoded))
            pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 72, 720 - 18 * i)
            pdfium_c.FPDFPage_InsertObject(page.raw, obj)
        pdfium_c.FPDFPage_GenerateContent(page.raw)
        page.close()
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    data = buf.getvalue()
    if title or author:
        data = _with_info(data, title, author)
    return data


def _with_info(data: bytes, title: str, author: str) -> bytes:
    """Append an incremental update with an /Info dictionary (PDFium cannot write metadata itself)."""
    import re

    size = max(int(n) for n in re.findall(rb"(\d+) 0 obj", data)) + 1
    startxref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    root = re.search(rb"/Root\s+(\d+ \d+ R)", data).group(1)
    obj = f"{size} 0 obj\n<< /Title ({title}) /Author ({author}) >>\nendobj\n".encode()
    offset = len(data)
    xref = f"xref\n{size} 1\n{offset:010d} 00000 n \n".encode()
    trailer = (f"trailer\n<< /Size {size + 1} /Root ".encode() + root +
               f" /Info {size} 0 R /Prev {startxref} >>\nstartxref\n{offset + len(obj)}\n%%EOF\n".encode())
    return data + obj + xref + trailer


def image_pdf(images: list[bytes], resolution: float = 150.0) -> bytes:
    """A PDF whose pages are images and nothing else: what a scanner writes."""
    frames = [Image.open(io.BytesIO(b)).convert("RGB") for b in images]
    buf = io.BytesIO()
    frames[0].save(buf, format="PDF", save_all=True, append_images=frames[1:], resolution=resolution)
    return buf.getvalue()


def docx(paragraphs: list[str], *, table: list[list[str]] = (), header: str = "", footer: str = "",
         author: str = "", image: bytes | None = None, comment: str = "") -> bytes:
    import docx as python_docx

    doc = python_docx.Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    if table:
        t = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    if header:
        doc.sections[0].header.paragraphs[0].text = header
    if footer:
        doc.sections[0].footer.paragraphs[0].text = footer
    if image is not None:
        doc.add_picture(io.BytesIO(image))
    if comment:
        doc.add_comment(doc.paragraphs[0].runs, text=comment, author="Reviewer")
    doc.core_properties.author = author
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def xlsx(sheets: dict[str, list[list]], *, comment: tuple[str, str] | None = None, creator: str = "") -> bytes:
    """A workbook; `comment` is (cell, text) on the first sheet."""
    import openpyxl
    from openpyxl.comments import Comment

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    if comment:
        wb.worksheets[0][comment[0]].comment = Comment(comment[1], "Reviewer")
    wb.properties.creator = creator or "openpyxl"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def pptx(slides: list[str], *, notes: dict[int, str] = None, image_on: dict[int, bytes] = None) -> bytes:
    """A deck with one title per slide; `notes` and `image_on` are keyed by 1-based slide number."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    for number, title in enumerate(slides, 1):
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        slide.shapes.title.text = title
        if notes and number in notes:
            slide.notes_slide.notes_text_frame.text = notes[number]
        if image_on and number in image_on:
            slide.shapes.add_picture(io.BytesIO(image_on[number]), Inches(1), Inches(2), width=Inches(6))
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tar_of(members: dict[str, bytes], mode: str = "w") -> bytes:
    """mode "w" (plain), "w:gz", "w:bz2" or "w:xz"."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def zip_bomb(expanded_bytes: int) -> bytes:
    """One member of zeros that deflates about 1000:1, with a header that declares it tiny (sizes are lies)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("zeros.txt", "w", force_zip64=True) as f:
            chunk = b"\0" * 2**20
            for _ in range(expanded_bytes // len(chunk)):
                f.write(chunk)
    return buf.getvalue()


def nested_zip(depth: int, inner: bytes, name: str = "scan.png") -> bytes:
    data = zip_of({name: inner})
    for level in range(depth - 1):
        data = zip_of({f"level{level}.zip": data})
    return data


def encrypted_zip_member(name: str = "secret.txt", before: dict[str, bytes] | None = None) -> bytes:
    """A ZIP whose last member (after `before`) has the traditional-encryption flag set; the bytes behind it are
    not real ciphertext, which does not matter: nothing may try to read them."""
    members = dict(before or {})
    members[name] = b"x" * 100
    data = bytearray(zip_of(members, zipfile.ZIP_STORED))
    for magic, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = data.rfind(magic)
        data[pos + flag_at] |= 0x01
    return bytes(data)


def encrypted_pdf(data: bytes, password: str = "s3cret") -> bytes:
    """The PDF with a user password (AES-256), as a "protect with password" dialog writes it."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(user=password, owner=password, R=6))
    return out.getvalue()


def encrypted_ooxml(data: bytes, password: str = "s3cret") -> bytes:
    """A DOCX/XLSX/PPTX with a password to open: Office wraps it in an OLE file (ECMA-376 agile encryption)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def passport_png(seed: int = 11) -> bytes:
    """A generated passport data page (face photo, printed fields, a valid TD3 MRZ) from the benchmark's scenes."""
    import random

    from bench.scenes.id_docs import id_document

    buf = io.BytesIO()
    id_document(random.Random(seed), clean=False, passport=True).img.save(buf, format="PNG")
    return buf.getvalue()
