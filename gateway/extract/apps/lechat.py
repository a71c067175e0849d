"""Le Chat (chat.mistral.ai): file.uploadFile hands out a presigned Azure blob URL, then the file is PUT raw to it
with `x-ms-blob-type: BlockBlob` (the generic raw shape). The storage account host is the one public captures show;
a capture from your network may show another: add it here and to the policy."""

from gateway.extract.apps.shape import AppShape, path

BLOB_HOST = "mistralaichatupprodswe.blob.core.windows.net"

APP = AppShape(
    name="lechat",
    hosts=(BLOB_HOST,),
    path=path(r"/[^/]+/.+"),  # /<container>/<blob>
    methods=frozenset({"PUT"}),
    carrier="raw",
)
