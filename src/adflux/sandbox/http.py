"""Minimal request/response/routing types for the sandbox (standard library only)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Request:
    """One incoming HTTP request, already read."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lowercased names
    body: bytes
    host_url: str  # e.g. http://127.0.0.1:8123
    raw_query: str = ""  # as sent, still percent-encoded (OAuth 1.0a signs it)
    path_params: dict[str, str] = field(default_factory=dict)
    _form: dict[str, list[str]] | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def form(self) -> dict[str, list[str]]:
        if self._form is None:
            if self.content_type == "application/x-www-form-urlencoded":
                self._form = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
            else:
                self._form = {}
        return self._form

    def arg(self, name: str, default: str | None = None) -> str | None:
        """A parameter from the query string or the form body (Graph-style APIs accept both)."""
        if name in self.query:
            return self.query[name][0]
        if name in self.form:
            return self.form[name][0]
        return default

    def params(self) -> dict[str, str]:
        """Query + form parameters, first value each."""
        merged = {key: values[0] for key, values in self.query.items()}
        merged.update({key: values[0] for key, values in self.form.items()})
        return merged

    def json(self) -> Any:
        if not self.body:
            return {}
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    """What the sandbox sends back; ``drop`` closes the connection without answering."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(status, body, {"Content-Type": "application/json; charset=UTF-8", **(headers or {})})


class ApiError(Exception):
    """Raised by handlers; each platform renders it in its own error shape."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        code: Any = None,
        subcode: Any = None,
        retry_after: float | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind  # validation | auth | throttle | not_found | server | permission
        self.message = message
        self.status = status
        self.code = code
        self.subcode = subcode
        self.retry_after = retry_after
        self.extra = extra or {}


Handler = Callable[..., Response]


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Mark a method of a PlatformApi as the handler for ``method`` + path regex."""

    def decorate(func: Handler) -> Handler:
        func.__dict__.setdefault("_routes", []).append((method, re.compile(f"^{pattern}$")))
        return func

    return decorate
