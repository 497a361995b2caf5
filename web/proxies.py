"""Who the client is behind a balancer: the right-most untrusted address of the forwarded header.

Behind nginx or haproxy the socket peer of every request is the balancer, so a rate limit keyed
on it puts every client in one bucket. `Settings.trusted_proxies` names the balancers (addresses
or CIDRs, comma-separated; empty = trust none). When the peer is one of them, the client is found
by walking `Settings.forwarded_header` (X-Forwarded-For) from the right, past trusted addresses:
the first address that is not a trusted proxy is the client. Each proxy appends the address it
saw, so the entries right of that one were written by proxies we trust and everything left of
it by the client, who may have written anything. From a peer that is not trusted the header is
never read, so a client reaching a replica directly cannot choose its own bucket. This is the
rule of nginx's realip module with `real_ip_recursive on`.

Why not a library mechanism: werkzeug's `ProxyFix` trusts the last `x_for` hops by count from
*any* peer (a client that can reach a replica without the balancer picks its address), and
waitress's `trusted_proxy` trusts one exact address (no list, no CIDR for a pool of balancers),
also by count. Both rules are the same as this one for a single trusted hop; this one also holds
when the balancers are several, or a subnet, and when an address is trusted or not by what it
is rather than by how far along the chain it stands.

A WSGI middleware, so REMOTE_ADDR is the client for everything the app does (the rate limit
reads `request.remote_addr`) and the balancer stays in `environ["kb.proxy_peer"]`. It also takes
over waitress's clearing of untrusted proxy headers (web/server.py turns that off, since it would
drop X-Forwarded-For before this reads it): every X-Forwarded-*/Forwarded header but the
configured one, and that one too unless a trusted peer sent it, is removed before the app runs, so
nothing downstream can read a forged one.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
PROXY_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port",
                 "X-Forwarded-By", "Forwarded")
HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
PEER_KEY = "kb.proxy_peer"


def parse_networks(text: str) -> tuple[Network, ...]:
    """'10.0.0.5, 10.1.0.0/16, ::1' -> networks; a ValueError naming the entry that is neither."""
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"KB_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR") from None
    return tuple(networks)


def environ_key(header: str) -> str:
    """'X-Forwarded-For' -> 'HTTP_X_FORWARDED_FOR'; a ValueError for a name that is not a header."""
    if not HEADER_NAME.match(header):
        raise ValueError(f"KB_FORWARDED_HEADER: {header!r} is not an HTTP header name")
    return "HTTP_" + header.upper().replace("-", "_")


def _address(text: str) -> Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[Network, ...]

    def trusts(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str, forwarded: str | None) -> str:
        """The client's address: the peer itself unless it is trusted, else the right-most entry of
        `forwarded` that is not trusted. An entry that is no address ends the walk at the trusted
        hop that passed it on (garbage never makes a new client); all trusted: the left-most."""
        hop = _address(peer)
        if not forwarded or not self.trusts(hop):
            return peer
        for entry in reversed(forwarded.split(",")):
            address = _address(entry)
            if address is None:
                break
            hop = address
            if not self.trusts(address):
                break
        return str(hop)


class ProxyMiddleware:
    """Sets REMOTE_ADDR to the client by `TrustedProxies`, and removes every proxy header the
    app must not believe."""

    def __init__(self, app: Callable, proxies: TrustedProxies, header: str = "X-Forwarded-For"):
        self.app = app
        self.proxies = proxies
        self.key = environ_key(header)
        self.untrusted = {environ_key(name) for name in PROXY_HEADERS} | {self.key}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        peer = environ.get("REMOTE_ADDR", "")
        forwarded = environ.get(self.key)
        if forwarded and self.proxies.trusts(_address(peer)):
            environ[PEER_KEY] = peer
            environ["REMOTE_ADDR"] = self.proxies.client(peer, forwarded)
            removed = self.untrusted - {self.key}
        else:
            removed = self.untrusted
        for key in removed:
            environ.pop(key, None)
        return self.app(environ, start_response)
