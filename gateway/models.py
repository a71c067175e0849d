"""Plain typed data shared by every layer: findings, reports, request context, decisions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels of the EXIF-oriented image


class Action(str, Enum):
    """What the gateway does with an upload. Ordered by severity (see SEVERITY)."""

    ALLOW = "allow"
    AUDIT = "audit"  # allow, but record an audit event as a finding hit
    REDACT = "redact"
    WARN = "warn"  # coaching page with a one-time "proceed anyway" link
    BLOCK = "block"


SEVERITY: dict[Action, int] = {Action.ALLOW: 0, Action.AUDIT: 1, Action.REDACT: 2, Action.WARN: 3, Action.BLOCK: 4}


class Source(str, Enum):
    """Where a finding came from."""

    OCR = "ocr"
    FACE = "face"
    METADATA = "metadata"
    BARCODE = "barcode"
    TEXT = "text"  # the text of a document: PDF text layer, Office XML, plain-text files
    PROMPT = "prompt"  # the text a user sends with the upload: chat messages, a prompt form field


@dataclass(frozen=True)
class Finding:
    """One detected item in one image. Never carries the detected text itself."""

    entity: str  # e.g. EMAIL_ADDRESS, CREDIT_CARD, FACE, SECRET, MRZ, EXIF_GPS
    source: str  # a Source value
    score: float
    box: Box | None = None  # None for findings without a place (metadata), or a place in another picture
    # Which picture of the file it was seen in: "" for the main picture (composited frame 0); else "alpha-hidden"
    # (the colours under transparency: its boxes are in the main picture's pixels), "frame:3", "exif-thumbnail",
    # "mpf:2", "photoshop-thumbnail", "xmp-thumbnail", or nested ("exif-thumbnail/alpha-hidden").
    plane: str = ""
    page: int | None = None  # 1-based PDF page, slide or sheet of a document
    member: str | None = None  # archive member / document part ("a.zip!/b.png", "xl/worksheets/sheet1.xml#C2");
    # for source "prompt": "prompt:N", the N-th prompt text of the request (gateway.extract: Extraction.prompts)
    span: tuple[int, int] | None = None  # character offsets in its member's text (text redaction; never output)

    def to_json(self) -> dict:
        out = {
            "entity": self.entity,
            "source": self.source,
            "score": round(float(self.score), 4),
            "box": list(self.box) if self.box is not None else None,
        }
        if self.plane:
            out["plane"] = self.plane
        if self.page is not None:
            out["page"] = self.page
        if self.member is not None:
            out["member"] = self.member
        return out


class InspectionErrorKind(str, Enum):
    UNSUPPORTED_FORMAT = "unsupported_format"
    CORRUPT = "corrupt"
    TOO_LARGE = "too_large"  # bytes over the limit
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_MANY_IMAGES = "too_many_images"
    TIMEOUT = "timeout"
    ENCRYPTED = "encrypted"  # a password-protected document or archive member
    TOO_MANY_PAGES = "too_many_pages"  # a document over max_document_pages
    TOO_MANY_MEMBERS = "too_many_members"  # an archive over max_archive_members
    TOO_DEEP = "too_deep"  # archives nested deeper than max_archive_depth
    EXPANDED_TOO_LARGE = "expanded_too_large"  # decompressed content over max_expanded_bytes (a zip bomb)
    NOT_REDACTABLE = "not_redactable"  # redact was decided but this content cannot be rewritten faithfully
    INTERNAL = "internal"  # a bug or a crashed worker: still gets on_error


class InspectionError(Exception):
    """An image that cannot be inspected. The policy's on_error decides what happens."""

    def __init__(self, kind: InspectionErrorKind, message: str = "") -> None:
        super().__init__(message or kind.value)
        self.kind = kind


@dataclass
class DocumentFacts:
    """What a document or archive is, for policy, metrics and audit. Counts only, never content."""

    type: str  # a gateway.formats.DOCUMENT_TYPES value: PDF, DOCX, XLSX, PPTX, ZIP, TAR, GZIP, TEXT, ..., PROMPT
    pages: int = 0  # PDF pages, PPTX slides, XLSX sheets (nested documents included); 0 when not paged
    members: int = 0  # archive members and package parts read; PROMPT: the prompt texts
    images: int = 0  # embedded images and rendered pages inspected
    rendered_pages: int = 0  # PDF pages without a text layer, read as images
    text_chars: int = 0  # characters of text analysed
    skipped: int = 0  # binary members/parts that are neither text, an image we know nor a document
    redactable: bool = False  # every part can be rewritten faithfully (plain text, images in a ZIP)


