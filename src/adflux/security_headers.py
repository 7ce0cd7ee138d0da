"""Security headers on every response: what the browser may load, frame and guess.

* **Content-Security-Policy**: scripts, styles, images and connections only from this origin; no
  inline script or style (the dashboard's scripts and Swagger UI's start-up are files), no
  plugins, no <base> tricks, forms post only here, and no framing (`frame-ancestors 'none'`).
* **X-Frame-Options: DENY** for browsers that predate frame-ancestors (no clickjacking of the
  publish or pause forms).
* **X-Content-Type-Options: nosniff**: an upload is never run as a script or stylesheet.
* **Referrer-Policy: same-origin**: campaign and user ids in URLs stay on this site.
* **Strict-Transport-Security** in production (HTTPS only, a year, sub-domains included).

A view may set its own value of any of these first; the hook only fills in what is missing.
"""

from __future__ import annotations

from flask import Flask, Response

from adflux.settings import current_settings

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(production: bool) -> dict[str, str]:
    """The headers every response carries."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if production:
        headers["Strict-Transport-Security"] = HSTS
    return headers


EXTENSION_KEY = "adflux_security_headers"


def init_app(app: Flask) -> None:
    """Add the headers to every response (dashboard, API, Swagger UI, static files, errors)."""
    headers = security_headers(current_settings(app).is_production)
    app.extensions[EXTENSION_KEY] = headers  # for WSGI answers made before Flask (tracking fast path)

    # Lower-cased names beside the headers: one pass over the response's few headers per request
    # instead of one `setdefault` (a scan of them all) per security header.
    prebuilt = tuple((name.lower(), name, value) for name, value in headers.items())

    @app.after_request
    def _add_security_headers(response: Response) -> Response:
        present = set(response.headers.keys(lower=True))
        add = response.headers.add
        for lowered, name, value in prebuilt:
            if lowered not in present:
                add(name, value)
        return response
