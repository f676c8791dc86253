"""Extensions shared by pages and API, created unbound and initialised in `create_app`."""

from __future__ import annotations

import ipaddress

from flask import request
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect


def client_source() -> str:
    """Where a request comes from, for limits: the IPv4 address, or the IPv6 /64 (one host
    or household holds a whole /64, so hopping inside it must not reset a count). Behind
    trusted proxies this is the real client (see TRUSTED_PROXY_COUNT)."""
    remote = request.remote_addr or "unknown"
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


# Redis storage when REDIS_URL is set (see app.py), memory otherwise.
limiter = Limiter(key_func=client_source, default_limits=[])
csrf = CSRFProtect()
