"""Grok (grok.com): POST /rest/app-chat/upload-file, JSON {fileName, fileMimeType, content: <bare base64>}.

The generic walk finds a base64 image under any key, but only ties a media type to `data`-like keys: here the
file is under "content" and its type under "fileMimeType". With them, a file claimed as an image that is not one we
know (HEIC, say) is reported for on_error instead of passing as plain base64, and a replacement is written back
into "content" in the same base64 flavour.
"""

from gateway.extract.apps.shape import AppShape, path
from gateway.extract.json_walk import GENERIC_JSON


def file_id(answer: object) -> str | None:
    """upload-file answers {"fileMetadataId": "…", "fileMimeType", "fileName", "fileUri", …}."""
    return answer.get("fileMetadataId") if isinstance(answer, dict) else None


APP = AppShape(
    name="grok",
    hosts=("grok.com",),
    path=path(r"/rest/app-chat/upload-file"),
    methods=frozenset({"POST"}),
    carrier="json",
    json=GENERIC_JSON.extended(data_keys=("content",), mime_keys=("fileMimeType",)),
    file_id=file_id,
)
