"""The document layer without models: type sniffing, what each type yields (text runs, images, where), the limits
that make bombs a decision, encrypted content, safe XML, and the rewrites behind `redact`."""

from __future__ import annotations

import codecs
import io
import struct
import zipfile
import zlib

import pypdfium2 as pdfium
import pytest

from gateway.documents import EmbeddedImage, TextRun, Walk, read_document, sniff_document
from gateway.documents.archive import rebuild_zip
from gateway.documents.pdf import check_streams
from gateway.documents.plaintext import decode_text, read_text, replace_spans
from gateway.models import DocumentFacts, Finding, InspectionError, InspectionErrorKind, Limits
from tests.support.documents import (
    docx,
    encrypted_ooxml,
    encrypted_pdf,
    encrypted_zip_member,
    image_pdf,
    nested_zip,
    pptx,
    tar_of,
    text_pdf,
    xlsx,
    zip_bomb,
    zip_of,
)
from tests.support.images import text_image

CARD = "4539 1488 0343 6467"
EMAIL = "jane.doe@corpmail.com"
PNG = text_image(["Customer", f"Card {CARD}"], size=(400, 120), font_size=20)


def parts(data: bytes, limits: Limits = Limits()) -> tuple[DocumentFacts, list]:
    facts, it = read_document(data, limits)
    return facts, list(it)


def texts(items) -> list[tuple[str | None, int | None, str, str]]:
    return [(p.member, p.page, p.source, p.text) for p in items if isinstance(p, TextRun)]


def error_of(data: bytes, limits: Limits = Limits()) -> InspectionError:
    with pytest.raises(InspectionError) as info:
        parts(data, limits)
    return info.value


# --- sniffing ----------------------------------------------------------------------------------------------------


def test_types_are_told_from_the_bytes():
    assert sniff_document(text_pdf([["hello"]])) == "PDF"
    assert sniff_document(docx(["hello"])) == "DOCX"
    assert sniff_document(xlsx({"S": [["a"]]})) == "XLSX"
    assert sniff_document(pptx(["hello"])) == "PPTX"
    assert sniff_document(zip_of({"a.txt": b"hello"})) == "ZIP"
    assert sniff_document(tar_of({"a.txt": b"hello"})) == "TAR"
    assert sniff_document(tar_of({"a.txt": b"hello"}, "w:gz")) == "GZIP"
    assert sniff_document(tar_of({"a.txt": b"hello"}, "w:bz2")) == "BZIP2"
    assert sniff_document(tar_of({"a.txt": b"hello"}, "w:xz")) == "XZ"
    assert sniff_document(encrypted_ooxml(docx(["hello"]))) == "OLE"
    assert sniff_document(PNG) is None


def test_office_file_inside_a_zip_named_like_anything_is_still_office():
    # What decides is the package's main part, not a name: a .docx renamed .zip is a DOCX, a zip of a docx is a ZIP.
    assert sniff_document(zip_of({"report.docx": docx(["x"])})) == "ZIP"
    assert sniff_document(zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})) \
        == "DOCX"


def test_plain_text_only_when_asked_and_in_any_common_encoding():
    assert sniff_document(b"name,email\njane,jane@x.example\n") is None  # a JSON or form body is text too
    assert sniff_document(b"name,email\n", text=True) == "TEXT"
    assert sniff_document("caf\u00e9 na\u00efve".encode("cp1252"), text=True) == "TEXT"
    assert sniff_document(codecs.BOM_UTF16_LE + "hello".encode("utf-16-le"), text=True) == "TEXT"
    assert sniff_document(bytes(range(256)) * 4, text=True) is None  # binary
    assert sniff_document(b"\x00\x01\x02garbage" * 10, text=True) is None


def test_pdf_header_in_prose_is_not_a_pdf():
    assert sniff_document(b"A file starts with %PDF-1.7 and ends with a trailer", text=True) == "TEXT"
    assert sniff_document(b"junk before" + text_pdf([["x"]])) == "PDF"  # readers allow junk before the header


# --- what each type yields -----------------------------------------------------------------------------------------


def test_text_pdf_gives_each_page_its_text_and_the_properties():
    facts, items = parts(text_pdf([["Invoice", f"Card {CARD}"], [f"Contact {EMAIL}"]], title="Payslip",
                                  author="Jane Doe"))
    assert facts.type == "PDF" and facts.pages == 2 and facts.rendered_pages == 0
    got = texts(items)
    assert (None, None, "metadata", "Payslip") in got and (None, None, "metadata", "Jane Doe") in got
    assert [(page, text.replace("\r\n", "\n")) for _, page, source, text in got if source == "text"] == \
        [(1, f"Invoice\nCard {CARD}"), (2, f"Contact {EMAIL}")]


