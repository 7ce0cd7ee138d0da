"""A simulated job portal's feed: openings rendered as the XML job boards publish
(`<source><job>…</job></source>`, labels not codes, salary as text), served over loopback with
ETag and Last-Modified like a real feed server, so a run that finds nothing new costs one 304."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

from adflux.constants import EDUCATION_LABELS, JOB_CATEGORY_LABELS, MODALITY_LABELS


def _money(amount: int | None) -> str:
    return "" if amount is None else "$" + f"{amount:,}".replace(",", ".")


def job_xml(job: dict[str, Any]) -> str:
    """One opening as a job board's <job> element."""
    salary = (
        f"{_money(job.get('salary_min'))} - {_money(job.get('salary_max'))}"
        if job.get("salary_min") is not None
        else "A convenir"
    )
    fields = {
        "referencenumber": job["external_ref"],
        "title": job["title"],
        "company": job["company"],
        "city": job["city"],
        "state": job["department"],
        "category": JOB_CATEGORY_LABELS.get(job["category"], job["category"]),
        "jobtype": MODALITY_LABELS.get(job["modality"], job["modality"]),
        "salary": salary,
        "education": EDUCATION_LABELS.get(job.get("education_required") or "", ""),
        "experience": str(job.get("experience_years_min") or 0),
        "url": job["apply_url"],
        "description": job.get("description", ""),
        "status": job.get("feed_status", "active"),
        "expiration_date": job.get("expires", ""),
    }
    inner = "".join(f"<{tag}>{escape(str(value))}</{tag}>" for tag, value in fields.items() if value != "")
    return f"<job>{inner}</job>"


def render_xml(jobs: Iterable[dict[str, Any]], *, publisher: str = "Portal de empleo simulado") -> bytes:
    """The whole feed document."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<source>',
        f"<publisher>{escape(publisher)}</publisher>",
    ]
    parts += (job_xml(job) for job in jobs)
    parts.append("</source>\n")
    return "\n".join(parts).encode()


class PortalFeedServer:
    """Serves one feed document at /feed.xml on 127.0.0.1 with ETag / Last-Modified."""

    def __init__(self, content: bytes = b"") -> None:
        self.requests = 0
        self.not_modified = 0
        self._lock = threading.Lock()
        self.publish(content)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._answer(self)

            def log_message(self, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/feed.xml"

    def publish(self, content: bytes) -> None:
        """Change what the feed says (a new ETag and Last-Modified)."""
        with self._lock:
            self._content = content
            self._etag = '"' + hashlib.sha1(content, usedforsecurity=False).hexdigest() + '"'
            self._modified = format_datetime(datetime.now(UTC), usegmt=True)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            content, etag, modified = self._content, self._etag, self._modified
            self.requests += 1
            if handler.headers.get("If-None-Match") == etag:
                self.not_modified += 1
                handler.send_response(304)
                handler.send_header("ETag", etag)
                handler.end_headers()
                return
        handler.send_response(200)
        handler.send_header("Content-Type", "application/xml; charset=utf-8")
        handler.send_header("Content-Length", str(len(content)))
        handler.send_header("ETag", etag)
        handler.send_header("Last-Modified", modified)
        handler.end_headers()
        handler.wfile.write(content)
