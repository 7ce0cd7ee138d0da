"""One typed settings object, read from the environment.

Nothing here connects to anything: `Settings.from_env()` only parses strings. The app factory
validates the result (`Settings.validate`) so a bad value fails at start-up with a clear message
instead of at the first request.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_type_hints

from flask import current_app

from adflux.constants import ALERT_SEVERITIES, PLATFORMS

if TYPE_CHECKING:
    from flask import Flask

DEVELOPMENT_SECRET_KEY = "dev-insecure-secret-key"
ENVIRONMENTS = ("development", "testing", "production")
# Where the app factory keeps the Settings: read them with `current_settings()`.
EXTENSION_KEY = "adflux_settings"


class SettingsError(ValueError):
    """A setting is missing or malformed."""


def _default_instance_path() -> str:
    return str(Path.cwd() / "instance")


@dataclass(frozen=True)
class Settings:
    """Every knob AdFlux has; each field maps to one environment variable (see `ENV_NAMES`)."""

    env: str = "development"
    secret_key: str = DEVELOPMENT_SECRET_KEY
    instance_path: str = field(default_factory=_default_instance_path)
    # None means "SQLite file under instance_path", resolved by `database_uri`.
    database_url: str | None = None
    database_pool_size: int = 5
    database_echo: bool = False
    # No broker: Celery runs tasks inline (task_always_eager), the embedded default.
    celery_broker_url: str | None = None
    celery_result_backend: str | None = None
    # Seconds before Redis redelivers a task whose worker died without acknowledging it.
    # A dead worker's unacknowledged tasks come back after this many seconds: longer than our
    # longest task (minutes), and safe if one still runs: publishing, training and the metrics
    # sync each hold a lock, the rest are idempotent. Publishes come back sooner (the sweep).
    celery_visibility_timeout: int = 900
    # A publish nobody is doing (lost message, dead worker) is resent after this many idle seconds.
    publish_sweep_idle_seconds: int = 30
    publish_sweep_interval_seconds: int = 30
    log_level: str = "INFO"
    log_format: str = "auto"  # auto | text | json; auto = json in production
    # Write logs to this file instead of stderr (the in-process CLI uses instance/adflux.log).
    log_file: str | None = None
    timezone: str = "America/Bogota"
    default_locale: str = "es_CO"
    max_content_length: int = 16 * 1024 * 1024
    api_max_page_size: int = 200
    # Answers kept per process by cached read endpoints (the job list); 0 = off.
    response_cache_entries: int = 256
    # Where segmentation artifacts live: a folder path or a file:// URL.
    model_store: str | None = None
    backup_dir: str | None = None
    # Platform layer: None = the in-process sandbox; otherwise the sandbox/real base URL.
    platform_base_url: str | None = None
    # Client-side calls per second for the built-in sandbox accounts, per platform, e.g.
    # "meta=40,google=15" (empty = no client-side limit). Configured accounts use their own
    # PlatformAccount.rate_limit_per_second. See platform_rate_limit_scope for whose budget it is.
    sandbox_rate_limits: str = ""
    # "account": one budget per platform account shared by every process and machine (in the
    # Redis of rate_limit_redis_url, else the broker when it is Redis; per process without Redis).
    # "process": each process paces itself at the whole rate (give each process its share).
    platform_rate_limit_scope: str = "account"
    # While that Redis does not answer, each process paces itself at this share of the rate
    # (1 / the number of processes that publish keeps the account under its limit).
    platform_rate_limit_fallback_share: float = 0.5
    encryption_key: str | None = None
    metrics_sync_interval_minutes: int = 60
    # Days a sync re-reads (platforms restate late applications): past the longest attribution
    # lag the scenarios model (15 days) plus the day a sync straddles; see TECHNICAL_DOCS.
    metrics_lookback_days: int = 16
    retrain_cron: str = "0 3 1 * *"
    # Budget allocation once a day (06:30 in Bogotá), before the day's spend; forecasts retrained weekly.
    allocation_cron: str = "30 11 * * *"
    forecast_retrain_cron: str = "0 4 * * 1"
    segmentation_k_min: int = 2
    segmentation_k_max: int = 12
    segmentation_silhouette_tolerance: float = 0.01
    # From this many candidates (PostgreSQL; 0 = never) training streams: it fits on a hash sample of
    # about `_sample_rows` and assigns everyone chunk by chunk, so memory does not grow with the base.
    segmentation_streaming_rows: int = 2_000_000
    segmentation_stream_sample_rows: int = 300_000
    segmentation_stream_chunk_rows: int = 200_000
    # ---- security: sessions, sign-in, request limits --------------------------------------
    # A dashboard session ends this many hours after sign-in, and after this many idle minutes.
    session_lifetime_hours: float = 12.0
    session_idle_minutes: int = 60  # 0 = no idle timeout
    # Admins and managers must sign in with a TOTP code (enrol with `adflux users totp-enable`).
    require_totp: bool = False
    # Sign-in guessing: failures allowed before each further try must wait (a delay that doubles).
    sign_in_free_attempts: int = 5
    # Longest wait per address (an attacker's address can wait long) and per account (short:
    # a real user is slowed, never locked out).
    sign_in_max_delay_address_seconds: int = 900
    sign_in_max_delay_account_seconds: int = 30
    # API calls per token per minute (429 with Retry-After past it); 0 = no limit.
    api_rate_limit_per_minute: int = 1200
    # Where rate-limit counters live, shared by every process: a Redis URL. Unset = the Celery
    # broker when it is Redis, else counters per process (the embedded default).
    rate_limit_redis_url: str | None = None
    # JSON bodies: nesting deeper or bodies larger than these are refused (400) before parsing.
    max_json_depth: int = 64
    max_json_bytes: int = 1024 * 1024
    # Reverse proxies in front that append the client to X-Forwarded-For (nginx: 1). The sign-in
    # limiter, logs and allowed-address checks then see the client, not the proxy. 0 = none.
    proxy_hops: int = 0
    # Uploaded import files wait here for their background task (default instance/imports).
    import_dir: str | None = None
    # ---- operations: logs, metrics, health, alerts, backups, retention ----------------------
    access_log: bool = True
    metrics_enabled: bool = True
    # When set, /metrics wants "Authorization: Bearer <token>" (Prometheus `authorization:`).
    metrics_token: str | None = None
    # Where gunicorn keeps each server's Prometheus files (read by gunicorn.conf.py, before the app
    # exists): <metrics_dir>/adflux-prometheus-<pid>; unset = the temp folder.
    metrics_dir: str | None = None
    # When set, /readyz wants "Authorization: Bearer <token>" (probes that can send a header).
    readyz_token: str | None = None
    # Comma-separated addresses or networks (CIDR) that may read /metrics and /readyz without
    # a token, e.g. "127.0.0.1,10.0.0.0/8". Unset with no token = anonymous (the default).
    ops_allowed_addresses: str = ""
    # A Celery worker serves its own /metrics on this port (multiprocess mode); None = off.
    worker_metrics_port: int | None = None
    worker_metrics_addr: str = "0.0.0.0"
    health_timeout_seconds: float = 2.0
    # Platform health calls cost rate-limit budget, so probes reuse a recent answer.
    health_platform_cache_seconds: int = 60
    alert_window_minutes: int = 5
    alert_min_requests: int = 20  # below this many requests in the window, rates are noise
    alert_error_rate: float = 0.05
    alert_latency_seconds: float = 2.0
    alert_queue_backlog: int = 100
    alert_db_connection_ratio: float = 0.8
    alert_cpu_ratio: float = 0.8
    alert_throttle_headroom: float = 0.1
    alert_token_expiry_days: int = 7
    alert_api_sunset_days: int = 30
    alert_cpa_window_days: int = 7
    # campaign_pacing_off: spend so far more than this share above or below the plan to date.
    alert_pacing_tolerance: float = 0.10
    alert_drift_threshold: float = 0.25  # population stability index; > 0.25 is a major shift
    alert_sync_failures: int = 3  # consecutive failed metrics syncs before an alert
    alert_disk_free_ratio: float = 0.10  # alert when less than this share of a data disk is free
    # Job feeds: the largest feed read (bytes), and how long a campaign whose job closed stays
    # paused (a reopened job resumes it) before it is completed.
    feed_max_bytes: int = 1 << 30
    # The only folder file feeds may be read from in production (unset: no file feeds there).
    feed_dir: str | None = None
    feed_close_grace_hours: int = 72
    # When API versions stop working, e.g. "meta:v21.0=2026-09-01,google:v19=2026-02-01".
    api_version_sunsets: str = ""
    alert_webhook_url: str | None = None
    alert_email_from: str | None = None
    alert_email_to: str = ""  # comma-separated addresses
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    # SMS through an HTTP gateway with Twilio's REST shape (POST {url}/2010-04-01/Accounts/{sid}/
    # Messages.json, form fields To/From/Body, basic auth sid:token); any gateway speaking it works.
    alert_sms_to: str = ""  # comma-separated numbers in E.164, e.g. "+573001234567"
    alert_sms_from: str | None = None
    alert_sms_url: str = "https://api.twilio.com"
    alert_sms_account_sid: str | None = None
    alert_sms_auth_token: str | None = None
    # Which severities go to which channel (comma-separated): SMS wakes people, so critical only.
    alert_sms_severities: str = "critical"
    alert_email_severities: str = "critical,warning,info"
    # Campaign owners are told (e-mail to the owner, and this Slack incoming webhook) when a
    # campaign needs them: publish failed, paused by a rule, budget spent, job closed.
    slack_webhook_url: str | None = None
    owner_notifications: bool = True
    # The weekly report, e-mailed to every active manager (and these extra addresses) by beat.
    weekly_report_cron: str = "0 13 * * 1"  # Mondays 08:00 in Bogotá (13:00 UTC)
    weekly_report_to: str = ""  # comma-separated extra addresses
    # Fewer live instances than this opens an alert (web processes; workers consuming each queue).
    alert_min_web_processes: int = 1
    alert_min_workers_per_queue: int = 1
    backup_keep: int = 7  # the newest N backups are always kept
    backup_retention_days: int = 30  # older backups beyond the newest N are deleted
    backup_cron: str = "30 2 * * *"
    prune_cron: str = "45 2 * * *"
    task_run_retention_days: int = 30
    alert_retention_days: int = 90
    audit_retention_days: int = 365
    request_stats_retention_days: int = 14
    metrics_retention_days: int = 0  # 0 keeps daily metrics forever; else whole months past it go

    # ---- first-hand measurement: tracking links and the portal's application postbacks ------
    # The portal signs its postbacks with this shared secret (HMAC-SHA256); unset = postbacks refused.
    tracking_postback_secret: str | None = None
    # A signature older (or newer) than this many seconds is refused; each is accepted once.
    tracking_postback_tolerance_seconds: int = 300
    # An application counts for the click that led to it when it follows within this many days.
    tracking_attribution_window_days: int = 30
    # Raw clicks and application events older than this are pruned (Ley 1581: keep only what is needed).
    tracking_retention_days: int = 180
    # Where clicks wait while the database is down (default: the rate-limit Redis / Celery broker).
    tracking_buffer_redis_url: str | None = None
    # With a Redis buffer, every click goes there first and a thread per process writes them in
    # batches each second (fast redirects); off = each click is written at once (Redis only on failure).
    tracking_click_write_behind: bool = True
    # With write-behind, the redirect's fast path may gather a process's clicks for this many
    # milliseconds and push them to Redis in one command (several times the clicks per second); a
    # worker killed outright (not stopped) loses at most that window. 0 = one push per click.
    tracking_click_batch_ms: int = 0
    # Clicks counted per visitor address a minute (more are still redirected, not counted); 0 = all.
    tracking_clicks_per_address_per_minute: int = 120

    # ---- derived values -------------------------------------------------------------------
    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def database_uri(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{Path(self.instance_path) / 'adflux.db'}"

    @property
    def model_store_path(self) -> str:
        return self.model_store or str(Path(self.instance_path) / "models")

    @property
    def backup_path(self) -> str:
        return self.backup_dir or str(Path(self.instance_path) / "backups")

    @property
    def import_path(self) -> str:
        return self.import_dir or str(Path(self.instance_path) / "imports")

    @property
    def effective_log_format(self) -> str:
        if self.log_format == "auto":
            return "json" if self.is_production else "text"
        return self.log_format

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from environment variables, then apply keyword overrides."""
        environ = os.environ if environ is None else environ
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = ENV_NAMES.get(f.name, f"ADFLUX_{f.name.upper()}")
            raw = environ.get(name)
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(raw, hints[f.name], name)
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def validate(self) -> None:
        """Refuse settings that would be unsafe or cannot work."""
        if self.env not in ENVIRONMENTS:
            raise SettingsError(f"ADFLUX_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}")
        _validate_database_url(self.database_uri)
        if self.env == "production" and (not self.secret_key or self.secret_key == DEVELOPMENT_SECRET_KEY):
            raise SettingsError("SECRET_KEY must be set to a private value when ADFLUX_ENV=production")
        if self.env == "production" and not self.encryption_key:
            raise SettingsError("ADFLUX_ENCRYPTION_KEY must be set when ADFLUX_ENV=production")
        if self.encryption_key and any(len(k.strip()) < 32 for k in self.encryption_key.split(",")):
            raise SettingsError("ADFLUX_ENCRYPTION_KEY: each key must be a Fernet key or 32+ characters")
        if self.response_cache_entries < 0:
            raise SettingsError("ADFLUX_RESPONSE_CACHE_ENTRIES must be 0 (off) or more")
        if self.log_format not in ("auto", "text", "json"):
            raise SettingsError(f"LOG_FORMAT must be auto, text or json, not {self.log_format!r}")
        if not 2 <= self.segmentation_k_min <= self.segmentation_k_max:
            raise SettingsError("ADFLUX_SEGMENTATION_K_MIN must be >= 2 and <= ADFLUX_SEGMENTATION_K_MAX")
        if min(self.segmentation_stream_sample_rows, self.segmentation_stream_chunk_rows) < 1_000:
            raise SettingsError("ADFLUX_SEGMENTATION_STREAM_SAMPLE_ROWS and _CHUNK_ROWS must be >= 1000")
        parse_rate_limits(self.sandbox_rate_limits)
        if self.platform_rate_limit_scope not in ("account", "process"):
            raise SettingsError("ADFLUX_PLATFORM_RATE_LIMIT_SCOPE must be account or process")
        if not 0 < self.platform_rate_limit_fallback_share <= 1:
            raise SettingsError("ADFLUX_PLATFORM_RATE_LIMIT_FALLBACK_SHARE must be a fraction in (0, 1]")
        _validate_security(self)
        _validate_operations(self)
        _validate_campaign_alerts(self)


