"""Checks of the URLs sellers give us: their site origins and their webhook URLs."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class UrlRefused(ValueError):
    """The URL cannot be used; the message says why."""


# Said with every refusal of a private address: a developer's webhook receiver is usually
# on localhost, and the setting that allows it is otherwise hard to find.
PRIVATE_URLS_HINT = ("in development only, set BUYFLOW_WEBHOOK_ALLOW_PRIVATE_URLS=true to "
                     "allow private and loopback addresses")


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` of an http(s) origin, lower-cased; UrlRefused otherwise."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused(f"{value!r} is not an http(s) origin")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise UrlRefused(f"{value!r} must be an origin only: scheme://host[:port]")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """``url`` if it may receive webhooks; UrlRefused otherwise.

    Unless ``allow_private`` (development and tests), every address the host resolves to
    must be public: a seller must not make our server call into a private network. The
    check runs again before each delivery, as DNS answers can change.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise UrlRefused("webhook URLs must not contain credentials")
    if allow_private:
        return url.strip()
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise UrlRefused(f"{parts.hostname} does not resolve") from exc
    if not infos or not all(_is_public(info[4][0]) for info in infos):
        raise UrlRefused(f"{parts.hostname} resolves to a private, loopback or reserved "
                         f"address; {PRIVATE_URLS_HINT}")
    return url.strip()
