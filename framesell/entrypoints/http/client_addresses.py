"""Who is on the other end: the client address from the socket or from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pyramid.request import Request

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """The networks of ``framesell.trusted_proxies`` (addresses or CIDRs), parsed once."""
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def parse_address(text: str) -> IPAddress | None:
    """An IP address from a socket or X-Forwarded-For entry (``[v6]`` brackets allowed)."""
    candidate = text.strip()
    if candidate.startswith("[") and "]" in candidate:
        candidate = candidate[1 : candidate.index("]")]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address in network for network in networks)


def client_address(request: Request) -> str:
    """The shopper's IP address as this server can vouch for it.

    The socket's peer (``REMOTE_ADDR``) unless that peer is one of the trusted proxies; then
    ``X-Forwarded-For`` is read from the right, skipping trusted proxies, and the first
    address nobody we trust could have added is the client. Everything left of it may be
    forged by the client and is ignored.
    """
    peer_text = str(request.environ.get("REMOTE_ADDR") or "")
    peer = parse_address(peer_text)
    networks = trusted_networks(request.shop.settings.trusted_proxies)
    if peer is None:
        return peer_text or "unknown"
    if not networks or not _is_trusted(peer, networks):
        return str(peer)
    client = peer
    hops = [hop for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break  # garbage from a trusted hop's client: the hop itself is all we know
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)


def came_over_https(environ: dict[str, Any], proxies: tuple[str, ...]) -> bool:
    """Whether the client's request reached us over https.

    The server's own scheme, or ``X-Forwarded-Proto: https`` from a trusted proxy (its last
    value: the word of the proxy nearest to us). A client talking to us directly cannot
    claim https by writing the header.
    """
    if environ.get("wsgi.url_scheme") == "https":
        return True
    forwarded = environ.get("HTTP_X_FORWARDED_PROTO")
    if not forwarded or not proxies:
        return False
    peer = parse_address(str(environ.get("REMOTE_ADDR") or ""))
    if peer is None or not _is_trusted(peer, trusted_networks(proxies)):
        return False
    return bool(str(forwarded).rsplit(",", 1)[-1].strip().lower() == "https")
