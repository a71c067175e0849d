"""What extraction returns: the images and documents found in a body, and how to rebuild the body around them."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.extract.tree import Node, doc_key, prompt_key


@dataclass
class ExtractedImage:
    """One image found in a request body."""

    index: int  # position in Extraction.images
    data: bytes = field(repr=False)  # the image bytes (decoded from base64 etc.)
    format: str  # gateway.formats.sniff_format of data
    where: str  # debug description, e.g. "multipart part 'file'", "json $.messages[0].content[1].image_url.url"


@dataclass
class ExtractedDocument:
    """One document or archive found in a request body."""

    index: int  # position in Extraction.documents
    data: bytes = field(repr=False)
    type: str  # gateway.documents.sniff.sniff_document of data: PDF, DOCX, ZIP, TEXT, ...
    where: str


@dataclass
class ExtractedPrompt:
    """One piece of prompt text found in a request body (a chat message, a prompt field: gateway.prompt)."""

    index: int  # position in Extraction.prompts
    text: str = field(repr=False)
    where: str  # e.g. "json $.messages[1].content[0].text", "multipart part 'prompt'"


@dataclass
class Extraction:
    """Every image and document found in a body, plus what looked suspicious, and a way to rebuild the body."""

    images: list[ExtractedImage]
    kind: str  # "multipart" | "raw" | "json" | "form" | "text" (images found by a text scan) | "none"
    undecodable: list[str] = field(default_factory=list)  # claims to be an image but is not one we know
    warnings: list[str] = field(default_factory=list)  # structural oddities (no PII, no content)
    too_many: bool = False  # more than max_images images (or documents): collecting stopped
    _body: bytes = field(default=b"", repr=False)
    _root: Node | None = field(default=None, repr=False)
    documents: list[ExtractedDocument] = field(default_factory=list)
    app: str | None = None  # the app module whose upload shape matched the request (gateway.extract.apps)
    prompts: list[ExtractedPrompt] = field(default_factory=list)

    def rebuild(self, replacements: dict[int, bytes], documents: dict[int, bytes] | None = None,
                prompts: dict[int, str] | None = None) -> bytes:
        """The original body with images[i] replaced by replacements[i], documents[j] by documents[j] and the text
        of prompts[k] by prompts[k] (in its JSON string's own escaping); every other byte unchanged.

        If a replacement has another format than the original, data: URL media types and sibling
        media_type/mime_type JSON fields are updated to match. Unknown indexes raise KeyError, and so does
        replacing a text document together with an image inside it.
        """
        documents, prompts = documents or {}, prompts or {}
        unknown = [i for i in replacements if not 0 <= i < len(self.images)]
        unknown += [("document", j) for j in documents if not 0 <= j < len(self.documents)]
        unknown += [prompt_key(k) for k in prompts if not 0 <= k < len(self.prompts)]
        if unknown:
            raise KeyError(f"no image, document or prompt with index {unknown}")
        if not (replacements or documents or prompts) or self._root is None:
            return self._body
        new = self._root.render({**replacements, **{doc_key(j): data for j, data in documents.items()},
                                 **{prompt_key(k): text for k, text in prompts.items()}})
        return self._body if new is None else new
