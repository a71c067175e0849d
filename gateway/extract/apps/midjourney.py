"""Midjourney on the web: multipart POST www.midjourney.com/api/storage-upload-file (generic multipart)."""

from gateway.extract.apps.shape import AppShape, path

APP = AppShape(
    name="midjourney",
    hosts=("www.midjourney.com", "midjourney.com"),
    path=path(r"/api/storage-upload-file"),
    methods=frozenset({"POST"}),
    carrier="multipart",
)
