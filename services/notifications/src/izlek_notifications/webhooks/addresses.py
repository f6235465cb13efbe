"""Which webhook URLs Izlek may call: only public addresses, unless an allow-list says otherwise (SSRF guard).

A webhook URL lets a subscriber make Izlek send requests; without this guard it could reach the machine itself,
the private network or the cloud's metadata service (169.254.169.254). A host is refused when any address it
resolves to is loopback, private, link-local, unique-local, multicast, reserved, unspecified, shared (carrier-grade
NAT) or otherwise not globally routable, IPv4 and IPv6 alike; IPv4 addresses inside IPv6 ones (IPv4-mapped,
NAT64, 6to4, Teredo) are judged as the IPv4 address they carry. ``IZLEK_NOTIFICATIONS_WEBHOOK_ALLOW`` lists host
names and networks that may be reached nevertheless.

The check runs when a subscription is made or changed, and again before every attempt, and the request then goes
to the very address that was checked (so a DNS answer that changes in between, DNS rebinding, cannot slip through).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from izlek_notifications.domain.errors import UnsafeWebhookURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class WebhookTarget:
    """A URL that passed the guard, with the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress


@dataclass(frozen=True)
class AllowList:
    """Host names and networks that webhooks may reach although they are not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, entries: Iterable[str]) -> AllowList:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            text = entry.strip().lower().rstrip(".")
            if not text:
                continue
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                hosts.add(text)
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address.version == network.version and address in network for network in self.networks)


def non_public_category(address: IPAddress) -> str | None:
    """Why an address is not one webhooks may reach (None: it is public)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            category = non_public_category(embedded)
            return f"{category} (IPv4 {embedded} inside IPv6)" if category else None
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unique-local", isinstance(address, ipaddress.IPv6Address) and address in ipaddress.ip_network("fc00::/7")),
        ("shared (carrier-grade NAT)", address in _SHARED_ADDRESS_SPACE),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    for category, applies in checks:
        if applies:
            return category
    if not address.is_global:
        return "not globally routable"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def parse_webhook_url(url: str, *, https_only: bool = False, allow: AllowList = AllowList()) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL Izlek may call, before any DNS lookup; raises `UnsafeWebhookURL`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookURL(f"the webhook URL cannot be read: {exc}", url=url) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeWebhookURL(f"a webhook URL is https:// or http://, not {scheme or 'without a scheme'}", url=url)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeWebhookURL("the webhook URL names no host", url=url)
    if parts.username is not None or parts.password is not None:
        raise UnsafeWebhookURL("a webhook URL may not carry a user name or password: the URL is kept in the "
                               "subscription's history; requests are authenticated by their signature", url=url)
    if parts.fragment:
        raise UnsafeWebhookURL("a webhook URL has no #fragment", url=url)
    if https_only and scheme != "https" and not allow.allows_host(host):
        raise UnsafeWebhookURL("webhook URLs must be https:// here (IZLEK_NOTIFICATIONS_WEBHOOK_HTTPS_ONLY)",
                               url=url, host=host)
    return scheme, host, port or (443 if scheme == "https" else 80)


def checked_addresses(url: str, host: str, addresses: Sequence[IPAddress], allow: AllowList) -> list[IPAddress]:
    """The addresses of ``host``, provided none is a non-public one outside the allow-list."""
    if not addresses:
        raise UnsafeWebhookURL(f"{host} has no address", url=url, host=host)
    if allow.allows_host(host):
        return list(addresses)
    for address in addresses:
        category = non_public_category(address)
        if category is not None and not allow.allows_address(address):
            shown = host if host == str(address) else f"{host} resolves to {address}, which"
            raise UnsafeWebhookURL(
                f"{shown} is a {category} address; webhooks may only reach public addresses, unless "
                "IZLEK_NOTIFICATIONS_WEBHOOK_ALLOW lists the host or its network",
                url=url, host=host, address=str(address), category=category)
    return list(addresses)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of ``host`` (an IP literal is its own address); blocking."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


class WebhookGuard:
    """Decides whether a webhook URL may be called, and where to (`check` blocks on DNS: call it off the loop)."""

    def __init__(self, allow: Iterable[str] = (), *, https_only: bool = False) -> None:
        self.allow = AllowList.of(allow)
        self.https_only = https_only

    def check(self, url: str) -> WebhookTarget:
        """The target of ``url`` or `UnsafeWebhookURL` saying why it is refused."""
        scheme, host, port = parse_webhook_url(url, https_only=self.https_only, allow=self.allow)
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise UnsafeWebhookURL(f"the webhook host {host} cannot be resolved: {exc}", url=url, host=host) from None
        checked = checked_addresses(url, host, addresses, self.allow)
        return WebhookTarget(url=url, scheme=scheme, host=host, port=port, address=checked[0])
