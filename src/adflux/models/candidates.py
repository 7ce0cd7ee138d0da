"""Candidates: the audience AdFlux segments and, with consent, targets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from adflux.extensions import Model
from adflux.models.base import BigId, JSONType, TimestampMixin, UTCDateTime
from adflux.models.skills_text import install as install_skills_text


class Candidate(TimestampMixin, Model):
    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    birth_year: Mapped[int] = mapped_column(SmallInteger)
    city: Mapped[str] = mapped_column(String(80))
    department: Mapped[str] = mapped_column(String(80))
    education_level: Mapped[str] = mapped_column(String(20))
    years_experience: Mapped[int] = mapped_column(SmallInteger, default=0)
    desired_category: Mapped[str] = mapped_column(String(40))
    desired_modality: Mapped[str] = mapped_column(String(20))
    # Whole Colombian pesos per month.
    expected_salary: Mapped[int] = mapped_column(Integer)
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # `skills` joined by U+001F, derived and kept in step (models/skills_text.py): read in bulk by
    # the segmentation instead of rendering the jsonb as text.
    skills_text: Mapped[str | None] = mapped_column(Text)
    languages: Mapped[list[str]] = mapped_column(JSONType, default=list)
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # PII: never logged, never sent anywhere except as a normalised SHA-256 hash with consent.
    email: Mapped[str | None] = mapped_column(String(254))
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_candidates_city", "city"),
        Index("ix_candidates_education_level", "education_level"),
        Index("ix_candidates_desired_category", "desired_category"),
    )

    def __repr__(self) -> str:
        return f"<Candidate {self.id} {self.external_ref!r}>"


install_skills_text(Candidate.__table__, Candidate)


class CandidatePersona(Model):
    """The hidden persona a simulated candidate was drawn from.

    Evaluation only: segmentation quality is measured against it; it is never a feature and
    never leaves the system.
    """

    __tablename__ = "candidate_personas"

    candidate_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("candidates.id", ondelete="CASCADE"), primary_key=True
    )
    persona: Mapped[str] = mapped_column(String(40))
    persona_index: Mapped[int] = mapped_column(Integer)
