"""Vocabularies shared by every layer (the sandbox may import this module and nothing else)."""

from __future__ import annotations

from typing import Any

PLATFORMS: tuple[str, ...] = ("meta", "google", "x", "tiktok", "snapchat")
# The hosts of each platform's official API: the only base URLs a production account may use.
OFFICIAL_API_HOSTS: dict[str, tuple[str, ...]] = {
    "meta": ("graph.facebook.com",),
    "google": ("googleads.googleapis.com",),
    "x": ("ads-api.x.com", "ads-api.twitter.com"),
    "tiktok": ("business-api.tiktok.com",),
    "snapchat": ("adsapi.snapchat.com",),
}
PLATFORM_LABELS: dict[str, str] = {
    "meta": "Meta",
    "google": "Google Ads",
    "x": "X",
    "tiktok": "TikTok",
    "snapchat": "Snapchat",
}
# The smallest custom (customer-list) audience each platform delivers to, in matched people:
# X "can only be targeted if it matches at least 100 users" (developer.x.com, custom audiences);
# Google: 100 active users on every network since Dec 2024 (Audience manager help); Meta: 100
# matched people for a customer list [3p]; TikTok: "1,000 total matched users ... to use it in an
# ad group" (ads.tiktok.com/help); Snapchat: 1,000 matched Snapchatters (Snap Audience Match) [3p].
# A segment with fewer members than this can never reach it, whatever the match rate.
MIN_CUSTOM_AUDIENCE: dict[str, int] = {
    "meta": 100,
    "google": 100,
    "x": 100,
    "tiktok": 1_000,
    "snapchat": 1_000,
}


def too_small_for(size: int, platforms: tuple[str, ...] | list[str] = PLATFORMS) -> list[str]:
    """The platforms (of `platforms`) whose minimum custom audience is larger than `size`."""
    return [p for p in platforms if size < MIN_CUSTOM_AUDIENCE.get(p, 0)]


def audience_shortfall(size: int, platform: str) -> str:
    """Why a segment of `size` candidates is not offered on `platform`, in Spanish."""
    return (
        f"{size:,} candidatos; {PLATFORM_LABELS.get(platform, platform)} exige al menos "
        f"{MIN_CUSTOM_AUDIENCE[platform]:,} personas en una audiencia personalizada"
    ).replace(",", ".")


# The Colombian education ladder, lowest to highest; the position is the ordinal feature.
EDUCATION_LEVELS: tuple[str, ...] = (
    "bachiller",
    "tecnico",
    "tecnologo",
    "profesional",
    "especializacion",
    "maestria",
    "doctorado",
)
EDUCATION_LABELS: dict[str, str] = {
    "bachiller": "Bachiller",
    "tecnico": "Técnico",
    "tecnologo": "Tecnólogo",
    "profesional": "Profesional",
    "especializacion": "Especialización",
    "maestria": "Maestría",
    "doctorado": "Doctorado",
}

MODALITIES: tuple[str, ...] = ("presencial", "remoto", "hibrido")
MODALITY_LABELS: dict[str, str] = {"presencial": "Presencial", "remoto": "Remoto", "hibrido": "Híbrido"}

JOB_CATEGORIES: tuple[str, ...] = (
    "tecnologia",
    "ventas",
    "servicio_cliente",
    "administracion",
    "contabilidad_finanzas",
    "salud",
    "logistica_transporte",
    "produccion_operarios",
    "educacion",
    "ingenieria",
    "construccion",
    "mercadeo_publicidad",
    "recursos_humanos",
    "hoteleria_turismo",
    "legal",
)
JOB_CATEGORY_LABELS: dict[str, str] = {
    "tecnologia": "Tecnología",
    "ventas": "Ventas",
    "servicio_cliente": "Servicio al cliente",
    "administracion": "Administración",
    "contabilidad_finanzas": "Contabilidad y finanzas",
    "salud": "Salud",
    "logistica_transporte": "Logística y transporte",
    "produccion_operarios": "Producción y operarios",
    "educacion": "Educación",
    "ingenieria": "Ingeniería",
    "construccion": "Construcción",
    "mercadeo_publicidad": "Mercadeo y publicidad",
    "recursos_humanos": "Recursos humanos",
    "hoteleria_turismo": "Hotelería y turismo",
    "legal": "Legal",
}

JOB_STATUSES: tuple[str, ...] = ("open", "closed")
CURRENCY = "COP"
COUNTRY = "CO"

ROLES: tuple[str, ...] = ("viewer", "manager", "admin")

