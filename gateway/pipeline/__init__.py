"""The request path without a proxy: scope -> decode -> extract -> inspect -> decide -> enforce -> record.

What is inspected: the images and documents of the body, and its prompt text (chat messages, prompt fields), which
the policy sees as one more upload of type PROMPT after the documents; a request with only prompt text is decided
too, from text analysis alone (no OCR).

It takes plain request data and returns what to do with the request (forward it unchanged, forward a rebuilt body,
or answer it) plus the record of the decision for metrics and the audit log. The mitmproxy addon only translates
flows to and from these types; tests call the pipeline directly.

Modules: `values` (the request and result types), `core` (UploadPipeline and its Recorder), `sessions` (the steps
of upload sessions) and `messages` (WebSocket messages); UploadPipeline mixes in the last two.
"""

from gateway.pipeline.core import (
    Recorder,
    UploadPipeline,
    _warn_identity,
    on_error_decision,
)
from gateway.pipeline.values import (
    FORWARD,
    DropMessage,
    Forward,
    ForwardRebuilt,
    Inspection,
    Outcome,
    PolicySource,
    Record,
    ReplayHeld,
    RequestHead,
    Respond,
    Result,
    Screened,
    ServiceAnswer,
    UploadRequest,
    new_upload_id,
)

__all__ = [
    "FORWARD", "DropMessage", "Forward", "ForwardRebuilt", "Inspection", "Outcome", "PolicySource", "Record",
    "Recorder", "ReplayHeld", "RequestHead", "Respond", "Result", "Screened", "ServiceAnswer", "UploadPipeline",
    "UploadRequest", "_warn_identity", "new_upload_id", "on_error_decision",
]
