"""Tests for gateway.extract: finding images in request bodies and rebuilding bodies byte-exactly."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import io
import json
import random
import urllib.parse

import pytest
from PIL import Image

from gateway.extract import MIN_BASE64_CHARS, Extraction, extract_images
from gateway.formats import sniff_format


def img(fmt: str = "PNG", color=(200, 30, 30), size=(12, 9)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


PNG = img("PNG")
PNG2 = img("PNG", (10, 220, 10))
JPEG = img("JPEG", (0, 0, 255))
GIF = img("GIF", (1, 2, 3))
WEBP = img("WEBP", (40, 50, 60))
BMP = img("BMP", (9, 9, 9))
B = "----WebKitFormBoundary7MA4YWxkTrZu0gW"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def part(name: str | None, body: bytes, filename: str | None = None, ctype: str | None = None, extra: str = "") -> bytes:
    disp = "Content-Disposition: form-data"
    if name is not None:
        disp += f'; name="{name}"'
    if filename is not None:
        disp += f'; filename="{filename}"'
    head = disp + "\r\n" + (f"Content-Type: {ctype}\r\n" if ctype else "") + extra
    return head.encode() + b"\r\n" + body


def multipart(parts: list[bytes], boundary: str = B, preamble: bytes = b"", epilogue: bytes = b"\r\n") -> bytes:
    dash = b"--" + boundary.encode()
    out = preamble
    for p in parts:
        out += dash + b"\r\n" + p + b"\r\n"
    return out + dash + b"--" + epilogue


def check_roundtrip(ex: Extraction, body: bytes) -> None:
    assert ex.rebuild({}) == body
    # replacing every image by itself is a no-op too
    assert ex.rebuild({i.index: i.data for i in ex.images}) == body


def email_parts(content_type: str, body: bytes) -> dict[str, bytes]:
    """An independent multipart parser (the standard library's) to check rebuilt bodies."""
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    return {p.get_param("name", header="content-disposition"): p.get_payload(decode=True) for p in msg.iter_parts()}


# ------------------------------------------------------------------------------------------------------- raw


@pytest.mark.parametrize("ctype", ["image/png", "application/octet-stream", None, "application/json", "text/plain"])
def test_raw_body_is_the_image_whatever_the_content_type(ctype):
    ex = extract_images(ctype, PNG)
    assert ex.kind == "raw"
    assert [(i.index, i.format, i.where) for i in ex.images] == [(0, "PNG", "raw body")]
    assert ex.images[0].data == PNG
    check_roundtrip(ex, PNG)
    assert ex.rebuild({0: JPEG}) == JPEG
    assert ex.undecodable == [] and not ex.too_many


def test_raw_body_chatgpt_blob_put_jpeg():
    ex = extract_images("image/jpeg", JPEG)  # PUT to *.oaiusercontent.com with x-ms-blob-type: BlockBlob
    assert ex.kind == "raw" and ex.images[0].format == "JPEG"


@pytest.mark.parametrize("body", [b"this is not a png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"\x89PNX"])
def test_raw_body_claiming_image_but_not_one_is_undecodable(body):
    ex = extract_images("image/png", body)
    assert ex.images == []
    assert len(ex.undecodable) == 1 and "image/png" in ex.undecodable[0]
    assert ex.rebuild({}) == body


@pytest.mark.parametrize("body", [b"", None])
def test_empty_body(body):
    ex = extract_images("image/png", body)
    assert ex.images == [] and ex.kind == "none" and ex.undecodable == []
    assert ex.rebuild({}) == b""


def test_formats_all_sniffed():
    for data, fmt in [(PNG, "PNG"), (JPEG, "JPEG"), (GIF, "GIF"), (WEBP, "WEBP"), (BMP, "BMP")]:
        assert extract_images(None, data).images[0].format == fmt


# ------------------------------------------------------------------------------------------------- multipart


def test_openai_images_edits_image_and_mask():
    ctype = f"multipart/form-data; boundary={B}"
    parts = [
        part("image", PNG, "photo.png", "image/png"),
        part("mask", PNG2, "mask.png", "image/png"),
        part("prompt", b"A sunlit indoor lounge area with a pool"),
        part("model", b"gpt-image-1"),
    ]
    body = multipart(parts)
    ex = extract_images(ctype, body)
    assert ex.kind == "multipart"
    assert [(i.format, i.where, i.data) for i in ex.images] == [
        ("PNG", "multipart part 'image'", PNG),
        ("PNG", "multipart part 'mask'", PNG2),
    ]
    check_roundtrip(ex, body)
    new = ex.rebuild({1: JPEG})
    parts[1] = part("mask", JPEG, "mask.png", "image/png")  # part headers are kept as they were
    assert new == multipart(parts)
    fields = email_parts(ctype, new)
    assert fields["image"] == PNG and fields["mask"] == JPEG and fields["prompt"].startswith(b"A sunlit")


def test_openai_files_upload():
    ctype = f"multipart/form-data; boundary={B}"
    body = multipart([part("purpose", b"vision"), part("file", JPEG, "scan.jpg", "image/jpeg")])
    ex = extract_images(ctype, body)
    assert [i.where for i in ex.images] == ["multipart part 'file'"]
    assert email_parts(ctype, ex.rebuild({0: PNG}))["file"] == PNG


def test_claude_web_upload_file_field_crlf_preamble_epilogue():
    boundary = "----WebKitFormBoundaryAbC123xyz"
    ctype = f"multipart/form-data; boundary={boundary}"
    body = multipart(
        [part("file", WEBP, "screenshot.webp", "image/webp"), part("orgUuid", b"0b1e-4d2c")],
        boundary,
        preamble=b"This is the preamble.\r\n",
        epilogue=b"\r\nThis is the epilogue.\r\n",
    )
    ex = extract_images(ctype, body)
    assert [(i.format, i.where) for i in ex.images] == [("WEBP", "multipart part 'file'")]
    check_roundtrip(ex, body)
    new = ex.rebuild({0: PNG})
    assert new.startswith(b"This is the preamble.\r\n--" + boundary.encode())
    assert new.endswith(b"--\r\nThis is the epilogue.\r\n")
    assert new == body.replace(WEBP, PNG)


def test_part_without_filename_and_without_content_type_is_sniffed():
    body = multipart([part("image", GIF), part("note", b"hello")])
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert [(i.format, i.where) for i in ex.images] == [("GIF", "multipart part 'image'")]
    assert ex.rebuild({0: PNG}) == body.replace(GIF, PNG)


def test_file_name_and_content_type_are_not_trusted():
    body = multipart([part("doc", JPEG, "report.pdf", "application/pdf"), part("pic", b"%PDF-1.7 ...", "a.txt", "text/plain")])
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert [(i.format, i.where) for i in ex.images] == [("JPEG", "multipart part 'doc'")]
    assert ex.undecodable == []


def test_three_images_and_text_fields_replace_middle_only():
    ctype = f'multipart/form-data; boundary="{B}"'  # quoted boundary
    texts = [part("model", b"dall-e-2"), part("n", b"2"), part("size", b"1024x1024")]
    images = [part("image[]", PNG, "a.png", "image/png"), part("image[]", JPEG, "b.jpg"), part("image[]", GIF, "c.gif")]
    parts = [texts[0], images[0], texts[1], images[1], images[2], texts[2]]
    body = multipart(parts)
    ex = extract_images(ctype, body)
    assert [i.format for i in ex.images] == ["PNG", "JPEG", "GIF"]
    assert [i.index for i in ex.images] == [0, 1, 2]
    check_roundtrip(ex, body)
    new = ex.rebuild({1: PNG2})
    expected = list(parts)
    expected[3] = part("image[]", PNG2, "b.jpg")
    assert new == multipart(expected)
    again = extract_images(ctype, new)
    assert [i.data for i in again.images] == [PNG, PNG2, GIF]


def test_content_transfer_encoding_base64_part_and_content_length_fixed():
    wrapped = "\r\n".join(b64(JPEG)[i : i + 76] for i in range(0, len(b64(JPEG)), 76)).encode() + b"\r\n"
    encoded = part("file", wrapped, "x.jpg", "image/jpeg", f"Content-Transfer-Encoding: base64\r\nContent-Length: {len(wrapped)}\r\n")
    body = multipart([part("purpose", b"vision"), encoded])
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert [(i.format, i.data) for i in ex.images] == [("JPEG", JPEG)]
    check_roundtrip(ex, body)
    new = ex.rebuild({0: PNG})
    new_wrapped = "\r\n".join(b64(PNG)[i : i + 76] for i in range(0, len(b64(PNG)), 76)).encode() + b"\r\n"
    expected = multipart(
        [
            part("purpose", b"vision"),
            part("file", new_wrapped, "x.jpg", "image/jpeg", f"Content-Transfer-Encoding: base64\r\nContent-Length: {len(new_wrapped)}\r\n"),
        ]
    )
    assert new == expected


def test_plain_part_content_length_fixed():
    body = multipart([part("file", PNG, "a.png", "image/png", f"content-length: {len(PNG)}\r\n")])
    new = extract_images(f"multipart/form-data; boundary={B}", body).rebuild({0: JPEG})
    assert new == multipart([part("file", JPEG, "a.png", "image/png", f"content-length: {len(JPEG)}\r\n")])


def test_quoted_printable_part():
    import binascii

    qp = binascii.b2a_qp(PNG, quotetabs=True, istext=False).replace(b"\n", b"\r\n")
    body = multipart([part("file", qp, "a.png", "image/png", "Content-Transfer-Encoding: quoted-printable\r\n")])
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert ex.images[0].data == PNG
    check_roundtrip(ex, body)
    new = ex.rebuild({0: JPEG})
    assert extract_images(f"multipart/form-data; boundary={B}", new).images[0].data == JPEG
    assert b"\r\n" in new and b"=\n" not in new.replace(b"=\r\n", b"")


def test_lf_only_multipart():
    body = (
        f'--{B}\nContent-Disposition: form-data; name="file"; filename="a.png"\n\n'.encode() + PNG + f"\n--{B}\n".encode()
        + b'Content-Disposition: form-data; name="x"\n\nvalue\n' + f"--{B}--\n".encode()
    )
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert [i.data for i in ex.images] == [PNG]
    assert ex.rebuild({0: GIF}) == body.replace(PNG, GIF)


def test_nested_multipart_mixed():
    inner_b = "inner-boundary-42"
    inner = multipart([part(None, PNG, "one.png", "image/png"), part(None, JPEG, "two.jpg", "image/jpeg")], inner_b, epilogue=b"")
    body = multipart([part("files", inner, ctype=f"multipart/mixed; boundary={inner_b}"), part("comment", b"hi")])
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert [(i.format, i.where) for i in ex.images] == [
        ("PNG", "multipart part 'files' > multipart part #0"),
        ("JPEG", "multipart part 'files' > multipart part #1"),
    ]
    check_roundtrip(ex, body)
    assert ex.rebuild({1: GIF}) == body.replace(JPEG, GIF)


def test_multipart_part_claiming_image_but_text_is_undecodable():
    body = multipart([part("file", b"<svg>secret text</svg>", "a.svg", "image/svg+xml"), part("ok", PNG)])
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert [i.where for i in ex.images] == ["multipart part 'ok'"]
    assert ex.undecodable == ["multipart part 'file': Content-Type image/svg+xml but not a known image format"]


def test_multipart_without_closing_boundary():
    body = f"--{B}\r\n".encode() + part("file", PNG, "a.png") + b"\r\n" + f"--{B}\r\n".encode() + part("f2", JPEG)
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert [i.data for i in ex.images] == [PNG, JPEG]
    assert any("no closing boundary" in w for w in ex.warnings)
    check_roundtrip(ex, body)
    assert ex.rebuild({1: GIF}) == body.replace(JPEG, GIF)


def test_boundary_text_inside_a_part_is_not_a_delimiter():
    tricky = b"line\r\n--" + B.encode() + b"X not a delimiter\r\n"
    body = multipart([part("text", tricky), part("file", PNG)])
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert [i.where for i in ex.images] == ["multipart part 'file'"]
    assert ex.rebuild({0: JPEG}) == body.replace(PNG, JPEG)


def test_close_delimiter_followed_by_junk_is_not_a_close_and_parts_after_close_are_seen():
    # Go's mime/multipart only ends at "--B--" + blanks + newline: "--B--junk" is part content there
    body = multipart([part("a", b"x\r\n--" + B.encode() + b"--junk"), part("file", PNG)])
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert [i.where for i in ex.images] == ["multipart part 'file'"]
    assert any("not delimiter lines" in w for w in ex.warnings)
    # a lenient server may keep reading after a closing delimiter: so do we
    body = multipart([part("a", b"x")], epilogue=b"\r\n") + multipart([part("file", JPEG)])
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert [i.data for i in ex.images] == [JPEG]
    assert any("after the closing boundary" in w for w in ex.warnings)
    check_roundtrip(ex, body)
    assert ex.rebuild({0: PNG}) == body.replace(JPEG, PNG)


def test_long_field_names_are_cut_in_where():
    body = multipart([part("n" * 5000, PNG)])
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert len(ex.images[0].where) < 100


def test_multipart_without_content_type_is_inferred():
    body = multipart([part("file", PNG)])
    ex = extract_images(None, body)
    assert ex.kind == "multipart" and [i.data for i in ex.images] == [PNG]
    assert ex.rebuild({0: JPEG}) == body.replace(PNG, JPEG)


def test_multipart_text_field_with_data_url_and_json_part():
    payload = json.dumps({"image": "data:image/jpeg;base64," + b64(JPEG)}).encode()
    body = multipart([part("image", ("data:image/png;base64," + b64(PNG)).encode()), part("payload", payload, ctype="application/json")])
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert [(i.format, i.where) for i in ex.images] == [
        ("PNG", "multipart part 'image'"),
        ("JPEG", "multipart part 'payload' > json $.image"),
    ]
    new = ex.rebuild({0: GIF, 1: PNG})
    again = extract_images(f"multipart/form-data; boundary={B}", new)
    assert [i.data for i in again.images] == [GIF, PNG]
    assert b"data:image/gif;base64," in new and b'"data:image/png;base64,' in new


# ------------------------------------------------------------------------------------------------------ JSON


def openai_chat(url: str) -> dict:
    return {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": [{"type": "text", "text": "What is in this image?"}, {"type": "image_url", "image_url": {"url": url, "detail": "high"}}]},
        ],
        "max_tokens": 300,
        "temperature": 0.5,
    }


def test_openai_chat_data_url_default_separators():
    doc = openai_chat("data:image/png;base64," + b64(PNG))
    body = json.dumps(doc).encode()
    ex = extract_images("application/json", body)
    assert ex.kind == "json"
    assert [(i.format, i.where) for i in ex.images] == [("PNG", "json $.messages[1].content[1].image_url.url")]
    check_roundtrip(ex, body)
    new = ex.rebuild({0: PNG2})  # same format: only the base64 changes
    assert new == json.dumps(openai_chat("data:image/png;base64," + b64(PNG2))).encode()
    new = ex.rebuild({0: JPEG})  # format changes: the media type follows
    assert new == json.dumps(openai_chat("data:image/jpeg;base64," + b64(JPEG))).encode()


def test_responses_api_input_image_compact():
    doc = {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "describe"}, {"type": "input_image", "image_url": "data:image/jpeg;base64," + b64(JPEG)}]}],
    }
    body = json.dumps(doc, separators=(",", ":")).encode()
    ex = extract_images("application/json; charset=utf-8", body)
    assert [i.where for i in ex.images] == ["json $.input[0].content[1].image_url"]
    new = ex.rebuild({0: JPEG[:-2] + b"\xff\xd9"})
    doc["input"][0]["content"][1]["image_url"] = "data:image/jpeg;base64," + b64(JPEG[:-2] + b"\xff\xd9")
    assert new == json.dumps(doc, separators=(",", ":")).encode()


