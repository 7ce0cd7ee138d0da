"""OAuth 1.0a for the X emulation: the credentials it knows and a real HMAC-SHA1 signature check."""

from __future__ import annotations

from urllib.parse import parse_qsl

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature, utils

from adflux.constants import SANDBOX_X_CREDENTIALS
from adflux.sandbox.http import Request

# The OAuth 1.0a app and user the sandbox knows (signatures are really verified); AdFlux's
# sandbox accounts sign with the same pair, so it is one shared constant.
SANDBOX_CREDENTIALS = SANDBOX_X_CREDENTIALS


def oauth_params(request: Request) -> dict[str, str]:
    """The ``oauth_*`` parameters of the Authorization header (empty without an OAuth header)."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("oauth "):
        return {}
    return dict(utils.parse_authorization_header(header))


def signature_valid(
    request: Request, params: dict[str, str], consumer_secret: str, token_secret: str
) -> bool:
    """Whether the request's HMAC-SHA1 signature matches its URL, query, form body and OAuth header."""
    body = request.body.decode() if request.content_type == "application/x-www-form-urlencoded" else ""
    collected = signature.collect_parameters(
        uri_query=request.raw_query,
        body=parse_qsl(body, keep_blank_values=True),
        headers={"Authorization": request.headers["authorization"]},
        exclude_oauth_signature=True,
    )
    oauth_request = OAuthRequest(f"{request.host_url}{request.path}", request.method)
    oauth_request.params = collected
    oauth_request.signature = utils.unescape(params.get("oauth_signature", ""))
    return bool(signature.verify_hmac_sha1(oauth_request, consumer_secret, token_secret))