def test_scanned_pdf_pages_are_rendered_as_images():
    facts, items = parts(image_pdf([PNG, PNG]))
    images = [p for p in items if isinstance(p, EmbeddedImage)]
    assert facts.pages == 2 and facts.rendered_pages == 2
    assert [(i.page, i.rendered) for i in images] == [(1, True), (2, True)]
    from PIL import Image
    rendered = Image.open(io.BytesIO(images[0].data))
    assert rendered.format == "PNG" and rendered.width > 400  # 200 dpi: larger than the 150 dpi scan


def test_pdf_with_text_and_a_picture_gives_both():
    doc = pdfium.PdfDocument(text_pdf([["Report with a picture"]]))
    page = doc[0]
    picture = pdfium.PdfImage.new(doc)
    from PIL import Image
    picture.set_bitmap(pdfium.PdfBitmap.from_pil(Image.open(io.BytesIO(PNG)).convert("RGB")))
    picture.set_matrix(pdfium.PdfMatrix().scale(400, 120).translate(72, 400))
    page.insert_obj(picture)
    page.gen_content()
    buf = io.BytesIO()
    doc.save(buf)
    facts, items = parts(buf.getvalue())
    assert facts.rendered_pages == 0
    assert [t for t in texts(items) if t[2] == "text"] == [(None, 1, "text", "Report with a picture")]
    images = [p for p in items if isinstance(p, EmbeddedImage)]
    assert len(images) == 1 and images[0].page == 1 and not images[0].rendered


def test_pdf_comment_annotation_is_text_of_its_page():
    import pypdfium2.raw as pdfium_c

    doc = pdfium.PdfDocument(text_pdf([["page text"], ["second page"]]))
    page = doc[1]  # held: the raw page handle closes with its PdfPage
    annot = pdfium_c.FPDFPage_CreateAnnot(page.raw, pdfium_c.FPDF_ANNOT_TEXT)
    value = f"call {EMAIL}\0".encode("utf-16-le")
    pdfium_c.FPDFAnnot_SetStringValue(annot, b"Contents", (pdfium_c.FPDF_WCHAR * (len(value) // 2)).from_buffer_copy(value))
    pdfium_c.FPDFPage_CloseAnnot(annot)
    page.close()
    buf = io.BytesIO()
    doc.save(buf)
    assert (None, 2, "text", f"call {EMAIL}") in texts(parts(buf.getvalue())[1])


def test_pdf_attachment_is_a_member():
    doc = pdfium.PdfDocument(text_pdf([["see attachment"]]))
    doc.new_attachment("customers.csv").set_data(f"name,email\njane,{EMAIL}\n".encode())
    buf = io.BytesIO()
    doc.save(buf)
    facts, items = parts(buf.getvalue())
    assert ("customers.csv", None, "text", f"name,email\njane,{EMAIL}\n") in texts(items)
    assert facts.members == 1


def test_docx_body_table_header_footer_comment_properties_and_media():
    facts, items = parts(docx(["Hello", f"Card {CARD}"], table=[["Name", "Email"], ["Jane", EMAIL]],
                              header="Header text", footer="Footer text", author="Jane Author", image=PNG,
                              comment="a reviewer note"))
    got = texts(items)
    for expected in [("word/document.xml", None, "text", f"Card {CARD}"), ("word/document.xml", None, "text", EMAIL),
                     ("word/header1.xml", None, "text", "Header text"),
                     ("word/footer1.xml", None, "text", "Footer text"),
                     ("word/comments.xml", None, "text", "a reviewer note"),
                     ("docProps/core.xml", None, "metadata", "Jane Author")]:
        assert expected in got
    media = [p.member for p in items if isinstance(p, EmbeddedImage)]
    assert "word/media/image1.png" in media
    assert facts.type == "DOCX" and facts.redactable


def test_docx_text_split_across_runs_is_one_paragraph():
    # Word splits a paragraph into runs at every formatting change (or spell-check mark): the text joins up.
    document = (b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
                b'main"><w:body><w:p><w:r><w:t>4539 1488</w:t></w:r><w:r><w:t xml:space="preserve"> 0343 6467</w:t>'
                b'</w:r></w:p><w:p><w:del><w:r><w:delText>deleted secret</w:delText></w:r></w:del></w:p></w:body>'
                b'</w:document>')
    data = zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": document})
    assert texts(parts(data)[1]) == [("word/document.xml", None, "text", CARD),
                                     ("word/document.xml", None, "text", "deleted secret")]


def test_xlsx_cells_carry_sheet_and_cell_and_a_row_is_tab_separated():
    facts, items = parts(xlsx({"Summary": [["nothing here"]], "Customers": [["Name", "Email"], ["Jane Doe", EMAIL]]},
                              comment=("A1", "call back")))
    got = texts(items)
    assert ("xl/worksheets/sheet2.xml#B2", 2, "text", EMAIL) in got
    assert ("xl/worksheets/sheet2.xml#A2", 2, "text", "Jane Doe") in got
    assert ("xl/workbook.xml", 2, "text", "Customers") in got  # sheet names are text too
    assert any(member == "xl/comments/comment1.xml" and text == "call back" for member, _, _, text in got)
    row = [p for p in items if isinstance(p, TextRun) and p.member and "sheet2.xml#" in p.member]
    assert [p.sep for p in row] == ["\t", "\n", "\t", "\n"]
    assert facts.pages == 2


def test_xlsx_numbers_inline_strings_and_orphaned_shared_strings():
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
             b'<c r="A1" t="s"><v>0</v></c><c r="B1"><v>4539148803436467</v></c>'
             b'<c r="C1" t="inlineStr"><is><t>inline text</t></is></c><c r="D1" t="b"><v>1</v></c></row>'
             b'</sheetData></worksheet>')
    shared = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>used</t></si>'
              b'<si><t>left behind</t></si></sst>')
    workbook = (b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
                b'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
                b'</sheets></workbook>')
    rels = (b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
            b'Id="rId1" Type="http://x/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId9" '
            b'Type="http://x/hyperlink" Target="mailto:jane.doe@corpmail.com" TargetMode="External"/></Relationships>')
    data = zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": rels,
                   "xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": shared})
    got = texts(parts(data)[1])
    assert ("xl/worksheets/sheet1.xml#A1", 1, "text", "used") in got
    assert ("xl/worksheets/sheet1.xml#B1", 1, "text", "4539148803436467") in got
    assert ("xl/worksheets/sheet1.xml#C1", 1, "text", "inline text") in got
    assert not any(m and m.endswith("#D1") for m, _, _, _ in got)  # booleans are not text
    assert ("xl/sharedStrings.xml", None, "text", "left behind") in got
    assert ("xl/_rels/workbook.xml.rels", None, "text", "mailto:jane.doe@corpmail.com") in got