def test_anthropic_base64_source_media_type_follows_format():
    def doc(media_type, data):
        return {
            "model": "claude-sonnet-4",
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}, {"type": "text", "text": "Describe."}]}],
        }

    body = json.dumps(doc("image/png", b64(PNG)), indent=2).encode()
    ex = extract_images("application/json", body)
    assert [(i.format, i.where) for i in ex.images] == [("PNG", "json $.messages[0].content[0].source.data")]
    check_roundtrip(ex, body)
    assert ex.rebuild({0: PNG2}) == json.dumps(doc("image/png", b64(PNG2)), indent=2).encode()
    assert ex.rebuild({0: JPEG}) == json.dumps(doc("image/jpeg", b64(JPEG)), indent=2).encode()


@pytest.mark.parametrize("snake", [True, False])
def test_gemini_inline_data(snake):
    key, mkey = ("inline_data", "mime_type") if snake else ("inlineData", "mimeType")

    def doc(mime, data):  # the data comes first here: the media type fix must not depend on key order
        return {"contents": [{"role": "user", "parts": [{"text": "What is this?"}, {key: {"data": data, mkey: mime}}]}], "generationConfig": {"temperature": 0}}

    body = json.dumps(doc("image/webp", b64(WEBP)), ensure_ascii=False).encode()
    ex = extract_images("application/json", body)
    assert [(i.format, i.where) for i in ex.images] == [("WEBP", f"json $.contents[0].parts[1].{key}.data")]
    assert ex.rebuild({0: PNG}) == json.dumps(doc("image/png", b64(PNG)), ensure_ascii=False).encode()


