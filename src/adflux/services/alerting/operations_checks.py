"""Operations checks: the service, its infrastructure and the platforms' APIs.

Error rate, latency, queues and workers, instances, the database and the broker, disk, platform
throttling, expiring tokens and API version sunsets. Each check reads the facts and returns one
`Firing` per key whose condition holds, or raises `NotApplicable` where the rule means nothing here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from adflux.catalogue import message as _
from adflux.constants import QUEUES
from adflux.monitoring import facts, instances, request_stats
from adflux.monitoring.broker import queue_lengths, redis_client
from adflux.services import health
from adflux.services.alerting.check_types import Context, Firing, NotApplicable
from adflux.settings import parse_api_version_sunsets


def _window_check(
    ctx: Context,
    value_of: Callable[[dict[str, Any]], float],
    threshold: float,
    digits: int,
    message: Callable[[float, dict[str, Any]], str],
) -> list[Firing]:
    """The request window's checks: fire once when `value_of` the window's requests, errors and
    seconds is over `threshold`; nothing when the window holds too few requests to judge."""
    s = ctx.settings
    totals = request_stats.window_totals(minutes=s.alert_window_minutes, now=ctx.now)
    if totals["requests"] < s.alert_min_requests:
        return []
    value = value_of(totals)
    if value <= threshold:
        return []
    return [
        Firing(
            key="",
            value=round(value, digits),
            threshold=threshold,
            message=message(value, totals),
            details={"window_minutes": s.alert_window_minutes, **totals},
        )
    ]


def error_rate(ctx: Context) -> list[Firing]:
    s = ctx.settings
    return _window_check(
        ctx,
        lambda totals: totals["errors"] / totals["requests"],
        s.alert_error_rate,
        4,
        lambda rate, totals: _(
            "%(rate)s of %(requests)s requests failed in the last %(alert_window_minutes)s min "
            "(threshold %(alert_error_rate)s)",
            rate=f"{rate:.1%}",
            requests=totals["requests"],
            alert_window_minutes=s.alert_window_minutes,
            alert_error_rate=f"{s.alert_error_rate:.0%}",
        ),
    )


def latency(ctx: Context) -> list[Firing]:
    s = ctx.settings
    return _window_check(
        ctx,
        lambda totals: totals["seconds"] / totals["requests"],
        s.alert_latency_seconds,
        3,
        lambda average, totals: _(
            "Average response time %(average)s s over %(requests)s requests in the last "
            "%(alert_window_minutes)s min (threshold %(alert_latency_seconds)s s)",
            average=f"{average:.2f}",
            requests=totals["requests"],
            alert_window_minutes=s.alert_window_minutes,
            alert_latency_seconds=f"{s.alert_latency_seconds:g}",
        ),
    )


def queue_backlog(ctx: Context) -> list[Firing]:
    if redis_client(ctx.settings) is None:
        raise NotApplicable("no Redis broker: tasks run inline")
    limit = ctx.settings.alert_queue_backlog
    return [
        Firing(
            key=f"queue:{queue}",
            value=n,
            threshold=limit,
            message=_(
                "%(n)s tasks waiting in queue %(queue)s (threshold %(limit)s)", n=n, queue=queue, limit=limit
            ),
        )
        for queue, n in queue_lengths(ctx.settings, QUEUES).items()
        if n > limit
    ]


def no_worker(ctx: Context) -> list[Firing]:
    workers = health.ping_workers(timeout=min(ctx.settings.health_timeout_seconds, 2.0))
    if workers is None:
        raise NotApplicable("embedded mode: no workers needed")
    if workers:
        return []
    return [
        Firing(key="", value=0, message=_("No Celery worker answered a ping; background work is stalled"))
    ]


def service_down(ctx: Context) -> list[Firing]:
    answering = health.ping_workers(timeout=min(ctx.settings.health_timeout_seconds, 2.0))
    if answering is None or redis_client(ctx.settings) is None:
        raise NotApplicable("embedded mode: no separate workers")
    lost = instances.lost_workers(ctx.settings, answering, now=ctx.now.timestamp())
    return [
        Firing(
            key=f"worker:{name}",
            message=_(
                "Worker %(name)s stopped answering (last seen %(seen)s UTC)",
                name=name,
                seen=f"{_utc(seen):%Y-%m-%d %H:%M}",
            ),
            details={"last_seen": seen},
        )
        for name, seen in sorted(lost.items())
    ]


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def instances_below_minimum(ctx: Context) -> list[Firing]:
    s = ctx.settings
    web = instances.web_processes(s, now=ctx.now.timestamp())
    if web is None:
        raise NotApplicable("embedded mode: one process does everything")
    counts = {"web": len(web)} | {
        f"queue:{queue}": len(workers)
        for queue, workers in instances.workers_by_queue(s, QUEUES, fresh=True).items()
    }
    firings = []
    for key, n in counts.items():
        limit = s.alert_min_web_processes if key == "web" else s.alert_min_workers_per_queue
        if n < limit:
            what = (
                _("web processes")
                if key == "web"
                else _("workers consuming %(queue)s", queue=key.split(":", 1)[1])
            )
            firings.append(
                Firing(
                    key=key,
                    value=n,
                    threshold=limit,
                    message=_("%(n)s %(what)s (minimum %(limit)s)", n=n, what=what, limit=limit),
                )
            )
    return firings


def database_down(ctx: Context) -> list[Firing]:
    # Without the database the evaluator cannot record an alert: Prometheus watches pg_up.
    raise NotApplicable("watched by Prometheus through postgres_exporter (pg_up)")


def broker(ctx: Context) -> list[Firing]:
    client = redis_client(ctx.settings)
    if client is None:
        raise NotApplicable("no Redis broker")
    try:
        client.ping()
    except Exception as exc:
        return [Firing(key="", message=_("The broker does not answer: %(name)s", name=type(exc).__name__))]
    return []


def db_connections(ctx: Context) -> list[Firing]:
    found = facts.database_connections()
    if found is None:
        raise NotApplicable("not PostgreSQL")
    limit = ctx.settings.alert_db_connection_ratio
    if found.ratio <= limit:
        return []
    return [
        Firing(
            key="",
            value=round(found.ratio, 3),
            threshold=limit,
            message=(
                _(
                    "%(in_use)s of %(max_connections)s PostgreSQL connections in use (%(ratio)s, "
                    "threshold %(limit)s)",
                    in_use=found.in_use,
                    max_connections=found.max_connections,
                    ratio=f"{found.ratio:.0%}",
                    limit=f"{limit:.0%}",
                )
            ),
            details={"in_use": found.in_use, "max_connections": found.max_connections},
        )
    ]


def database_cpu(ctx: Context) -> list[Firing]:
    if not facts.database_is_local():
        raise NotApplicable("the database runs on another host; use its own CPU monitoring")
    load = facts.cpu_load_ratio()
    if load is None:
        raise NotApplicable("this OS does not expose a load average")
    limit = ctx.settings.alert_cpu_ratio
    if load <= limit:
        return []
    return [
        Firing(
            key="",
            value=round(load, 3),
            threshold=limit,
            message=_(
                "Database host load %(load)s of its CPUs (threshold %(limit)s)",
                load=f"{load:.0%}",
                limit=f"{limit:.0%}",
            ),
        )
    ]


def disk_space(ctx: Context) -> list[Firing]:
    limit = ctx.settings.alert_disk_free_ratio
    out = []
    for volume, (free, total) in facts.disk_usage(ctx.settings).items():
        ratio = free / total if total else 1.0
        if ratio < limit:
            out.append(
                Firing(
                    key=f"volume:{volume}",
                    value=round(ratio, 4),
                    threshold=limit,
                    message=_(
                        "Only %(ratio)s free on the %(volume)s disk (%(value)s GiB)",
                        ratio=f"{ratio:.1%}",
                        volume=volume,
                        value=f"{free / 2**30:.1f}",
                    ),
                    details={"free_bytes": free, "size_bytes": total},
                )
            )
    return out


def platform_throttling(ctx: Context) -> list[Firing]:
    limit = ctx.settings.alert_throttle_headroom
    found: dict[str, Firing] = {}
    # Publishes that gave up throttled in the last hour: the platform said "too many" for real.
    for platform, n in facts.recent_throttled_publications(since=ctx.now - timedelta(hours=1)).items():
        found[platform] = Firing(
            key=f"platform:{platform}",
            value=n,
            message=_(
                "%(platform)s: %(n)s publication(s) stopped by rate limits in the last hour",
                platform=platform,
                n=n,
            ),
            details={"throttled_publications": n},
        )
    for check in health.check_platforms():
        headroom = check.data.get("throttle_headroom")
        platform = check.name.split(":", 1)[1]
        if headroom is not None and headroom < limit and platform not in found:
            found[platform] = Firing(
                key=f"platform:{platform}",
                value=round(float(headroom), 3),
                threshold=limit,
                message=_(
                    "%(platform)s: %(headroom)s of the rate budget left (threshold %(limit)s)",
                    platform=platform,
                    headroom=f"{headroom:.0%}",
                    limit=f"{limit:.0%}",
                ),
            )
    return list(found.values())


def token_expiring(ctx: Context) -> list[Firing]:
    days = ctx.settings.alert_token_expiry_days
    horizon = ctx.now + timedelta(days=days)
    out = []
    for account in facts.platform_accounts():
        expires = account.token_expires_at
        if expires is None or expires > horizon:
            continue
        left = (expires - ctx.now).total_seconds() / 86400
        expired = left <= 0
        out.append(
            Firing(
                key=f"account:{account.id}",
                value=round(left, 2),
                threshold=days,
                severity="critical" if expired else None,
                message=(
                    _(
                        "%(platform)s account %(name)r: token has expired (%(expires)s UTC)",
                        platform=account.platform,
                        name=account.name,
                        expires=f"{expires:%Y-%m-%d %H:%M}",
                    )
                    if expired
                    else _(
                        "%(platform)s account %(name)r: token expires in %(left)s days (%(expires)s UTC)",
                        platform=account.platform,
                        name=account.name,
                        left=f"{left:.1f}",
                        expires=f"{expires:%Y-%m-%d %H:%M}",
                    )
                ),
                details={"platform": account.platform, "account_id": account.id, "expires_at": expires},
            )
        )
    return out


def api_sunset(ctx: Context) -> list[Firing]:
    sunsets = parse_api_version_sunsets(ctx.settings.api_version_sunsets)
    days = ctx.settings.alert_api_sunset_days
    out: dict[str, Firing] = {}
    for account in facts.platform_accounts():
        version = account.api_version or facts.default_api_version(account.platform)
        sunset = sunsets.get((account.platform, version or ""))
        if sunset is None:
            continue
        left = (sunset - ctx.now.date()).days
        if left <= days:
            key = f"{account.platform}:{version}"
            out[key] = Firing(
                key=key,
                value=left,
                threshold=days,
                severity="critical" if left <= 0 else None,
                message=_(
                    "%(platform)s API %(version)s stops working on %(sunset)s (%(left)s days)",
                    platform=account.platform,
                    version=version,
                    sunset=f"{sunset:%Y-%m-%d}",
                    left=left,
                ),
                details={"platform": account.platform, "version": version, "sunset": sunset.isoformat()},
            )
    return list(out.values())
