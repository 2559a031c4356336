"""Where a webhook may go (Security and privacy: webhook targets).

A webhook carries a signed report with identity numbers: it must not reach the service's own
machine, the deployment's private networks or a cloud metadata address, whatever an admin
typed. The host is resolved and every address it resolves to is checked, at registration and
again right before each send; the send then connects to the address that was checked (a name
that resolves elsewhere a second later, DNS rebinding, changes nothing).

Numeric spellings (``2130706433``, ``0x7f000001``, ``127.1``) are resolved by the system
resolver as the HTTP client would resolve them, so they are checked as what they mean.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_BROADCAST = ipaddress.IPv4Address("255.255.255.255")


class TargetRefused(Exception):
    """A webhook URL that may not be used. ``reason`` is the short class kept for the filer."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Target:
    """A checked URL: its host name and the addresses that were checked for it."""

    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def parse_networks(value: str) -> list[IPNetwork]:
    """``TNLD_WEBHOOK_ALLOWED_NETWORKS``: comma-separated CIDRs (``127.0.0.0/8,fd00::/8``)."""
    networks: list[IPNetwork] = []
    for part in value.split(","):
        part = part.strip()
        if part:
            networks.append(ipaddress.ip_network(part, strict=False))
    return networks


def refusal(address: IPAddress, allowed: Sequence[IPNetwork]) -> str | None:
    """Why this address may not receive webhooks, or None when it may."""
    return _refusal(address, tuple(allowed))


@lru_cache(maxsize=1024)
def _refusal(address: IPAddress, allowed: tuple[IPNetwork, ...]) -> str | None:
    # Cached: the worker checks the same few addresses before every send, and the ipaddress
    # module computes each property (is_private…) anew on every call.
    candidates: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address inside an IPv6 one reaches the IPv4 host: check what it carries.
        for embedded in (address.ipv4_mapped, address.sixtofour):
            if embedded is not None:
                candidates.append(embedded)
        if address.teredo is not None:
            candidates.append(address.teredo[1])
    if any(c in network for c in candidates for network in allowed if c.version == network.version):
        return None
    for candidate in candidates:
        if candidate.is_loopback:
            return "a loopback address"
        if candidate.is_unspecified:
            return "an unspecified address"
        if candidate.is_link_local:
            return "a link-local address"
        if candidate.is_multicast:
            return "a multicast address"
        if candidate == _BROADCAST:
            return "a broadcast address"
        if candidate.is_private:
            return "a private address"
        if candidate.is_reserved or not candidate.is_global:
            return "not a public address"
    return None


def split_url(url: str, *, https_only: bool) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("invalid_url", "must be an absolute http(s) URL")
    if https_only and scheme != "https":
        raise TargetRefused("https_required", "must be an https:// URL in production")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("invalid_url", "has an invalid port") from exc
    return scheme, parts.hostname, port


def _addresses(infos: Sequence[tuple[object, ...]]) -> tuple[IPAddress, ...]:
    found: dict[IPAddress, None] = {}
    for info in infos:
        sockaddr = info[4]
        assert isinstance(sockaddr, tuple)
        found[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
    return tuple(found)


def _checked(
    scheme: str,
    host: str,
    port: int,
    addresses: tuple[IPAddress, ...],
    allowed: Sequence[IPNetwork],
) -> Target:
    if not addresses:
        raise TargetRefused("name_not_resolved", f"the host {host} does not resolve")
    for address in addresses:
        why = refusal(address, allowed)
        if why is not None:
            raise TargetRefused(
                "address_not_allowed", f"the host {host} is, or resolves to, {why} ({address})"
            )
    return Target(scheme=scheme, host=host, port=port, addresses=addresses)


def _literal(host: str) -> IPAddress | None:
    """The address a host written as a canonical IP address is (``127.0.0.1``, ``::1``; not
    ``127.1`` or ``2130706433``, which only the resolver interprets), else None."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return address if isinstance(address, ipaddress.IPv6Address) or str(address) == host else None


def check(url: str, *, https_only: bool, allowed: Sequence[IPNetwork]) -> Target:
    """Resolve and check a webhook URL (blocking: registration runs in a worker thread)."""
    scheme, host, port = split_url(url, https_only=https_only)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused("name_not_resolved", f"the host {host} does not resolve") from exc
    return _checked(scheme, host, port, _addresses(infos), allowed)


async def check_async(url: str, *, https_only: bool, allowed: Sequence[IPNetwork]) -> Target:
    """:func:`check` without blocking the event loop (the worker, right before a send)."""
    scheme, host, port = split_url(url, https_only=https_only)
    literal = _literal(host)
    if literal is not None:
        # An address written out in full needs no resolver (the loop's getaddrinfo would cost a
        # hop to a thread per send); any other spelling goes to the resolver, as above.
        return _checked(scheme, host, port, (literal,), allowed)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused("name_not_resolved", f"the host {host} does not resolve") from exc
    return _checked(scheme, host, port, _addresses(infos), allowed)