def test_url_safe_unpadded_base64_keeps_its_flavour():
    def enc(data):
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    data = PNG + b"\xfb\xff\xbf"  # trailing bytes after IEND do not matter: make sure "-_" and padding occur
    data += b"\x00" * (1 if len(data) % 3 == 0 else 0)
    assert "-_" in enc(data) and "=" in base64.urlsafe_b64encode(data).decode()
    body = json.dumps({"image": enc(data), "n": 1}).encode()
    ex = extract_images("application/json", body)
    assert [i.data for i in ex.images] == [data]
    new_data = JPEG + b"\x00" * ((-len(JPEG)) % 3 or 1)
    new = ex.rebuild({0: new_data})
    assert new == json.dumps({"image": enc(new_data), "n": 1}).encode()
    assert "=" not in json.loads(new)["image"]


def test_line_wrapped_base64_in_json_stays_wrapped():
    def wrap(data):
        text = b64(data)
        return "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))

    body = json.dumps({"attachment": {"content": wrap(JPEG)}}).encode()
    ex = extract_images("application/json", body)
    assert [i.data for i in ex.images] == [JPEG]
    assert ex.rebuild({0: PNG}) == json.dumps({"attachment": {"content": wrap(PNG)}}).encode()


def test_escaped_slashes_and_unicode_kept():
    text = "data:image/jpeg;base64," + b64(JPEG)
    body = ('{"msg":"h\\u00e9llo \\/ caf\u00e9","img":"' + text.replace("/", "\\/") + '"}').encode()
    ex = extract_images("application/json", body)
    assert [i.data for i in ex.images] == [JPEG]
    check_roundtrip(ex, body)
    new = ex.rebuild({0: PNG})
    assert new == ('{"msg":"h\\u00e9llo \\/ caf\u00e9","img":"' + ("data:image/png;base64," + b64(PNG)).replace("/", "\\/") + '"}').encode()


