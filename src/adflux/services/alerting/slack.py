"""Slack incoming webhooks: a message in Slack's own format (text plus Block Kit blocks).

Kept apart from the Alertmanager-shaped webhook in notifications.py: Slack refuses that shape
(`invalid_payload`), and any Slack-compatible receiver (Mattermost, Rocket.Chat) takes this one.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

logger = logging.getLogger(__name__)

SLACK_TIMEOUT = 5.0
# Slack cuts a section's text at 3,000 characters; stay clear of it.
MAX_SECTION_TEXT = 2900


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: only &, < and > are special."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(
    *, title: str, lines: list[str], link: str | None = None, link_label: str = ""
) -> dict[str, Any]:
    """A Slack message: the plain `text` (notifications, old clients) and the blocks people see."""
    body = "\n".join(escape(line) for line in lines)[:MAX_SECTION_TEXT]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": body or " "}},
    ]
    if link:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|{escape(link_label)}>"}]}
        )
    return {"text": f"{title}\n" + "\n".join(lines), "blocks": blocks, "unfurl_links": False}


def post_to_slack(url: str, message: dict[str, Any]) -> bool:
    """POST one message; True when Slack (or the receiver) answered 2xx."""
    try:
        response = httpx.post(url, json=message, timeout=SLACK_TIMEOUT)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        # Only the host: the webhook's path is its secret.
        logger.warning("slack webhook to %s failed: %s", urlsplit(url).hostname, type(exc).__name__)
        return False
    return True
