"""The one API client the CLI uses: in-process (WSGI) by default, or a remote AdFlux server."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import httpx
from flask import Flask

from adflux.catalogue import current_locale
from adflux.catalogue import gettext as _
from adflux.constants import LOCAL_ADMIN_ENVIRON_KEY


class ApiError(Exception):
    """An error answer from the API, carrying its JSON error body."""

    def __init__(self, status: int, code: str, message: str, errors: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or {}

    def one_line(self) -> str:
        """The message and each field's problem in plain words, on one line.

        Nested errors name their place the way people count: ``{"platforms": {"1": [...]}}`` reads
        "platforms, item 2: ...", never as a Python structure.
        """
        parts = list(_field_problems(self.errors)) if isinstance(self.errors, dict) else []
        detail = " (" + "; ".join(parts)[:300] + ")" if parts else ""
        return f"{self.message}{detail}"


def _field_problems(errors: Any, where: str = "") -> list[str]:
    if isinstance(errors, dict):
        found: list[str] = []
        for key, value in errors.items():
            name = (
                _("item %(n)s", n=int(key) + 1)
                if str(key).isdigit()
                else ("" if key == "_schema" else str(key))
            )
            found.extend(_field_problems(value, ", ".join(part for part in (where, name) if part)))
        return found
    if isinstance(errors, list):
        text = " ".join(str(item) for item in errors if not isinstance(item, (dict, list)))
        nested = [
            p for item in errors if isinstance(item, (dict, list)) for p in _field_problems(item, where)
        ]
        return ([f"{where}: {text}" if where else text] if text else []) + nested
    return [f"{where}: {errors}" if where else str(errors)]


class LocalAdminMiddleware:
    """WSGI middleware for the in-process CLI client: every request is the local admin."""

    def __init__(self, app: Any, *, name: str | None = None) -> None:
        self.app = app
        self.name = name or _os_user()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[LOCAL_ADMIN_ENVIRON_KEY] = self.name
        return self.app(environ, start_response)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "cli"


class ApiClient:
    """Calls /api/v1 and returns decoded JSON, raising ApiError on any 4xx/5xx."""

    def __init__(
        self, *, app: Flask | None = None, base_url: str | None = None, token: str | None = None
    ) -> None:
        # The API answers in the CLI's language (ADFLUX_LANG / --lang): its messages come back ready.
        language = "en" if current_locale() == "en" else "es-CO, es;q=0.9"
        headers = {"Accept": "application/json", "User-Agent": "adflux-cli", "Accept-Language": language}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if base_url:
            self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=60.0)
        elif app is not None:
            # In-process calls come from this machine's operator, who has the database anyway:
            # the middleware marks them as the local admin (a remote caller cannot forge it).
            transport = httpx.WSGITransport(app=LocalAdminMiddleware(app))
            self._http = httpx.Client(transport=transport, base_url="http://adflux.local", headers=headers)
        else:
            raise ValueError("ApiClient needs an app (in-process) or a base_url")

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, f"/api/v1{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(0, "unreachable", _("Cannot reach the AdFlux API: %(error)s", error=exc)) from exc
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise ApiError(
                response.status_code,
                body.get("code", "error"),
                body.get("message") or f"HTTP {response.status_code}",
                body.get("errors"),
            )
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None) -> Any:
        return self.request("PATCH", path, json=json)

    def put(self, path: str, json: Any = None) -> Any:
        return self.request("PUT", path, json=json)

    def upload(self, path: str, file: Path, *, fmt: str | None = None) -> Any:
        with file.open("rb") as handle:
            files = {"file": (file.name, handle, "application/octet-stream")}
            data = {"format": fmt} if fmt else {}
            return self.request("POST", path, files=files, data=data)

    def close(self) -> None:
        self._http.close()
