"""Vocabularies shared by every layer (the sandbox may import this module and nothing else)."""

from __future__ import annotations

PLATFORMS: tuple[str, ...] = ("meta", "google", "x", "tiktok", "snapchat")
PLATFORM_LABELS: dict[str, str] = {
    "meta": "Meta",
    "google": "Google Ads",
    "x": "X",
    "tiktok": "TikTok",
    "snapchat": "Snapchat",
}

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
    "completed",
    "archived",
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
