"""Find every image and document inside an HTTP request body and rebuild the body with replacements.

One module per shape: multipart, json_walk, form, text (a scan of anything else) and b64 (base64 and
data: URLs), tied together by dispatch; tree is the rebuild tree, context the state of one walk. apps/ holds one
small module per AI app's upload request, chosen by host and path (``extract`` takes the request for that).

Supported wrappings (detected by content, the Content-Type is only a hint):

* raw body: the body itself sniffs as an image (PUT/POST of the file bytes);
* multipart/* (form-data, mixed, nested): byte-level parser, every other byte is kept as is;
  parts with ``Content-Transfer-Encoding: base64`` / ``quoted-printable`` are decoded and re-encoded;
* JSON: every string value that is a data: URL, a bare base64 image (standard or URL-safe, padded or not,
  line-wrapped or not), or that itself holds JSON/text with such strings;
* application/x-www-form-urlencoded values;
* anything else: data: URLs and long base64 runs found by a text scan.

Rebuilding splices new bytes into the original body: everything except the replaced images (and, where the
format changes, their media type) stays byte-identical, including JSON key order, whitespace and escapes.

Images are recognised by magic bytes only (gateway.formats.sniff_format). Content that *claims* to be an image
(image/* Content-Type, data:image/... URL, an image media_type next to a "data" field) but does not sniff as one
is reported in ``Extraction.undecodable`` so the caller can apply on_error; so is content nested deeper than
MAX_DEPTH. Structural oddities (invalid JSON, unterminated multipart, boundary strings that are not delimiter
lines, image signatures inside an unparsed binary body, ...) go to ``Extraction.warnings``.
``extract`` (and ``extract_images``) never raises on bad input; when more than ``max_images`` images are found it stops
collecting and sets ``too_many`` (images then holds the first max_images; the rest cannot be replaced).

Documents and archives (PDF, DOCX/XLSX/PPTX, ZIP, tar, gzip, ..., by gateway.documents.sniff) are collected in
``Extraction.documents`` wherever an image could be: a raw body, a multipart part, a base64 string or data: URL.
Plain text counts as a document only where it is a file: a multipart part with a filename, or a raw body sent as
text/* or application/octet-stream (any JSON or form body is text too). The bytes are still scanned for images.

Prompt text -- what the user typed beside the upload: chat messages of the OpenAI, Anthropic and Gemini APIs, the
ChatGPT and Claude web conversation bodies, prompt form and multipart fields (gateway.prompt says which) -- is
collected in ``Extraction.prompts`` as decoded strings (tree.PromptText spans), and a rebuild writes a new text back
into its JSON string (in the same escaping style), form value or multipart part. Bodies with prompt text but no
image count too.
"""

from gateway.extract.b64 import MIN_BASE64_CHARS
from gateway.extract.context import MAX_DEPTH
from gateway.extract.dispatch import extract, extract_images
from gateway.extract.result import ExtractedDocument, ExtractedImage, ExtractedPrompt, Extraction

__all__ = ["ExtractedDocument", "ExtractedImage", "ExtractedPrompt", "Extraction", "extract", "extract_images",
           "MIN_BASE64_CHARS", "MAX_DEPTH"]
