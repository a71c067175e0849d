"""Perplexity: /rest/uploads/create_upload_url returns an S3 presigned POST; the browser then POSTs multipart to
ppl-ai-file-upload.s3.amazonaws.com with the policy fields first and the file part last (the generic multipart
shape: every part is walked, the others stay byte-identical)."""

from gateway.extract.apps.shape import AppShape, path

APP = AppShape(
    name="perplexity",
    hosts=("ppl-ai-file-upload.s3.amazonaws.com",),
    path=path(r"/"),
    methods=frozenset({"POST"}),
    carrier="multipart",
)