CAMPAIGN_OBJECTIVES: tuple[str, ...] = ("traffic", "leads")
CAMPAIGN_STATUSES: tuple[str, ...] = (
    "draft",
    "publishing",
    "active",
    "partially_active",
    "failed",
    "paused",
    "partially_paused",
    "completed",
    "partially_completed",
    "archived",
    "partially_archived",
)
PLATFORM_CAMPAIGN_STATUSES: tuple[str, ...] = (
    "pending",
    "publishing",
    "active",
    "paused",
    "failed",
    "archived",
)
TASK_STATUSES: tuple[str, ...] = ("pending", "running", "succeeded", "failed")
SEGMENTATION_MODEL_STATUSES: tuple[str, ...] = ("candidate", "active", "retired")
ALERT_STATUSES: tuple[str, ...] = ("open", "resolved")

# Statuses as the Spanish-speaking people who use the command line read them (the dashboard
# translates the same codes through its message catalogue). Filters and --json keep the codes.
STATUS_NAMES_ES: dict[str, str] = {
    "open": "abierta",
    "closed": "cerrada",
    "draft": "borrador",
    "publishing": "publicando",
    "active": "activa",
    "partially_active": "parcialmente activa",
    "partially_paused": "parcialmente pausada",
    "partially_completed": "parcialmente finalizada",
    "partially_archived": "parcialmente archivada",
    "failed": "fallida",
    "paused": "pausada",
    "completed": "finalizada",
    "archived": "archivada",
    "pending": "pendiente",
    "running": "en curso",
    "succeeded": "completada",
    "candidate": "candidata",
    "retired": "retirada",
    "resolved": "resuelta",
}

# Background work: the Celery queues, and the tasks services enqueue by name (services never
# import tasks/; the app registers these names when it wires Celery in).
QUEUES: tuple[str, ...] = ("default", "publishing", "sync", "training", "maintenance", "automation")
TASK_PUBLISH_PLATFORM_CAMPAIGN = "adflux.tasks.publishing.publish_platform_campaign"
TASK_APPLY_PLATFORM_CHANGE = "adflux.tasks.campaign_changes.apply_platform_change"
TASK_SYNC_METRICS = "adflux.tasks.metrics.sync_metrics"
TASK_TRAIN_SEGMENTATION = "adflux.tasks.segmentation.train_segmentation"
TASK_RUN_FEED = "adflux.tasks.feeds.run_feed"
TASK_FOLLOW_JOB = "adflux.tasks.feeds.follow_job"
TASK_IMPORT_FILE = "adflux.tasks.imports.import_file"
RULE_METRICS: tuple[str, ...] = (
    "spend",
    "applications",
    "cpa",
    "ctr",
    "cpc",
    "frequency",
    "pacing",
    "days_left",
)
RULE_OPERATORS: tuple[str, ...] = (">", ">=", "<", "<=")
RULE_ACTIONS: tuple[str, ...] = ("pause", "resume", "budget", "notify")
RULE_LEVELS: tuple[str, ...] = ("campaign", "platform_campaign", "ad_group")
RULE_CPA_MODES: tuple[str, ...] = ("lag_aware", "matured", "raw")
# Which applications a rule counts: as each platform reports them (the default, what every rule
# did before first-hand measurement) or first-hand, from the portal's attributed postbacks.
APPLICATIONS_SOURCES: tuple[str, ...] = ("platform", "first_hand")
RULE_TEMPLATES: tuple[str, ...] = ("stop_loss", "scale_winners", "revive", "end_of_flight")
PACING_MODES: tuple[str, ...] = ("even", "front_loaded")
RULE_METRIC_LABELS: dict[str, str] = {
    "spend": "Gasto",
    "applications": "Postulaciones",
    "cpa": "CPA",
    "ctr": "CTR",
    "cpc": "CPC",
    "frequency": "Frecuencia",
    "pacing": "Ritmo de gasto",
    "days_left": "Días restantes",
}
RULE_ACTION_LABELS: dict[str, str] = {
    "pause": "Pausar",
    "resume": "Reanudar",
    "budget": "Cambiar presupuesto diario",
    "notify": "Notificar",
}
PACING_WARNING_LABELS: dict[str, str] = {
    "cannot_land": "No alcanzará el presupuesto total (audiencia pequeña o plataforma que no entrega)",
    "no_end_date": "Sin fecha de fin: se aplica un tope mensual",
    "ahead": "Gastando por encima del plan",
    "behind": "Gastando por debajo del plan",
    "ended": "La campaña terminó su vuelo",
}
TASK_EVALUATE_OPTIMIZATION = "adflux.tasks.optimization.evaluate_optimization"

