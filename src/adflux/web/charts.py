"""Chart specifications for static/js/charts.js, built from report dictionaries.

A spec is plain JSON embedded in the page (never fetched: the API takes bearer tokens, not the
session): {"type", "labels", "datasets": [{"label", "data", "key", "axis"?}], "format", ...}.
`key` picks the colour (a platform, a segment index or a model version); `format` tells the
script how to write axis ticks and tooltips (cop, number, percent, decimal).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from flask_babel import format_date, format_percent, get_locale
from flask_babel import gettext as _

from adflux.constants import PLATFORM_LABELS

Spec = dict[str, Any]
# Ratios are derived and may be None where their denominator is zero (a gap, not a zero).
RATIOS = ("ctr", "cpc", "cpa")
# More points than this and the chart is unreadable anyway; daily charts show the latest days.
MAX_DAYS = 366


def days_between(since: date, until: date) -> list[date]:
    """Every calendar day from `since` to `until` (the latest MAX_DAYS of them)."""
    start = max(since, until - timedelta(days=MAX_DAYS - 1))
    return [start + timedelta(days=n) for n in range((until - start).days + 1)]


def day_labels(days: Iterable[date]) -> list[str]:
    """Short localised day labels ("4 mar"); a page's charts of the same days share one list."""
    return list(_labels(tuple(days), str(get_locale())))


@functools.lru_cache(maxsize=64)
def _labels(days: tuple[date, ...], locale: str) -> tuple[str, ...]:
    # (the locale is part of the key: format_date writes in the request's language)
    return tuple(format_date(d, "d MMM") for d in days)


def _value(row: dict[str, Any] | None, metric: str) -> Any:
    # A day without a row is unknown (not synced yet, e.g. today), not zero: the line has a gap.
    if row is None:
        return None
    value = row.get(metric)
    if metric == "spend":
        return round(value or 0)
    return value if metric in RATIOS else (value or 0)


def daily_trend(trend: Sequence[dict[str, Any]], since: date, until: date, metric: str, fmt: str) -> Spec:
    """One metric per day across all campaigns (overview); days without data are gaps."""
    by_day = {row["date"]: row for row in trend}
    days = days_between(since, until)
    return {
        "type": "bar" if metric == "applications" else "line",
        "labels": day_labels(days),
        "datasets": [{"label": metric_label(metric), "data": [_value(by_day.get(d), metric) for d in days]}],
        "format": fmt,
        "label_head": _("Day"),
    }


def platform_series(
    series: dict[str, list[dict[str, Any]]], since: date, until: date, metric: str, fmt: str
) -> Spec:
    """One metric per day with a line per platform (campaign page)."""
    days = days_between(since, until)
    datasets = []
    for platform, rows in sorted(series.items()):
        by_day = {row["date"]: row for row in rows}
        datasets.append(
            {
                "label": PLATFORM_LABELS.get(platform, platform),
                "key": platform,
                "data": [_value(by_day.get(d), metric) for d in days],
            }
        )
    return {
        "type": "line",
        "labels": day_labels(days),
        "datasets": datasets,
        "format": fmt,
        "label_head": _("Day"),
    }


def platform_weekly_series(
    series: dict[str, list[dict[str, Any]]], weeks: Sequence[date], metric: str, fmt: str
) -> Spec:
    """One metric per week (labelled by its Monday) with a line per platform (campaign page)."""
    datasets = []
    for platform, rows in sorted(series.items()):
        by_week = {row["week"]: row for row in rows}
        datasets.append(
            {
                "label": PLATFORM_LABELS.get(platform, platform),
                "key": platform,
                "data": [_value(by_week.get(w), metric) for w in weeks],
            }
        )
    return {
        "type": "line",
        "labels": day_labels(weeks),
        "datasets": datasets,
        "format": fmt,
        "label_head": _("Week of"),
    }


