"""DeepSeek: multipart POST chat.deepseek.com/api/v0/file/upload_file, the file in part "file" (generic multipart;
the proof-of-work and file-size headers are the client's business)."""

from gateway.extract.apps.shape import AppShape, path

APP = AppShape(
    name="deepseek",
    hosts=("chat.deepseek.com",),
    path=path(r"/api/v0/file/upload_file"),
    methods=frozenset({"POST"}),
    carrier="multipart",
)