def test_duplicate_keys_both_found():
    body = ('{"image":"data:image/png;base64,' + b64(PNG) + '","image":"data:image/gif;base64,' + b64(GIF) + '"}').encode()
    ex = extract_images("application/json", body)
    assert [i.format for i in ex.images] == ["PNG", "GIF"]


def test_stringified_json_and_markdown_inside_strings():
    args = json.dumps({"picture": "data:image/png;base64," + b64(PNG)})
    doc = {
        "tool_calls": [{"function": {"name": "upload", "arguments": args}}],
        "messages": [{"role": "user", "content": "look: ![x](data:image/gif;base64," + b64(GIF) + ") thanks"}],
    }
    body = json.dumps(doc).encode()
    ex = extract_images("application/json", body)
    assert [(i.format, i.where) for i in ex.images] == [
        ("PNG", "json $.tool_calls[0].function.arguments > json $.picture"),
        ("GIF", "json $.messages[0].content > text at byte 11"),
    ]
    check_roundtrip(ex, body)
    new = json.loads(ex.rebuild({0: JPEG, 1: WEBP}))
    assert json.loads(new["tool_calls"][0]["function"]["arguments"])["picture"] == "data:image/jpeg;base64," + b64(JPEG)
    assert new["messages"][0]["content"] == "look: ![x](data:image/webp;base64," + b64(WEBP) + ") thanks"


