"""ChatGPT: POST chatgpt.com/backend-api/files (JSON, no file bytes) answers {"file_id", "upload_url"}; the file is
then PUT raw to that Azure SAS URL on *.oaiusercontent.com (the generic raw shape, no module of its own), whose
path carries the same file id (`/file-XXXX?se=…&sig=…`). The PUT is the request that is inspected, so its file id
is read from its own URL: the PUT's answer (201, empty) has none."""

from __future__ import annotations

import re

from gateway.extract.apps.shape import bare_host, path
from gateway.models import HttpRequest

FILES_HOSTS = ("chatgpt.com", "chat.openai.com")
FILES_PATH = path(r"/backend-api/files")
BLOB_SUFFIX = ".oaiusercontent.com"
# ChatGPT's ids: "file-" and 16+ base62 characters (22 in public captures), or "file_" and 32 hex digits.
_BLOB_FILE_ID = re.compile(r"/(file-[A-Za-z0-9]{16,64}|file_[0-9a-f]{32})(?=[/?]|\Z)")


def is_files_request(request: HttpRequest) -> bool:
    return (request.method.upper() == "POST" and bare_host(request.host) in FILES_HOSTS
            and FILES_PATH.match(request.path.split("?", 1)[0]) is not None)


def is_blob_put(request: HttpRequest) -> bool:
    return request.method.upper() == "PUT" and bare_host(request.host).endswith(BLOB_SUFFIX)


def file_id(answer: object) -> str | None:
    """The id in the answer to POST /backend-api/files."""
    return answer.get("file_id") if isinstance(answer, dict) else None


def blob_file_id(request: HttpRequest) -> str | None:
    """The id in the blob PUT's URL path (never its query: that holds the SAS signature)."""
    found = _BLOB_FILE_ID.search(request.path.split("?", 1)[0])
    return found.group(1) if found else None
