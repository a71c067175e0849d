"""Which clients may use the proxy (as Squid's `localnet` ACL): loopback and private ranges by default, or only
the networks the operator lists in `dlp_allow_clients` (`dlp-gateway run --allow-clients CIDR...`).

The default is mitmproxy's own: its `block_global` option (on by default) kills connections from public addresses
in the `client_connected` hook of mitmproxy/addons/block.py, and the gateway leaves it on. With a list, the list
decides: every address outside it is refused here, loopback included; and when it names public networks,
`block_global` (which would kill them) is turned off while it does. Refused connections are closed before
a byte is read, logged, and counted in `dlp_gateway_clients_refused_total{reason}`.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Sequence

from mitmproxy import connection, ctx, exceptions
from mitmproxy.proxy import mode_specs

from gateway.metrics import GatewayMetrics

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# What mitmproxy's Block addon writes into client.error, and the metric's reason for it.
BLOCK_ADDON_REASONS = {"Connection killed by block_global.": "block_global",
                       "Connection killed by block_private.": "block_private"}
REFUSED = "Connection refused: client address not in dlp_allow_clients."


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    """CIDRs (or single addresses) from option values; one value may hold several, comma or space separated."""
    networks = []
    for value in values:
        for item in re.split(r"[\s,]+", value.strip()):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise exceptions.OptionsError(
                    f"dlp_allow_clients: {item!r} is not a network (want a CIDR such as 10.0.0.0/8 or an address)"
                ) from None
    return tuple(networks)


def client_address(peername: tuple | None) -> Address | None:
    """The client's IP (IPv4-mapped IPv6 as IPv4, a scope id dropped), None when it has none."""
    if not peername:
        return None
    try:
        address = ipaddress.ip_address(str(peername[0]).rsplit("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class ClientAcl:
    """Refuses client connections from outside `dlp_allow_clients`; counts mitmproxy's own refusals too."""

    def __init__(self, metrics: GatewayMetrics | None = None) -> None:
        self.metrics = metrics
        self.networks: tuple[Network, ...] = ()
        self._turned_off_block_global = False

    def load(self, loader) -> None:
        loader.add_option(
            "dlp_allow_clients", Sequence[str], [],
            "Client networks allowed to use the proxy (CIDRs, repeatable). Empty: loopback and private ranges "
            "(mitmproxy's block_global). Set: only these networks, loopback included only if listed.",
        )

    def configure(self, updated: set[str]) -> None:
        if "dlp_allow_clients" not in updated:
            return
        self.networks = parse_networks(ctx.options.dlp_allow_clients)
        public = [n for n in self.networks if not (n.is_private or n.is_loopback or n.is_link_local)]
        if public and ctx.options.block_global:
            log.info("block_global turned off: dlp_allow_clients lists public networks (%s)",
                     ", ".join(map(str, public)))
            self._turned_off_block_global = True
            ctx.options.update(block_global=False)
        elif not public and self._turned_off_block_global:
            self._turned_off_block_global = False
            ctx.options.update(block_global=True)
        if self.networks:
            log.info("clients allowed from %s only", ", ".join(str(n) for n in self.networks))

    def allowed(self, address: Address | None) -> bool:
        """True when the list is empty (mitmproxy's defaults decide) or `address` is in a listed network."""
        if not self.networks:
            return True
        return address is not None and any(address in net for net in self.networks)

    def client_connected(self, client: connection.Client) -> None:
        if client.error:  # already refused, by mitmproxy's block_global / block_private
            reason = BLOCK_ADDON_REASONS.get(client.error)
            if reason:
                self._count(reason)
            return
        if isinstance(client.proxy_mode, mode_specs.LocalMode):  # this machine's own processes
            return
        address = client_address(client.peername)
        if not self.allowed(address):
            log.warning("client connection from %s refused: not in dlp_allow_clients",
                        client.peername[0] if client.peername else "an unknown address")
            client.error = REFUSED
            self._count("not_allowed")

    def _count(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.observe_client_refused(reason)