def test_non_image_base64_is_ignored():
    rnd = random.Random(7)
    token = "Qk3" + "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(89))
    doc = {
        "file": "data:application/pdf;base64," + b64(b"%PDF-1.7\n" + bytes(200)),
        "api_key_like": token,  # "Qk3" decodes to "BM": a bare string must not become a BMP by accident
        "hex": "ff" * 64,
        "text": "word " * 100,
        "short": b64(PNG)[:40],
    }
    ex = extract_images("application/json", json.dumps(doc).encode())
    assert ex.kind == "json" and ex.images == [] and ex.undecodable == []


@pytest.mark.parametrize(
    "url",
    ["data:image/png;base64,bm90IGFuIGltYWdlIGF0IGFsbA==", "data:image/svg+xml,%3Csvg%3Etext%3C%2Fsvg%3E", "data:image/png;base64,%%%"],
)
def test_data_image_url_that_is_not_an_image_is_undecodable(url):
    ex = extract_images("application/json", json.dumps(openai_chat(url)).encode())
    assert ex.images == []
    assert len(ex.undecodable) == 1 and ex.undecodable[0].startswith("json $.messages[1].content[1].image_url.url: data:image/")


def test_media_type_claim_with_bad_data_is_undecodable_and_tiny_gif_is_found():
    tiny = img("GIF", size=(1, 1))
    assert len(b64(tiny)) < MIN_BASE64_CHARS
    doc = {"a": {"type": "base64", "media_type": "image/png", "data": "AAAA"}, "b": {"media_type": "image/gif", "data": b64(tiny)}}
    ex = extract_images("application/json", json.dumps(doc).encode())
    assert [(i.format, i.where) for i in ex.images] == [("GIF", "json $.b.data")]
    assert ex.undecodable == ["json $.a.data: media type image/png but data is not a known image format"]