# Environment variable names that do not follow the ADFLUX_<FIELD> pattern.
ENV_NAMES: dict[str, str] = {
    "env": "ADFLUX_ENV",
    "secret_key": "SECRET_KEY",
    "database_url": "DATABASE_URL",
    "celery_broker_url": "CELERY_BROKER_URL",
    "celery_result_backend": "CELERY_RESULT_BACKEND",
    "log_level": "LOG_LEVEL",
    "log_format": "LOG_FORMAT",
    "log_file": "LOG_FILE",
}


def env_name(field_name: str) -> str:
    """The environment variable that sets `field_name`."""
    return ENV_NAMES.get(field_name, f"ADFLUX_{field_name.upper()}")


def parse_api_version_sunsets(raw: str) -> dict[tuple[str, str], date]:
    """Parse "meta:v21.0=2026-09-01,google:v19=2026-02-01" into {(platform, version): date}."""
    out: dict[tuple[str, str], date] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            target, when = item.split("=", 1)
            platform, version = target.split(":", 1)
            out[(platform.strip(), version.strip())] = date.fromisoformat(when.strip())
        except ValueError:
            raise SettingsError(
                f"ADFLUX_API_VERSION_SUNSETS: {item!r} is not platform:version=YYYY-MM-DD"
            ) from None
    return out


