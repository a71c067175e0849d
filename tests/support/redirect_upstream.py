"""Test-only mitmproxy script: send every intercepted request to the local recording upstream.

The Host header (and so the gateway's view of the destination) is kept; only the TCP destination changes.
"""

from mitmproxy import ctx, http


class RedirectUpstream:
    def load(self, loader) -> None:
        loader.add_option("test_upstream", str, "", "host:port of the recording upstream")

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if not ctx.options.test_upstream:
            return
        host, port = ctx.options.test_upstream.rsplit(":", 1)
        original = flow.request.pretty_host
        flow.request.host = host
        flow.request.port = int(port)
        flow.request.host_header = original


addons = [RedirectUpstream()]
