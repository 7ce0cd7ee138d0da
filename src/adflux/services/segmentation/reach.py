"""Which platforms a segment can be targeted on: a segment smaller than a platform's minimum
custom audience (constants.MIN_CUSTOM_AUDIENCE) is flagged and not offered there.

Segments are flagged rather than merged at training: the minimums differ tenfold between
platforms (100 on Meta, Google and X; 1,000 on TikTok and Snapchat), so a segment of 400 people is
a useful audience on three platforms and none on the other two. Merging it away would lose it
everywhere; flagging keeps it where it works and says why it is missing elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from adflux.constants import PLATFORM_LABELS, PLATFORMS, audience_shortfall, too_small_for
from adflux.models import Segment
from adflux.services.errors import ValidationFailed


def reachable_segments(segments: Iterable[Segment], platforms: Sequence[str]) -> list[Segment]:
    """The segments large enough for every one of `platforms`, in the given order."""
    return [s for s in segments if not too_small_for(s.size, list(platforms))]


def check_reach(segments: Sequence[Segment], platforms: Sequence[str]) -> None:
    """Refuse segments below a chosen platform's minimum audience, naming each with its reason."""
    problems = [
        f"el segmento «{segment.name}» (#{segment.id}) no está disponible en "
        f"{PLATFORM_LABELS.get(platform, platform)}: {audience_shortfall(segment.size, platform)}"
        for segment in segments
        for platform in too_small_for(segment.size, [p for p in PLATFORMS if p in platforms])
    ]
    if problems:
        message = "; ".join(problems)
        raise ValidationFailed(message[0].upper() + message[1:] + ".", errors={"segment_ids": problems})