@dataclass
class ImageReport:
    """The result of inspecting one image, or one document (then `document` is set and format is its type)."""

    sha256: str
    size_bytes: int
    format: str | None = None  # PNG, JPEG, WEBP, GIF, BMP, TIFF
    width: int = 0
    height: int = 0
    findings: list[Finding] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)  # decode, metadata, ocr, analyze, faces, barcodes
    error: InspectionErrorKind | None = None
    error_detail: str = ""
    cached: bool = False
    document: DocumentFacts | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class HttpRequest:
    """A request as extraction sees it besides its body: method, target and headers. Plain data, no proxy types."""

    method: str
    host: str  # the host the client asked for (Host / :authority / SNI), without port
    path: str  # path and query string, as sent
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names


@dataclass(frozen=True)
class RequestContext:
    """Who sends what where: everything a rule may condition on besides the findings."""

    host: str
    path: str
    method: str
    destination: str | None  # destination group name, None when out of scope
    client_ip: str = ""
    user: str | None = None  # authenticated proxy user, SSO header user, or the account signed in to the app
    groups: frozenset[str] = frozenset()
    image_count: int = 0
    total_image_bytes: int = 0
    headers: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)  # request headers (lower-case names)
    user_source: str | None = None  # where `user` came from: "proxy_auth", "header" or "session_token"


@dataclass
class Decision:
    """What the policy decided for one request, and why."""

    action: Action
    rule: str | None  # name of the matching rule; "on_error" / None (default action)
    reason: str  # human-readable why, never containing detected text
    # image index -> findings to paint over / blur in that image (redact only)
    redactions: dict[int, list[Finding]] = field(default_factory=dict)
    matched: list[Finding] = field(default_factory=list)  # findings that made the rule match
    redact_fallback: Action | None = None  # redact only: the action when the content cannot be redacted

    def to_json(self) -> dict:
        return {
            "action": self.action.value,
            "rule": self.rule,
            "reason": self.reason,
            "matched": [f.to_json() for f in self.matched],
        }


@dataclass(frozen=True)
class Limits:
    """Bounds on what the gateway will try to inspect. Anything over them gets the policy's on_error."""

    max_body_bytes: int = 100 * 2**20
    max_image_bytes: int = 25 * 2**20
    max_pixels: int = 50_000_000
    max_images_per_request: int = 20
    inspect_timeout_seconds: float = 60.0
    max_document_pages: int = 500
    max_archive_members: int = 10_000  # archive members and Office package parts, over the whole upload
    max_archive_depth: int = 10  # containers inside containers (zip in zip, tar in gzip, docx in zip)
    max_expanded_bytes: int = 100 * 2**20  # decompressed bytes over the whole upload (zip bombs)


@dataclass(frozen=True)
class CustomRecognizer:
    """A recognizer a security team defines in policy YAML (no code): regexes with context, or a deny-list."""

    name: str
    entity: str
    patterns: tuple[tuple[str, float], ...] = ()  # (regex, score)
    context: tuple[str, ...] = ()
    deny_list: tuple[str, ...] = ()
    deny_list_score: float = 0.9


@dataclass(frozen=True)
class EngineSettings:
    """How the inspection models run on this machine: read once at start-up (`from_env`), then passed down."""

    threads: int = 0  # cores for OCR; 0: every core this process may use
    parallel_stages: bool | None = None  # faces and codes beside OCR on a second thread; None: when there are 2+ cores
    cache_dir: str | None = None  # derived model files (the ONNX CRAFT); None: ~/.cache/dlp-gateway
    providers: tuple[str, ...] = ()  # ONNX Runtime execution providers in order of preference; (): the CPU
    int8: bool = True  # the int8 detector where it is accepted on this CPU

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EngineSettings:
        """From $DLP_OCR_THREADS, $DLP_PARALLEL_STAGES, $DLP_GATEWAY_CACHE, $DLP_ONNX_PROVIDERS, $DLP_OCR_INT8."""
        import os

        env = os.environ if env is None else env
        parallel = env.get("DLP_PARALLEL_STAGES")
        return cls(
            threads=int(env.get("DLP_OCR_THREADS") or 0),
            parallel_stages=None if parallel is None else parallel != "0",
            cache_dir=env.get("DLP_GATEWAY_CACHE") or None,
            providers=tuple(p.strip() for p in env.get("DLP_ONNX_PROVIDERS", "").split(",") if p.strip()),
            int8=env.get("DLP_OCR_INT8", "1") != "0",
        )


@dataclass(frozen=True)
class InspectOptions:
    """Everything from the policy that changes what inspection finds. Hashable: part of the report cache key."""

    limits: Limits = Limits()
    recognizers: tuple[CustomRecognizer, ...] = ()
    allow_list: tuple[str, ...] = ()  # text values never reported (e.g. a support address)
    ocr: bool = True
    faces: bool = True
    barcodes: bool = True
    metadata: bool = True
    prompt: bool = True  # the text sent with the upload (chat messages, prompt fields), and text-only requests
