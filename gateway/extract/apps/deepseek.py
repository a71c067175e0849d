"""DeepSeek: multipart POST chat.deepseek.com/api/v0/file/upload_file, the file in part "file" (generic multipart;
the proof-of-work and file-size headers are the client's business)."""

from gateway.extract.apps.shape import AppShape, path


def file_id(answer: object) -> str | None:
    """upload_file answers {"code": 0, "data": {"biz_code": 0, "biz_data": {"id": "file-…", "status": …}}}."""
    data = answer.get("data") if isinstance(answer, dict) else None
    biz = data.get("biz_data") if isinstance(data, dict) else None
    return biz.get("id") if isinstance(biz, dict) else None


APP = AppShape(
    name="deepseek",
    hosts=("chat.deepseek.com",),
    path=path(r"/api/v0/file/upload_file"),
    methods=frozenset({"POST"}),
    carrier="multipart",
    file_id=file_id,
)
