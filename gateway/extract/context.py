"""The state of one extraction: what was found so far, what looked wrong, and the walk that recurses into content."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gateway.extract.result import ExtractedDocument, ExtractedImage, ExtractedPrompt
from gateway.extract.tree import doc_key, prompt_key
from gateway.prompt import MAX_PROMPT_CHARS

if TYPE_CHECKING:
    from gateway.extract.json_walk import JsonShape
    from gateway.extract.tree import Node

MAX_DEPTH = 6  # nested containers: multipart in multipart, JSON in a JSON string, ...
MAX_NOTES = 100  # cap on undecodable / warnings entries, so a hostile body cannot blow them up

# The walk itself lives in gateway.extract.dispatch; the shapes reach it through the context, so that multipart,
# JSON and form scanners can recurse into what they find without importing the dispatcher.
Analyze = Callable[..., "tuple[Node | None, str]"]
AnalyzeText = Callable[..., "Node | None"]


class Context:
    """Images, documents and notes collected so far in one body (bounded by max_images and MAX_NOTES)."""

    def __init__(self, max_images: int, analyze: Analyze, analyze_text: AnalyzeText, json_shape: JsonShape) -> None:
        self.max_images = max_images
        self._analyze, self._analyze_text = analyze, analyze_text
        self.json_shape = json_shape  # the keys the JSON walker reads by name (the app's, or the generic ones)
        self.images: list[ExtractedImage] = []
        self.documents: list[ExtractedDocument] = []
        self.prompts: list[ExtractedPrompt] = []
        self.prompt_chars = 0
        self.undecodable: list[str] = []
        self.warnings: list[str] = []
        self.too_many = False
        self._dropped_notes = 0

    def add(self, data: bytes, fmt: str, where: str) -> int | None:
        if len(self.images) >= self.max_images:
            self.too_many = True
            return None
        index = len(self.images)
        self.images.append(ExtractedImage(index, data, fmt, where))
        return index

    def add_document(self, data: bytes, kind: str, where: str) -> tuple[str, int] | None:
        if len(self.documents) >= self.max_images:
            self.too_many = True
            return None
        index = len(self.documents)
        self.documents.append(ExtractedDocument(index, data, kind, where))
        return doc_key(index)

    def add_prompt(self, text: str, where: str) -> tuple[str, int] | None:
        """A prompt text; None for an empty one, and past MAX_PROMPT_CHARS (noted: the caller applies on_error)."""
        if not text.strip():
            return None
        self.prompt_chars += len(text)
        if self.prompt_chars > MAX_PROMPT_CHARS:
            if self.prompt_chars - len(text) <= MAX_PROMPT_CHARS:
                self.note(f"{where}: more than {MAX_PROMPT_CHARS} characters of prompt text, not inspected")
            return None
        index = len(self.prompts)
        self.prompts.append(ExtractedPrompt(index, text, where))
        return prompt_key(index)

    def note(self, msg: str) -> None:
        self._append(self.undecodable, msg)

    def warn(self, msg: str) -> None:
        self._append(self.warnings, msg)

    def _append(self, notes: list[str], msg: str) -> None:
        if len(notes) < MAX_NOTES:
            notes.append(msg)
        elif len(notes) == MAX_NOTES:
            notes.append("... more omitted")

    def checkpoint(self) -> tuple[int, int, int, bool, int, int, int]:
        return (len(self.images), len(self.undecodable), len(self.warnings), self.too_many, len(self.documents),
                len(self.prompts), self.prompt_chars)

    def rollback(self, cp: tuple[int, int, int, bool, int, int, int]) -> None:
        del self.images[cp[0] :]
        del self.undecodable[cp[1] :]
        del self.warnings[cp[2] :]
        self.too_many = cp[3]
        del self.documents[cp[4] :]
        del self.prompts[cp[5] :]
        self.prompt_chars = cp[6]

    def analyze(self, content_type: str | None, data: bytes, where: str, depth: int,
                file: bool = False) -> tuple[Node | None, str]:
        """Find images and documents in nested content declared as content_type (a multipart part, ...)."""
        return self._analyze(self, content_type, data, where, depth, file)

    def analyze_text(self, data: bytes, where: str, depth: int) -> Node | None:
        """Find images in a decoded text value (a JSON string, a form value): JSON inside, else a text scan."""
        return self._analyze_text(self, data, where, depth)


def join(prefix: str, what: str) -> str:
    return f"{prefix} > {what}" if prefix else what


def short(name: str) -> str:
    """A field name for `where`, quoted and cut short (names are client-controlled)."""
    return repr(name if len(name) <= 60 else name[:57] + "...")