def by_platform(rows: Sequence[dict[str, Any]], metric: str, fmt: str) -> Spec:
    """One bar per platform for a metric (totals over the range)."""
    return {
        "type": "bar",
        "labels": [PLATFORM_LABELS.get(r["platform"], r["platform"]) for r in rows],
        "datasets": [
            {
                "label": metric_label(metric),
                "data": [_value(r, metric) for r in rows],
                "keys": [r["platform"] for r in rows],
            }
        ],
        "format": fmt,
        "label_head": _("Platform"),
    }


def segment_scatter(
    centroids: Sequence[dict[str, Any]],
    points: Sequence[dict[str, Any]] = (),
    explained: Sequence[float] = (),
) -> Spec:
    """The PCA picture: sampled candidates coloured by segment, with each segment's centre marked.

    Without a candidate sample (older versions) the centres are drawn as bubbles sized by segment.
    """
    names = {c["cluster_index"]: c["name"] for c in centroids}
    shares = [*explained, None, None]
    axes = {
        key: f"{name} ({format_percent(share, '#,##0 %')})" if share else name
        for key, name, share in (("x", "PC1", shares[0]), ("y", "PC2", shares[1]))
    }
    if not points:
        biggest = max((c.get("size") or 0 for c in centroids), default=0) or 1
        datasets = [
            {
                "label": c["name"],
                "key": c["cluster_index"],
                # Area proportional to size: the radius grows with the square root.
                "data": [
                    {
                        "x": round(c["x"], 4),
                        "y": round(c["y"], 4),
                        "r": round(6 + 24 * ((c.get("size") or 0) / biggest) ** 0.5, 1),
                        "size": c.get("size") or 0,
                    }
                ],
            }
            for c in sorted(centroids, key=lambda c: c["cluster_index"])
        ]
        return {"type": "bubble", "datasets": datasets, "format": "decimal", "axes": axes}
    groups: dict[int, list[dict[str, float]]] = {}
    for p in points:
        groups.setdefault(int(p["segment"]), []).append({"x": round(p["x"], 4), "y": round(p["y"], 4)})
    datasets = [{"label": names.get(k, str(k)), "key": k, "data": groups[k]} for k in sorted(groups)]
    ordered = sorted(centroids, key=lambda c: c["cluster_index"])
    datasets.insert(
        0,
        {
            "label": _("Segment centres"),
            "centres": True,
            "keys": [c["cluster_index"] for c in ordered],
            "names": [c["name"] for c in ordered],
            "data": [{"x": round(c["x"], 4), "y": round(c["y"], 4)} for c in ordered],
        },
    )
    return {"type": "scatter", "datasets": datasets, "format": "decimal", "axes": axes}


def k_search_curves(versions: Sequence[tuple[int, int, list[dict[str, Any]]]], metric: str) -> Spec:
    """A metric against k with one line per model version; the chosen k of each is marked."""
    ks = sorted({row["k"] for _, _, rows in versions for row in rows})
    datasets = []
    for version, chosen_k, rows in versions:
        by_k = {row["k"]: row.get(metric) for row in rows}
        datasets.append(
            {
                "label": _("Version %(version)s", version=version),
                "key": version,
                "data": [by_k.get(k) for k in ks],
                "highlight": ks.index(chosen_k) if chosen_k in ks else None,
            }
        )
    return {
        "type": "line",
        "labels": ks,
        "datasets": datasets,
        "format": "decimal" if metric != "inertia" else "number",
        "axes": {"x": "k"},
    }


def metric_label(metric: str) -> str:
    """The translated name of a metric."""
    labels = {
        "spend": _("Spend"),
        "impressions": _("Impressions"),
        "clicks": _("Clicks"),
        "applications": _("Applications"),
        "ctr": _("CTR"),
        "cpc": _("CPC"),
        "cpa": _("CPA"),
        "reach": _("Reach"),
    }
    return labels.get(metric, metric)
