"""The id a service gives an uploaded file (issue 18 item 5), so the audit log can tie the decision on an upload to
the file the app refers to afterwards. Read from the service's JSON answer to the upload (each app module's
`file_id`), or for ChatGPT's blob PUT from the request's own URL. Pure data, like the rest of extract.

Only an id of safe characters is returned: the answer also holds file names and URLs, which never reach the log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from gateway.extract.apps import app_for, chatgpt
from gateway.models import HttpRequest

MAX_ANSWER_BYTES = 64 * 1024  # larger answers are not read (file-upload answers are a few hundred bytes)
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")


@dataclass(frozen=True)
class FileId:
    app: str
    value: str


def from_request(request: HttpRequest) -> FileId | None:
    """The file id carried by the upload request itself (ChatGPT's blob URL), if any."""
    if chatgpt.is_blob_put(request):
        return _checked("chatgpt", chatgpt.blob_file_id(request))
    return None


def answer_reader(request: HttpRequest) -> tuple[str, Callable[[object], str | None]] | None:
    """(app, reader) when the service's answer to this request names the file in a known shape."""
    if chatgpt.is_files_request(request):
        return "chatgpt", chatgpt.file_id
    app = app_for(request)
    return (app.name, app.file_id) if app is not None and app.file_id is not None else None


def wants_answer(request: HttpRequest) -> bool:
    return from_request(request) is None and answer_reader(request) is not None


def file_id(request: HttpRequest, status: int, content_type: str, answer: bytes | None) -> FileId | None:
    """The id of the file this request uploaded, from the request or the service's (decoded) answer, else None."""
    if not 200 <= status < 300:
        return None
    found = from_request(request)
    if found is not None:
        return found
    reader = answer_reader(request)
    if reader is None or answer is None or len(answer) > MAX_ANSWER_BYTES or not _is_json(content_type):
        return None
    try:
        document = json.loads(answer)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return _checked(reader[0], reader[1](document))


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _checked(app: str, value: object) -> FileId | None:
    return FileId(app, value) if isinstance(value, str) and _SAFE_ID.match(value) else None
