"""extract finds documents and archives in request bodies (raw, multipart, JSON base64, data: URLs) by their bytes,
and rebuilds a body around a replaced document byte-exactly."""

from __future__ import annotations

import base64
import json

from gateway.extract import extract_images
from tests.support.documents import docx, text_pdf, zip_of
from tests.support.images import text_image

PDF = text_pdf([["hello"]])
DOCX = docx(["hello"])
ZIP = zip_of({"a.txt": b"hello"})
PNG = text_image(["hi"], size=(200, 80), font_size=20)
B = "----b0undary"


def part(name: str, body: bytes, filename: str | None = None, ctype: str | None = None) -> bytes:
    disp = f'Content-Disposition: form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return (disp + "\r\n" + (f"Content-Type: {ctype}\r\n" if ctype else "") + "\r\n").encode() + body


def multipart(*parts: bytes) -> bytes:
    return b"".join(b"--" + B.encode() + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + B.encode() + b"--\r\n"


def test_raw_pdf_put_is_a_document_whatever_its_content_type():
    for ctype in ("application/pdf", "application/octet-stream", "image/png", None):
        ex = extract_images(ctype, PDF)
        assert [(d.type, d.where) for d in ex.documents] == [("PDF", "raw body")] and ex.images == []
        assert ex.rebuild({}, {0: b"%PDF-new"}) == b"%PDF-new"


def test_multipart_file_parts_are_documents_by_their_bytes():
    body = multipart(part("purpose", b"assistants"), part("file", DOCX, "notes.zip", "application/zip"),
                     part("file2", ZIP, "a.pdf", "application/pdf"), part("pic", PNG, "p.png", "image/png"),
                     part("notes", b"Jane's card 4539 1488 0343 6467", "notes.txt", "text/plain"),
                     part("prompt", b"this text field is not a file"))
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert [(d.type, d.where) for d in ex.documents] == [
        ("DOCX", "multipart part 'file'"), ("ZIP", "multipart part 'file2'"), ("TEXT", "multipart part 'notes'")]
    assert [i.where for i in ex.images] == ["multipart part 'pic'"]
    assert ex.rebuild({}) == body
    new = ex.rebuild({}, {2: b"Jane's card [CREDIT_CARD]"})
    assert new == body.replace(b"4539 1488 0343 6467", b"[CREDIT_CARD]")


def test_raw_text_upload_is_a_document_but_a_json_api_call_is_not():
    assert [d.type for d in extract_images("text/csv", b"name,email\njane,j@x.example\n").documents] == ["TEXT"]
    assert extract_images("application/json", b'{"messages": [{"content": "hello"}]}').documents == []
    assert extract_images(None, b"plain words with no content type").documents == []


def test_base64_pdf_in_json_is_a_document():
    anthropic = {"messages": [{"role": "user", "content": [
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                        "data": base64.b64encode(PDF).decode()}}]}]}
    openai = {"input": [{"role": "user", "content": [
        {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,"
         + base64.b64encode(PDF).decode()}]}]}
    for doc in (anthropic, openai):
        body = json.dumps(doc).encode()
        ex = extract_images("application/json", body)
        assert [d.type for d in ex.documents] == ["PDF"] and ex.documents[0].data == PDF
        assert ex.rebuild({}) == body
        new = json.loads(ex.rebuild({}, {0: b"%PDF-1.7 replaced"}))
        blob = json.dumps(new)
        assert base64.b64encode(b"%PDF-1.7 replaced").decode() in blob


def test_a_text_file_and_an_image_inside_it_cannot_both_be_replaced():
    body = ("see data:image/png;base64," + base64.b64encode(PNG).decode() + " end").encode()
    ex = extract_images(f"multipart/form-data; boundary={B}", multipart(part("f", body, "page.md")))
    assert [d.type for d in ex.documents] == ["TEXT"] and len(ex.images) == 1
    try:
        ex.rebuild({0: PNG}, {0: b"x"})
    except KeyError:
        pass
    else:
        raise AssertionError("a conflicting rebuild must fail, not pick one")
