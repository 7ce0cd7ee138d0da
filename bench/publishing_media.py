"""The media side of bench_publishing: which sandbox objects are uploaded images, and how many
uploads each platform got for the openings the run published.

Images are per opening and platform account (content hash → media id), not per campaign tree, so
they are left out of the tree shape and counted on their own: ``uploads`` at the sandbox against
``images`` (one per opening). Uploads beyond that are concurrent first publishes of the same
opening racing before either recorded its media id (a wasted upload, not a duplicate ad).
"""

from __future__ import annotations

from typing import Any

# The sandbox kinds that hold an uploaded image, per platform (X: the upload and its library entry).
MEDIA_KINDS: dict[str, tuple[str, ...]] = {
    "meta": ("adimage",),
    "tiktok": ("image",),
    "snapchat": ("media",),
    "google": ("asset",),
    "x": ("upload", "media_library"),
}
# Default sandbox limits (calls/s) for the platforms the first version of the bench left out.
EXTRA_LIMITS = {"x": 25.0, "snapchat": 25.0}


def tree_only(shape: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """The probe tree's objects per kind without its images."""
    return {
        name: {kind: n for kind, n in kinds.items() if kind not in MEDIA_KINDS.get(name, ())}
        for name, kinds in shape.items()
    }


def media_audit(platform: str, counts: dict[str, int], openings: int) -> dict[str, Any]:
    """Uploads at the sandbox for `openings` distinct images."""
    kinds = MEDIA_KINDS.get(platform, ())
    uploads = counts.get(kinds[0], 0) if kinds else 0
    return {
        "images": openings if kinds else 0,
        "uploads": uploads,
        "extra_uploads": max(0, uploads - openings),
    }


def media_line(audit: dict[str, Any]) -> str:
    parts = [
        f"{name} {one['media']['uploads']} uploads for {one['media']['images']} images"
        for name, one in audit["platforms"].items()
        if one["media"]["images"]
    ]
    return "  media: " + "; ".join(parts)
