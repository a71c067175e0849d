"""Host globs and path prefixes of destinations: validation, matching, and mitmproxy allow_hosts regexes."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

# Storage/CDN hosts shared by many tenants. Intercepting or matching them whole would inspect (and maybe block)
# uploads to every customer's bucket, so a destination on them must list bucket paths.
SHARED_HOSTS: frozenset[str] = frozenset({
    "storage.googleapis.com", "storage.cloud.google.com", "s3.amazonaws.com", "googleapis.com", "amazonaws.com",
    "cloudfront.net", "blob.core.windows.net", "windows.net", "googleusercontent.com", "r2.cloudflarestorage.com",
    "cloudflarestorage.com", "digitaloceanspaces.com", "backblazeb2.com", "azureedge.net", "akamaized.net",
    "fastly.net",
})
_S3_REGIONAL = re.compile(r"^s3[.-][a-z0-9-]+\.amazonaws\.com$")


def normalize_host(host: str) -> str:
    """Lower-case, no port, no trailing dot, no IPv6 brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def check_host_glob(glob: str) -> str | None:
    """Return an error message if `glob` is not a valid host pattern ("example.com" or "*.example.com")."""
    if not glob or glob != glob.strip():
        return "empty host or surrounding spaces"
    if "://" in glob or "/" in glob:
        return "a host must not contain a scheme or a path"
    if ":" in glob:
        return "a host must not contain a port"
    labels = glob.lower().split(".")
    if labels[0] == "*":
        labels = labels[1:]
        if len(labels) < 2:
            return "a wildcard must be followed by at least two labels, like *.example.com"
    if any("*" in label for label in labels):
        return "'*' is only allowed as the whole first label, like *.example.com"
    if not all(_LABEL.match(label) for label in labels):
        return "not a valid host name"
    return None


def is_shared_host(glob: str) -> bool:
    """True for globs that cover a multi-tenant storage/CDN host as a whole."""
    g = glob.lower()
    if g.startswith("*."):
        return g[2:] in SHARED_HOSTS or bool(_S3_REGIONAL.match(g[2:]))
    return g in SHARED_HOSTS or bool(_S3_REGIONAL.match(g))


def host_matches(glob: str, host: str) -> bool:
    """`*.example.com` matches any subdomain depth but not example.com itself."""
    glob = glob.lower()
    if glob.startswith("*."):
        return host.endswith(glob[1:]) and len(host) > len(glob) - 1
    return host == glob


def host_regex(glob: str) -> str:
    """An anchored regex for mitmproxy's allow_hosts, which re.search()es "host:port" strings."""
    glob = glob.lower()
    if glob.startswith("*."):
        return r"^(?:[^.:/]+\.)+" + re.escape(glob[2:]) + r"(?::\d+)?$"
    return "^" + re.escape(glob) + r"(?::\d+)?$"


def normalize_path(path: str) -> str:
    """Path without query, percent-decoded, with dot segments and repeated slashes resolved."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    path = unquote(path)
    if not path.startswith("/"):
        path = "/" + path
    trailing = path.endswith("/")
    norm = posixpath.normpath(re.sub(r"/{2,}", "/", path))
    if norm.startswith("//"):
        norm = norm[1:]
    if trailing and norm != "/":
        norm += "/"
    return norm