def test_percent_encoded_data_url_payload():
    url = "data:image/jpeg;base64," + urllib.parse.quote(b64(JPEG), safe="")
    assert "%2F" in url
    ex = extract_images("application/json", json.dumps({"u": url}).encode())
    assert [i.data for i in ex.images] == [JPEG]
    new = json.loads(ex.rebuild({0: PNG}))["u"]
    assert new == "data:image/png;base64," + urllib.parse.quote(b64(PNG), safe="")


def test_json_with_bom_and_top_level_string():
    body = b"\xef\xbb\xbf" + json.dumps("data:image/png;base64," + b64(PNG)).encode()
    ex = extract_images("application/json", body)
    assert ex.kind == "json" and [i.where for i in ex.images] == ["json $"]
    assert ex.rebuild({0: GIF}) == b"\xef\xbb\xbf" + json.dumps("data:image/gif;base64," + b64(GIF)).encode()


# ----------------------------------------------------------------------------------------- form and text


def test_form_urlencoded_data_url_field():
    fields = {"prompt": "a cat & a dog", "image": "data:image/png;base64," + b64(PNG), "n": "1"}
    body = urllib.parse.urlencode(fields).encode()
    ex = extract_images("application/x-www-form-urlencoded", body)
    assert ex.kind == "form" and [(i.format, i.where) for i in ex.images] == [("PNG", "form field 'image'")]
    check_roundtrip(ex, body)
    new = urllib.parse.parse_qs(ex.rebuild({0: JPEG}).decode())
    assert new == {"prompt": ["a cat & a dog"], "image": ["data:image/jpeg;base64," + b64(JPEG)], "n": ["1"]}


def test_form_urlencoded_binary_value():
    body = b"x=1&file=" + urllib.parse.quote_from_bytes(PNG).encode()
    ex = extract_images("application/x-www-form-urlencoded", body)
    assert [i.data for i in ex.images] == [PNG]
    new = ex.rebuild({0: GIF})
    assert new.startswith(b"x=1&file=") and urllib.parse.unquote_to_bytes(new[9:]) == GIF


def test_text_body_with_base64_and_data_url():
    body = b"here is a picture:\n" + b64(JPEG).encode() + b"\nand <img src=\"data:image/png;base64," + b64(PNG).encode() + b'">\n'
    ex = extract_images("text/plain", body)
    assert ex.kind == "text" and [i.format for i in ex.images] == ["JPEG", "PNG"]
    check_roundtrip(ex, body)
    assert ex.rebuild({0: GIF, 1: WEBP}) == body.replace(b64(JPEG).encode(), b64(GIF).encode()).replace(
        b"data:image/png;base64," + b64(PNG).encode(), b"data:image/webp;base64," + b64(WEBP).encode()
    )


def test_data_url_glued_to_a_base64_run_is_found():
    body = ("Q" * 70 + "data:image/png;base64," + b64(PNG) + " and " + b64(GIF)).encode()
    ex = extract_images("text/plain", body)
    assert [i.data for i in ex.images] == [PNG, GIF]
    assert ex.rebuild({0: JPEG}) == body.replace(b"image/png;base64," + b64(PNG).encode(), b"image/jpeg;base64," + b64(JPEG).encode())


def test_text_body_with_wrapped_base64_followed_by_text():
    text = b64(PNG)
    wrapped = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    body = f"-----BEGIN-----\n{wrapped}\nThanks\n".encode()
    ex = extract_images(None, body)
    assert [i.data for i in ex.images] == [PNG]
    new = ex.rebuild({0: GIF})
    t2 = b64(GIF)
    assert new == ("-----BEGIN-----\n" + "\n".join(t2[i : i + 64] for i in range(0, len(t2), 64)) + "\nThanks\n").encode()


# --------------------------------------------------------------------------------- mismatches and hostile input


