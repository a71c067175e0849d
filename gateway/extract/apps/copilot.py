"""Microsoft Copilot (consumer): the image is POSTed raw to copilot.microsoft.com/c/api/attachments (generic raw
shape); its URL then goes over the chat WebSocket, which is not a request (see gateway.sessions / WebSockets)."""

from gateway.extract.apps.shape import AppShape, path

APP = AppShape(
    name="copilot",
    hosts=("copilot.microsoft.com",),
    path=path(r"/c/api/attachments"),
    methods=frozenset({"POST"}),
    carrier="raw",
)