def test_pptx_slides_notes_and_pictures_carry_the_slide_number():
    facts, items = parts(pptx(["Roadmap", "Customers"], notes={2: f"mail {EMAIL}"}, image_on={2: PNG}))
    got = texts(items)
    assert ("ppt/slides/slide1.xml", 1, "text", "Roadmap") in got
    assert ("ppt/slides/slide2.xml", 2, "text", "Customers") in got
    assert any(page == 2 and text == f"mail {EMAIL}" for _, page, _, text in got)
    assert not any("Click to edit Master" in text for _, _, _, text in got)  # layouts and masters are templates
    pictures = [(p.member, p.page) for p in items if isinstance(p, EmbeddedImage) and "media" in p.member]
    assert pictures == [("ppt/media/image1.png", 2)]
    assert facts.pages == 2


def test_zip_and_tar_members_are_read_as_what_they_are():
    inner_docx = docx([f"Card {CARD}"])
    data = zip_of({"docs/": b"", "docs/notes.txt": f"mail {EMAIL}\n".encode(), "scan.png": PNG,
                   "report.docx": inner_docx, "tool.bin": bytes(range(256)) * 8,
                   "nested.tar.gz": tar_of({"deep/readme.md": b"# Hello"}, "w:gz")})
    facts, items = parts(data)
    got = texts(items)
    assert ("docs/notes.txt", None, "text", f"mail {EMAIL}\n") in got
    assert ("report.docx!/word/document.xml", None, "text", f"Card {CARD}") in got
    assert ("nested.tar.gz!/deep/readme.md", None, "text", "# Hello") in got
    assert [p.member for p in items if isinstance(p, EmbeddedImage)][:1] == ["scan.png"]
    assert facts.skipped == 1 and facts.type == "ZIP"
    assert not facts.redactable  # the tar.gz inside cannot be rewritten