def test_content_type_lies():
    jbody = json.dumps(openai_chat("data:image/png;base64," + b64(PNG))).encode()
    ex = extract_images(f"multipart/form-data; boundary={B}", jbody)
    assert ex.kind == "json" and len(ex.images) == 1
    assert any("no parts" in w for w in ex.warnings)
    ex = extract_images("application/json", b"not json " + b64(PNG).encode())
    assert ex.kind == "text" and len(ex.images) == 1 and any("invalid JSON" in w for w in ex.warnings)
    ex = extract_images("multipart/form-data", jbody)  # no boundary parameter at all
    assert ex.kind == "json" and len(ex.images) == 1


def test_image_in_preamble_does_not_hide_the_parts():
    body = multipart([part("file", JPEG)], preamble=PNG + b"\r\n")
    ex = extract_images(f"multipart/form-data; boundary={B}", body)
    assert ex.kind == "multipart" and [i.data for i in ex.images] == [JPEG]


def test_invalid_json_images_are_not_double_counted():
    body = ('{"a": "data:image/png;base64,' + b64(PNG) + '", oops').encode()
    ex = extract_images("application/json", body)
    assert ex.kind == "text" and [i.data for i in ex.images] == [PNG]
    assert ex.rebuild({0: GIF}) == body.replace(b"image/png;base64," + b64(PNG).encode(), b"image/gif;base64," + b64(GIF).encode())


def test_deeply_nested_json_no_recursion_error():
    depth = 20_000  # far beyond the recursion limit of json.loads and of Python
    url = json.dumps("data:image/png;base64," + b64(PNG))
    body = ('{"a":' * depth + url + "}" * depth).encode()
    ex = extract_images("application/json", body)
    assert ex.kind == "json" and [i.data for i in ex.images] == [PNG]
    assert len(ex.images[0].where) < 400
    new = ex.rebuild({0: GIF})
    assert new == ('{"a":' * depth + json.dumps("data:image/gif;base64," + b64(GIF)) + "}" * depth).encode()
    # deep and without any candidate string: still recognised as JSON, no crash
    ex = extract_images("application/json", b"[" * depth + b"]" * depth)
    assert ex.kind == "json" and ex.images == []
    ex = extract_images("application/json", b"[" * depth)
    assert ex.kind == "none" and ex.images == []


def test_deeply_nested_multipart_is_capped():
    body = part("file", PNG)
    ctype = "multipart/mixed; boundary=b0"
    for level in range(12):
        inner_ct = ctype
        ctype = f"multipart/mixed; boundary=b{level + 1}"
        body = multipart([part("x", multipart([body], f"b{level}", epilogue=b""), ctype=inner_ct)], f"b{level + 1}")
    ex = extract_images(ctype, body)
    assert ex.images == [] and any("nesting deeper" in u for u in ex.undecodable)


def test_invalid_utf8_everywhere():
    body = b'{"t": "\xff\xfe\xc3", "img": "data:image/png;base64,' + b64(PNG).encode() + b'"}'
    ex = extract_images("application/json", body)
    assert [i.data for i in ex.images] == [PNG]
    check_roundtrip(ex, body)
    assert ex.rebuild({0: GIF}).startswith(b'{"t": "\xff\xfe\xc3", "img": "data:image/gif;base64,')
    mp = multipart([part("f\xe9", PNG, "\xff.png".encode("latin-1").decode("latin-1"), "image/png"), part("x", b"\xff\xfe")])
    ex = extract_images(f"multipart/form-data; boundary={B}", mp)
    assert [i.data for i in ex.images] == [PNG]


def test_many_parts_and_too_many_images():
    parts = [part(f"f{i}", PNG if i % 50 == 0 else b"v") for i in range(5_000)]
    body = multipart(parts)
    ex = extract_images(f"multipart/form-data; boundary={B}", body, max_images=64)
    assert len(ex.images) == 64 and ex.too_many
    assert ex.images[-1].where == "multipart part 'f3150'"
    check_roundtrip(ex, body)
    new = ex.rebuild({63: JPEG})
    assert extract_images(f"multipart/form-data; boundary={B}", new, max_images=1000).images[63].data == JPEG
    ex = extract_images(f"multipart/form-data; boundary={B}", body, max_images=1000)
    assert len(ex.images) == 100 and not ex.too_many


def test_too_many_in_json():
    body = json.dumps(["data:image/png;base64," + b64(PNG)] * 5).encode()
    ex = extract_images("application/json", body, max_images=3)
    assert len(ex.images) == 3 and ex.too_many
    assert ex.rebuild({2: GIF}) == json.dumps(["data:image/png;base64," + b64(PNG)] * 2 + ["data:image/gif;base64," + b64(GIF)] + ["data:image/png;base64," + b64(PNG)] * 2).encode()


