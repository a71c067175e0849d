"""Claude: multipart POST claude.ai/api/organizations/{org}/conversations/{conv}/wiggle/upload-file (generic
multipart; a document's text that rides inside the chat JSON is found by the generic JSON walk)."""

from gateway.extract.apps.shape import AppShape, path

APP = AppShape(
    name="claude",
    hosts=("claude.ai",),
    path=path(r"/api/organizations/[^/]+/conversations/[^/]+/wiggle/upload-file"),
    methods=frozenset({"POST"}),
    carrier="multipart",
)
