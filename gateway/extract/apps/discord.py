"""Midjourney through Discord: /api/v9/channels/{id}/attachments hands out an upload URL on Discord's GCS bucket,
and the client PUTs the file raw to it (generic raw shape), by bucket host or path-style on storage.googleapis.com."""

from gateway.extract.apps.shape import AppShape, path

BUCKET = "discord-attachments-uploads-prd"

APP = AppShape(
    name="discord",
    hosts=(f"{BUCKET}.storage.googleapis.com",),
    path=path(r"/.+"),
    methods=frozenset({"PUT"}),
    carrier="raw",
)

PATH_STYLE = AppShape(
    name="discord",
    hosts=("storage.googleapis.com",),
    path=path(rf"/{BUCKET}/.+"),
    methods=frozenset({"PUT"}),
    carrier="raw",
)