def test_zip_of_images_and_text_is_redactable():
    facts, _ = parts(zip_of({"a.png": PNG, "b.txt": b"hello", "c/d.csv": b"x,y"}))
    assert facts.redactable and facts.members == 3


# --- limits: a bomb is a decision ---------------------------------------------------------------------------------


def test_zip_bomb_stops_at_max_expanded_bytes():
    bomb = zip_bomb(64 * 2**20)  # 64 MiB of zeros in ~64 KiB; its local header does not tell the size
    assert len(bomb) < 200_000
    err = error_of(bomb, Limits(max_expanded_bytes=8 * 2**20))
    assert err.kind is InspectionErrorKind.EXPANDED_TOO_LARGE


def test_lying_declared_sizes_do_not_matter():
    data = bytearray(zip_of({"a.txt": b"A" * 100_000}))
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24:cd + 28] = struct.pack("<I", 10)  # the central directory claims 10 bytes uncompressed
    err = error_of(bytes(data), Limits(max_expanded_bytes=50_000))
    assert err.kind in (InspectionErrorKind.EXPANDED_TOO_LARGE, InspectionErrorKind.CORRUPT)


def test_overlapping_member_bomb_is_refused():
    # Fifield's non-recursive zip bomb: many central-directory entries pointing at the same compressed data.
    one = zip_of({"z": b"\0" * 2**20})
    local_end = one.find(b"PK\x01\x02")
    cd_entry = one[local_end:one.find(b"PK\x05\x06")]
    entries = cd_entry * 200
    eocd = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 200, 200, len(entries), local_end, 0)
    err = error_of(one[:local_end] + entries + eocd, Limits(max_expanded_bytes=16 * 2**20))
    assert err.kind in (InspectionErrorKind.EXPANDED_TOO_LARGE, InspectionErrorKind.CORRUPT)


def test_gzip_bomb_stops_at_max_expanded_bytes():
    import gzip
    bomb = gzip.compress(b"\0" * (32 * 2**20))
    assert error_of(bomb, Limits(max_expanded_bytes=2**20)).kind is InspectionErrorKind.EXPANDED_TOO_LARGE


def test_too_many_members_is_refused_from_the_end_record():
    data = zip_of({f"f{i}.txt": b"" for i in range(2000)}, zipfile.ZIP_STORED)
    err = error_of(data, Limits(max_archive_members=1000))
    assert err.kind is InspectionErrorKind.TOO_MANY_MEMBERS and "2000" in str(err)


def test_tar_with_too_many_members_is_refused():
    data = tar_of({f"f{i}.txt": b"x" for i in range(300)})
    assert error_of(data, Limits(max_archive_members=100)).kind is InspectionErrorKind.TOO_MANY_MEMBERS


def test_nesting_deeper_than_max_archive_depth_is_refused():
    assert error_of(nested_zip(5, PNG), Limits(max_archive_depth=3)).kind is InspectionErrorKind.TOO_DEEP
    facts, items = parts(nested_zip(3, PNG), Limits(max_archive_depth=3))
    assert [p.member for p in items] == ["level1.zip!/level0.zip!/scan.png"]


def test_pdf_over_max_document_pages_is_refused_before_reading_pages():
    doc = pdfium.PdfDocument.new()
    for _ in range(2000):
        doc.new_page(612, 792)
    buf = io.BytesIO()
    doc.save(buf)
    err = error_of(buf.getvalue(), Limits(max_document_pages=500))
    assert err.kind is InspectionErrorKind.TOO_MANY_PAGES and "2000 pages" in str(err)


def test_pdf_flate_bomb_is_counted_before_pdfium_sees_it():
    stream = zlib.compress(b" " * (24 * 2**20), 9)
    pdf = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] "
           b"/Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> "
           b"endobj\n4 0 obj << /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n" + stream
           + b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    err = error_of(pdf, Limits(max_expanded_bytes=4 * 2**20))
    assert err.kind is InspectionErrorKind.EXPANDED_TOO_LARGE
    walk = Walk(Limits(), DocumentFacts("PDF"))
    check_streams(pdf, walk)
    assert walk.expanded == 24 * 2**20  # counted exactly, nothing kept


# --- encrypted content follows on_error ---------------------------------------------------------------------------


def test_password_protected_pdf_is_encrypted():
    assert error_of(encrypted_pdf(text_pdf([["secret"]]))).kind is InspectionErrorKind.ENCRYPTED


def test_password_protected_office_file_is_encrypted():
    assert error_of(encrypted_ooxml(docx(["secret"]))).kind is InspectionErrorKind.ENCRYPTED


