"""Building a transport must not rebuild the TLS context: loading the CA bundle costs ~50 ms of CPU."""

from __future__ import annotations

import ssl

import pytest

from adflux.platforms.transport import Transport, shared_ssl_context


def test_transports_share_one_tls_context_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[object] = []
    original = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loads.append(args or kwargs)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    shared_ssl_context.cache_clear()
    transports = [
        Transport(platform="meta", base_url="https://graph.example", classify=lambda response, now: None)
        for _ in range(5)
    ]
    try:
        assert len(loads) == 1
        assert shared_ssl_context().verify_mode == ssl.CERT_REQUIRED
    finally:
        for transport in transports:
            transport.close()
        shared_ssl_context.cache_clear()