def test_notes_are_capped():
    body = json.dumps(["data:image/png;base64,AAAA"] * 1000).encode()
    ex = extract_images("application/json", body)
    assert 100 < len(ex.undecodable) <= 101


def test_rebuild_unknown_index_raises():
    ex = extract_images("image/png", PNG)
    with pytest.raises(KeyError):
        ex.rebuild({1: PNG})


def test_embedded_signature_in_unparsed_binary_is_warned():
    body = b"\x08\x01\x12\x80\x10" + PNG + b"\x1a\x02ok"  # a protobuf-like envelope we cannot parse
    ex = extract_images("application/x-protobuf", body)
    assert ex.images == [] and any(w.startswith("embedded-signature:") for w in ex.warnings)


def test_garbage_and_truncations_never_raise():
    rnd = random.Random(1)
    samples = [
        multipart([part("image", PNG, "a.png", "image/png"), part("p", b"x")]),
        json.dumps(openai_chat("data:image/png;base64," + b64(PNG))).encode(),
        urllib.parse.urlencode({"image": "data:image/png;base64," + b64(PNG)}).encode(),
    ]
    ctypes = [f"multipart/form-data; boundary={B}", "application/json", "application/x-www-form-urlencoded", None, "image/png"]
    for sample in samples:
        for cut in range(0, len(sample), 7):
            for ctype in ctypes:
                ex = extract_images(ctype, sample[:cut])
                assert ex.rebuild({}) == sample[:cut]
                if ex.images:
                    assert sniff_format(ex.images[0].data)
                    ex.rebuild({0: GIF})
        for _ in range(50):
            mutated = bytearray(sample)
            for _ in range(5):
                mutated[rnd.randrange(len(mutated))] = rnd.randrange(256)
            for ctype in ctypes:
                ex = extract_images(ctype, bytes(mutated))
                assert ex.rebuild({}) == bytes(mutated)
                assert not any(u.startswith("extraction failed") for u in ex.undecodable)
    for _ in range(200):
        blob = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300)))
        for ctype in ctypes:
            assert extract_images(ctype, blob).rebuild({}) == blob


def test_big_json_body_is_reasonably_fast():
    # a realistic large chat request: 10 MB of base64 image plus a long history; no timed assert, just works
    big = PNG + bytes(7_000_000)
    doc = openai_chat("data:image/png;base64," + b64(big))
    doc["messages"] = [{"role": "user", "content": "hello " * 50}] * 2000 + doc["messages"]
    body = json.dumps(doc).encode()
    ex = extract_images("application/json", body)
    assert len(ex.images) == 1 and ex.images[0].data == big


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd", None])
def test_with_a_mitmproxy_request_and_content_encoding(encoding):
    """What the addon does: extract from request.content (decoded), assign the rebuilt body back (re-encoded)."""
    from mitmproxy.http import Request
    from mitmproxy.net import encoding as mencoding

    headers = {"content-type": f"multipart/form-data; boundary={B}"}
    if encoding:
        headers["content-encoding"] = encoding
    req = Request.make("POST", "https://claude.ai/api/org/upload", b"", headers)
    body = multipart([part("file", PNG, "a.png", "image/png"), part("x", b"y")])
    req.content = body
    if encoding:
        assert req.raw_content != body
    ex = extract_images(req.headers.get("content-type"), req.content)
    assert [i.data for i in ex.images] == [PNG]
    req.content = ex.rebuild({0: JPEG})
    raw = mencoding.decode(req.raw_content, encoding) if encoding else req.raw_content
    assert raw == body.replace(PNG, JPEG)
    assert req.headers.get("content-encoding") == encoding


def test_extract_reads_the_content_type_from_the_request_headers():
    from gateway.extract import extract
    from gateway.models import HttpRequest

    body = multipart([part("file", PNG, "a.png", "image/png")], boundary="XyZ")
    request = HttpRequest("POST", "chatgpt.com", "/backend-api/files", {"content-type": "multipart/form-data; boundary=XyZ"})
    ex = extract(request, body)
    assert ex.kind == "multipart" and [i.data for i in ex.images] == [PNG]
    assert ex.images[0].where == "multipart part 'file'"
    # extract_images is the same walk for a body known only by its Content-Type
    same = extract_images("multipart/form-data; boundary=XyZ", body)
    assert [(i.data, i.where) for i in same.images] == [(i.data, i.where) for i in ex.images]
    assert extract(HttpRequest("PUT", "files.oaiusercontent.com", "/f", {}), PNG).kind == "raw"