# Reports group by these dimensions; imports read these formats.
REPORT_DIMENSIONS: tuple[str, ...] = ("campaign", "platform", "segment", "category", "day")
# Rows per page of the performance report through the API (its CSV export streams every row).
REPORT_PAGE_DEFAULT = 100
REPORT_PAGE_MAX = 1000
IMPORT_FORMATS: tuple[str, ...] = ("csv", "json", "jsonl", "xml")

# The WSGI environ key by which the CLI's in-process client is the local admin: only a wrapper
# around the app can set it, never an HTTP caller.
LOCAL_ADMIN_ENVIRON_KEY = "adflux.local_admin"
# The rate-limit verdict a WSGI fast path already counted for this request, as (token id, verdict):
# the Flask route it hands the request to uses it instead of counting the call a second time.
RATE_VERDICT_ENVIRON_KEY = "adflux.rate_verdict"

# API tokens (`adf_<prefix>_<secret>`) and passwords.
TOKEN_SCHEME = "adf"
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 730
MIN_PASSWORD_LENGTH = 10

# Alert rules by name (their thresholds and texts live in monitoring/alert_rules.py) and severities.
ALERT_SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
ALERT_RULE_NAMES: tuple[str, ...] = (
    "high_error_rate",
    "high_latency",
    "queue_backlog",
    "no_worker_alive",
    "broker_unavailable",
    "db_connection_saturation",
    "database_cpu_high",
    "disk_space_low",
    "platform_throttling",
    "token_expiring",
    "api_version_sunset",
    "campaign_cpa_above_target",
    "campaign_pacing_off",
    "segmentation_drift",
    "metrics_sync_failing",
    "campaign_action_incomplete",
    "job_feed_failing",
    "campaign_awaiting_approval",
)

# The platform accounts AdFlux uses when an admin configured none: ids in each platform's own
# format and the tokens registered for the sandbox's test accounts (the sandbox accepts only these
# and the tokens its OAuth endpoints issue; the X sandbox verifies OAuth 1.0a signatures against
# its own key pair, which the sandbox reads from here).
SANDBOX_X_CREDENTIALS: dict[str, str] = {
    "consumer_key": "sandbox-consumer-key",
    "consumer_secret": "sandbox-consumer-secret",
    "access_token": "sandbox-access-token",
    "access_token_secret": "sandbox-access-token-secret",
}
# The sandbox's Google OAuth client and the refresh token registered for its test account: the
# Google adapter exchanges it for access tokens at the sandbox's token endpoint.
SANDBOX_GOOGLE_OAUTH: dict[str, str] = {
    "client_id": "100000000001-sandbox.apps.googleusercontent.com",
    "client_secret": "sandbox-google-client-secret",
    "refresh_token": "1//sandbox-google-refresh-token",
}
SANDBOX_ACCOUNTS: dict[str, dict[str, Any]] = {
    "meta": {
        "account_id": "act_1000000001",
        "credentials": {"access_token": "sandbox-meta-token"},
        "extra": {"page_id": "100000000000001", "pixel_id": "1000000000000042"},
    },
    "google": {
        "account_id": "1234567890",
        "credentials": {
            "access_token": "sandbox-google-token",
            "developer_token": "sandbox-dev-token",
            **SANDBOX_GOOGLE_OAUTH,
        },
        "extra": {"conversion_action_id": "900000001"},
    },
    "x": {
        "account_id": "18ce54d4x5t",
        "credentials": SANDBOX_X_CREDENTIALS,
        "extra": {"pixel_id": "o8z6j", "event_tag_id": "tw-o8z6j-o8z2x", "as_user_id": "1500000000000000001"},
    },
    "tiktok": {
        "account_id": "7000000000000000001",
        "credentials": {"access_token": "sandbox-tiktok-token"},
        "extra": {"pixel_code": "CSANDBOXPIXEL0000001"},
    },
    "snapchat": {
        "account_id": "8b1a4c4e-6a3f-4d5e-9b1f-0a2b3c4d5e6f",
        "credentials": {"access_token": "sandbox-snap-token"},
        "extra": {"pixel_id": "5c2b1a0f-0e1d-4c3b-8a79-6f5e4d3c2b1a"},
    },
}


# The orders a campaign list can take (API `sort`, dashboard list); ties: newest first.
CAMPAIGN_LIST_SORTS = ("newest", "name", "start_date", "budget", "spend", "applications", "cpa", "status")
