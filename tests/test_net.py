"""The LAN address the server offers to phones."""

from __future__ import annotations

from voice_coach.serve.net import is_lan_address, lan_address


def test_lan_address_is_never_loopback() -> None:
    # Reads the routing table through a UDP socket; sends nothing.
    address = lan_address()
    assert address is None or is_lan_address(address)
    assert not is_lan_address("127.0.0.1") and not is_lan_address("0.0.0.0")
    assert is_lan_address("192.168.1.20") and not is_lan_address("not an address")