def test_encrypted_zip_member_is_encrypted():
    assert error_of(encrypted_zip_member()).kind is InspectionErrorKind.ENCRYPTED


def test_legacy_office_file_is_unsupported():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "WordDocument".encode("utf-16-le") + bytes(1000)
    assert error_of(ole).kind is InspectionErrorKind.UNSUPPORTED_FORMAT


def test_corrupt_pdf_and_zip_are_corrupt():
    assert error_of(b"%PDF-1.7\n" + bytes(200)).kind is InspectionErrorKind.CORRUPT
    assert error_of(b"PK\x03\x04" + bytes(100)).kind is InspectionErrorKind.CORRUPT


# --- safe XML -------------------------------------------------------------------------------------------------------


def test_billion_laughs_and_external_entities_are_refused():
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
              b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><w:document xmlns:w="urn:w"><w:body><w:p><w:r><w:t>'
              b'&lol3;</w:t></w:r></w:p></w:body></w:document>')
    xxe = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><w:document xmlns:w="urn:w">'
           b'<w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>')
    for document in (laughs, xxe):
        data = zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": document})
        err = error_of(data)
        assert err.kind is InspectionErrorKind.CORRUPT and "DTD" in str(err)


# --- plain text and the rewrites behind redact ---------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16-le-bom", "utf-16-be-bom", "cp1252"])
def test_text_spans_are_replaced_in_the_files_own_encoding(encoding):
    text = f"Caf\u00e9 customer: {EMAIL}, card {CARD}.\n"
    if encoding == "utf-16-le-bom":
        data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    elif encoding == "utf-16-be-bom":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    start = text.index(EMAIL)
    card = text.index(CARD)
    new = replace_spans(data, [(start, start + len(EMAIL), "EMAIL_ADDRESS"), (card, card + len(CARD), "CREDIT_CARD")])
    assert new[:3] == data[:3] or encoding == "cp1252"
    assert decode_text(new).text == "Caf\u00e9 customer: [EMAIL_ADDRESS], card [CREDIT_CARD].\n"


def test_a_long_text_is_read_in_overlapping_windows_and_every_span_is_into_the_file():
    from gateway.inspection.documents import WINDOW_CHARS as BATCH_CHARS, _TextBatch

    pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join("A" * 64 for _ in range(25)) + "\n-----END PRIVATE KEY-----"
    head = ""
    while len(head) < BATCH_CHARS - 1000:
        head += f"line {len(head)} with some words\n"
    text = head + pem + "\n" + "tail line\n" * 4000
    assert text.index(pem) < BATCH_CHARS < text.index(pem) + len(pem)  # the key straddles the first window's end
    [run] = list(read_text(text.encode(), "big.txt"))
    assert run.text == text and run.offset == 0

    class Keys:  # an analyzer that finds PEM blocks, as the SECRET recognizer does
        def analyze_text_spans(self, chunk, source):
            import re
            return [(Finding("SECRET", source, 1.0), m.start(), m.end())
                    for m in re.finditer(r"-----BEGIN PRIVATE KEY-----[^-]+-----END PRIVATE KEY-----", chunk)]

    found = _TextBatch(Keys(), "text").add(run)
    assert [(f.member, f.span) for f in found] == [("big.txt", (text.index(pem), text.index(pem) + len(pem)))]


def test_json_file_that_would_break_is_not_redacted():
    data = b'{"card": 4539148803436467, "email": "jane.doe@corpmail.com"}'
    number = data.index(b"4539")
    with pytest.raises(InspectionError) as info:
        replace_spans(data, [(number, number + 16, "CREDIT_CARD")])
    assert info.value.kind is InspectionErrorKind.NOT_REDACTABLE
    email = data.index(b"jane")
    assert replace_spans(data, [(email, email + len(EMAIL), "EMAIL_ADDRESS")]) == \
        b'{"card": 4539148803436467, "email": "[EMAIL_ADDRESS]"}'


def test_zip_rebuild_keeps_every_other_member():
    data = zip_of({"a.txt": b"keep me", "b/c.png": PNG, "d.txt": b"secret"})
    new = rebuild_zip(data, {"d.txt": b"[REDACTED]"}, Walk(Limits(), DocumentFacts("ZIP")))
    with zipfile.ZipFile(io.BytesIO(new)) as zf:
        assert zf.namelist() == ["a.txt", "b/c.png", "d.txt"]
        assert zf.read("a.txt") == b"keep me" and zf.read("b/c.png") == PNG and zf.read("d.txt") == b"[REDACTED]"
        assert zf.getinfo("a.txt").compress_type == zipfile.ZIP_DEFLATED


