"""Claude: multipart POST claude.ai/api/organizations/{org}/conversations/{conv}/wiggle/upload-file (generic
multipart; a document's text that rides inside the chat JSON is found by the generic JSON walk)."""

from gateway.extract.apps.shape import AppShape, path


def file_id(answer: object) -> str | None:
    """upload-file answers {"success": true, "file_uuid": "…", "file_kind": "image", …}."""
    return answer.get("file_uuid") if isinstance(answer, dict) else None


APP = AppShape(
    name="claude",
    hosts=("claude.ai",),
    path=path(r"/api/organizations/[^/]+/conversations/[^/]+/wiggle/upload-file"),
    methods=frozenset({"POST"}),
    carrier="multipart",
    file_id=file_id,
)
