"""The metric columns every metrics table carries, written once: what was bought and what it brought.

The raw rows, the rollups, the totals and the rankings all store the same six sums, in the same
order, so COPY code and whole-row comparisons can rely on it. A class that uses the mixin gets them
after its own columns (SQLAlchemy places a class's columns before its mixins'); a column that must
come after the metrics says so with ``sort_order=AFTER_METRICS``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

# The metric columns in table order (covering indexes include them; copy code lists them).
METRIC_COLUMNS = ("impressions", "reach", "clicks", "engagements", "spend_micros", "applications")
AFTER_METRICS = 1


class MetricColumns:
    """Impressions, reach, clicks, engagements (None where a platform has none), spend in
    micro-pesos (1 COP = 1,000,000, the unit most platforms report spend in) and applications."""

    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    reach: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    engagements: Mapped[int | None] = mapped_column(BigInteger)
    spend_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    applications: Mapped[int] = mapped_column(BigInteger, default=0)