# --- hostile bytes -------------------------------------------------------------------------------------------------


def _mutate(rnd, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rnd.randint(1, 12)):
        pos = rnd.randrange(max(1, len(b)))
        op = rnd.random()
        if op < 0.5 and b:
            b[pos] = rnd.randrange(256)
        elif op < 0.8:
            del b[pos:pos + rnd.randint(1, 40)]
        else:
            b[pos:pos] = rnd.choice([b"<w:t>", b"</w:p>", b"<!DOCTYPE x>", b'r:id="rId9"', b"&amp;", b"\x00" * 8,
                                     b"<v>-1</v>", b'encoding="yes"', b"endstream", b"PK\x03\x04"])
    return bytes(b)


def test_damaged_documents_give_a_decision_never_another_exception():
    import random

    rnd = random.Random(2026)
    seeds = [text_pdf([["hello"], ["world"]]), image_pdf([PNG]), docx(["a"], table=[["x", "y"]], comment="c"),
             xlsx({"S": [["a", 1]]}, comment=("A1", "n")), pptx(["t"], notes={1: "n"}), zip_of({"a.txt": b"hi"}),
             tar_of({"a.txt": b"hello"}, "w:gz")]
    office = []
    for seed in seeds[2:5]:  # damage the XML inside the package too, not only the compressed bytes
        with zipfile.ZipFile(io.BytesIO(seed)) as zf:
            office.append({i.filename: zf.read(i) for i in zf.infolist()})
    for _ in range(30):
        for seed in seeds:
            _read_or_refuse(_mutate(rnd, seed))
        for members in office:
            name = rnd.choice([n for n in members if n.endswith((".xml", ".rels"))])
            _read_or_refuse(zip_of({**members, name: _mutate(rnd, members[name])}))


def _read_or_refuse(data: bytes) -> None:
    try:
        list(read_document(data, Limits(max_expanded_bytes=16 * 2**20))[1])
    except InspectionError:
        pass


# --- Office text redaction in the XML bytes -------------------------------------------------------------------------

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def test_office_text_is_replaced_across_runs_and_nothing_else_changes():
    from gateway.documents.ooxml_redact import redact_part, strings_at

    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<w:document {W}><w:body>'
           '<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>Mail jane.doe@corp</w:t></w:r><w:r><w:t>mail.com &amp; more</w:t>'
           '</w:r></w:p><w:p><w:r><w:t xml:space="preserve">keep me  </w:t></w:r></w:p>'
           '<w:p><w:r><w:drawing><wp:docPr xmlns:wp="urn:wp" id="1" name="Picture 1" descr="photo of jane.doe@corpmail.com"/>'
           '</w:drawing></w:r></w:p></w:body></w:document>').encode()
    runs = texts(parts(zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": xml}))[1])
    assert ("word/document.xml", None, "text", f"Mail {EMAIL} & more") in runs
    targets = strings_at(xml, "word/document.xml", [(5, 5 + len(EMAIL), "EMAIL_ADDRESS")])  # the span a finding has
    assert targets == [(EMAIL, "EMAIL_ADDRESS")]
    new = redact_part(xml, "word/document.xml", targets)
    assert new == xml.replace(b"Mail jane.doe@corp</w:t>", b"Mail [EMAIL_ADDRESS]</w:t>") \
        .replace(b"<w:t>mail.com &amp; more</w:t>", b"<w:t> &amp; more</w:t>") \
        .replace(b'descr="photo of jane.doe@corpmail.com"', b'descr="photo of [EMAIL_ADDRESS]"')


def test_office_text_that_cannot_be_replaced_is_refused_not_half_done():
    from gateway.documents.ooxml_redact import redact_part

    split_by_tab = f'<w:document {W}><w:body><w:p><w:r><w:t>4539 1488</w:t><w:tab/><w:t>0343 6467</w:t></w:r></w:p>' \
        '</w:body></w:document>'
    with pytest.raises(InspectionError) as info:
        redact_part(split_by_tab.encode(), "word/document.xml", [("4539 1488\t0343 6467", "CREDIT_CARD")])
    assert info.value.kind is InspectionErrorKind.NOT_REDACTABLE
    with pytest.raises(InspectionError):
        redact_part(f"<w:document {W}><!-- x --><w:p><w:r><w:t>a</w:t></w:r></w:p></w:document>".encode(),
                    "word/document.xml", [("a", "X")])