def _validate_database_url(uri: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(uri)
    except ArgumentError:
        raise SettingsError(
            "DATABASE_URL is not a database URL (e.g. postgresql://user@host/db or sqlite:///path/adflux.db)"
        ) from None


def _validate_security(settings: Settings) -> None:
    """Refuse session and limit values that would switch a defence off by accident."""
    if not 0 < settings.session_lifetime_hours <= 24 * 31:
        raise SettingsError("ADFLUX_SESSION_LIFETIME_HOURS must be more than 0 and at most 744 (31 days)")
    if settings.session_idle_minutes < 0:
        raise SettingsError("ADFLUX_SESSION_IDLE_MINUTES must be 0 (off) or more")
    if settings.sign_in_free_attempts < 1:
        raise SettingsError("ADFLUX_SIGN_IN_FREE_ATTEMPTS must be at least 1")
    if settings.sign_in_max_delay_account_seconds < 1 or settings.sign_in_max_delay_address_seconds < 1:
        raise SettingsError("ADFLUX_SIGN_IN_MAX_DELAY_*_SECONDS must be at least 1")
    if not 0 <= settings.proxy_hops <= 5:
        raise SettingsError("ADFLUX_PROXY_HOPS must be between 0 and 5")
    if settings.api_rate_limit_per_minute < 0:
        raise SettingsError("ADFLUX_API_RATE_LIMIT_PER_MINUTE must be 0 (off) or more")
    if not 2 <= settings.max_json_depth <= 500:
        raise SettingsError("ADFLUX_MAX_JSON_DEPTH must be between 2 and 500")
    if settings.max_json_bytes < 1024:
        raise SettingsError("ADFLUX_MAX_JSON_BYTES must be at least 1024")
    parse_networks(settings.ops_allowed_addresses)


def parse_networks(raw: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``"127.0.0.1,10.0.0.0/8"`` as networks; SettingsError if an item is not an address."""
    networks = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                f"ADFLUX_OPS_ALLOWED_ADDRESSES: {item!r} is not an address or network"
            ) from None
    return networks


def _validate_campaign_alerts(settings: Settings) -> None:
    if not 0 < settings.alert_pacing_tolerance < 1:
        raise SettingsError("ADFLUX_ALERT_PACING_TOLERANCE must be a fraction in (0, 1), e.g. 0.10")


def _validate_operations(settings: Settings) -> None:
    """Refuse thresholds that cannot mean anything, so a typo fails at start-up, not at 3 a.m."""
    if not 0 < settings.alert_error_rate <= 1:
        raise SettingsError("ADFLUX_ALERT_ERROR_RATE must be a fraction in (0, 1], e.g. 0.05")
    if not 0 < settings.alert_db_connection_ratio <= 1 or not 0 < settings.alert_cpu_ratio <= 1:
        raise SettingsError("ADFLUX_ALERT_DB_CONNECTION_RATIO and ADFLUX_ALERT_CPU_RATIO must be in (0, 1]")
    if settings.alert_sync_failures < 1:
        raise SettingsError("ADFLUX_ALERT_SYNC_FAILURES must be at least 1")
    if settings.feed_max_bytes < 1 or settings.feed_close_grace_hours < 0:
        raise SettingsError("ADFLUX_FEED_MAX_BYTES must be positive, ADFLUX_FEED_CLOSE_GRACE_HOURS 0 or more")
    if settings.alert_window_minutes < 1:
        raise SettingsError("ADFLUX_ALERT_WINDOW_MINUTES must be at least 1")
    if settings.backup_keep < 1:
        raise SettingsError("ADFLUX_BACKUP_KEEP must be at least 1 (the newest backup is never deleted)")
    if settings.metrics_retention_days < 0:
        raise SettingsError("ADFLUX_METRICS_RETENTION_DAYS must be 0 (keep forever) or more")
    for name in ("task_run_retention_days", "alert_retention_days", "audit_retention_days"):
        if getattr(settings, name) < 1:
            raise SettingsError(f"ADFLUX_{name.upper()} must be at least 1 day")
    if settings.alert_email_to and not (settings.smtp_host and settings.alert_email_from):
        raise SettingsError("ADFLUX_ALERT_EMAIL_TO needs ADFLUX_SMTP_HOST and ADFLUX_ALERT_EMAIL_FROM")
    if settings.alert_sms_to and not (
        settings.alert_sms_from and settings.alert_sms_account_sid and settings.alert_sms_auth_token
    ):
        raise SettingsError(
            "ADFLUX_ALERT_SMS_TO needs ADFLUX_ALERT_SMS_FROM, ADFLUX_ALERT_SMS_ACCOUNT_SID and "
            "ADFLUX_ALERT_SMS_AUTH_TOKEN"
        )
    for name in ("alert_sms_severities", "alert_email_severities"):
        unknown = set(parse_severities(getattr(settings, name))) - set(ALERT_SEVERITIES)
        if unknown:
            raise SettingsError(f"ADFLUX_{name.upper()}: unknown severity {sorted(unknown)[0]!r}")
    if settings.alert_min_web_processes < 0 or settings.alert_min_workers_per_queue < 0:
        raise SettingsError("ADFLUX_ALERT_MIN_WEB_PROCESSES, ADFLUX_ALERT_MIN_WORKERS_PER_QUEUE: 0 or more")
    parse_api_version_sunsets(settings.api_version_sunsets)


def parse_severities(raw: str) -> tuple[str, ...]:
    """``"critical,warning"`` as a tuple of severity names (lower case, blanks dropped)."""
    return tuple(part.strip().lower() for part in raw.split(",") if part.strip())


def parse_rate_limits(raw: str) -> dict[str, float]:
    """``"meta=40,google=15"`` as ``{"meta": 40.0, "google": 15.0}``; SettingsError if malformed."""

    limits: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        platform, _, rate = (text.strip() for text in item.partition("="))
        try:
            per_second = float(rate)
        except ValueError:
            per_second = 0.0
        if platform.lower() not in PLATFORMS or not per_second > 0:
            raise SettingsError(
                f"ADFLUX_SANDBOX_RATE_LIMITS: {item!r} is not <platform>=<calls per second> "
                f"(platforms: {', '.join(PLATFORMS)})"
            )
        limits[platform.lower()] = per_second
    return limits


def normalise_database_url(url: str) -> str:
    """Accept the URL spellings operators paste and pick the psycopg 3 driver for PostgreSQL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _parse(raw: str, type_: Any, name: str) -> Any:
    base = type_
    if getattr(type_, "__args__", None):  # Optional[X] / X | None
        base = next(a for a in type_.__args__ if a is not type(None))
    try:
        if base is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if base is int:
            return int(raw)
        if base is float:
            return float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid {base.__name__}") from None
    return raw


def current_settings(app: Flask | None = None) -> Settings:
    """The settings of `app`, by default of the current Flask app: the one way code reads them."""
    settings: Settings = (current_app if app is None else app).extensions[EXTENSION_KEY]
    return settings
