"""This computer's addresses: which one a phone on the LAN can reach, and URLs."""

from __future__ import annotations

import ipaddress
import re
import socket

_PROBES = ("10.254.254.254", "192.168.254.254", "172.16.254.254")
"""Private addresses to route towards. A UDP `connect` only picks the route and so the
local address; it sends nothing."""


def is_lan_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_multicast)


def lan_address() -> str | None:
    """This machine's address on the local network, or None if it has none."""
    for probe in _PROBES:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.connect((probe, 9))
                address = str(sock.getsockname()[0])
            except OSError:
                continue
        if is_lan_address(address):
            return address
    return None


def url_for(host: str, port: int) -> str:
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"http://{host}:{port}/"


HOST_HEADER = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
"""What a Host header may hold: a name or address, and a port."""
