"""The rows every metrics bench starts from: one job opening and its campaigns, inserted in bulk."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select

from adflux.extensions import db
from adflux.models import Campaign
from adflux.services import jobs as jobs_service


def job_and_campaigns(external_ref: str, campaigns: int, first_day: date) -> list[int]:
    """A job opening through the service, then `campaigns` active campaigns for it from `first_day`
    (one multi-row INSERT); their ids in order."""
    job = jobs_service.create_job(
        data={
            "external_ref": external_ref,
            "title": "Analista de datos",
            "description": "SQL, Python y tableros.",
            "company": "Acme Colombia S.A.S.",
            "city": "Medellín",
            "department": "Antioquia",
            "category": "tecnologia",
            "modality": "remoto",
            "apply_url": "https://empleos.example.co/ofertas/2",
        }
    )
    db.session.execute(
        insert(Campaign),
        [
            {
                "job_id": job.id,
                "name": f"Campaña {i}",
                "objective": "traffic",
                "budget_total": 30_000_000,
                "start_date": first_day,
                "status": "active",
            }
            for i in range(campaigns)
        ],
    )
    return list(db.session.scalars(select(Campaign.id).order_by(Campaign.id)).all())
