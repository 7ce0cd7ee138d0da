"""Vectorised generator of simulated Colombian candidates drawn from hidden personas."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adflux.constants import EDUCATION_LEVELS, JOB_CATEGORIES, MODALITIES
from adflux.simulation.geography import CITY_DEPARTMENTS, CITY_NAMES
from adflux.simulation.market import MAXIMUM_EXPECTED_SALARY, MINIMUM_WAGE, SALARY_ROUNDING
from adflux.simulation.mixes import PersonaMix, mixed_tables
from adflux.simulation.personas import LANGUAGES, PERSONA_NAMES, SKILLS, PersonaTables
from adflux.simulation.streams import BLOCK_SIZE, CANDIDATE_STREAM, block_rng, blocks_for

logger = logging.getLogger(__name__)

# The default "today" of the simulation: fixed, so the same seed gives the same rows on any day.
# The seeding service passes the real date so activity looks recent in a live database.
DEFAULT_AS_OF = datetime(2026, 1, 1, tzinfo=UTC)

MIN_AGE = 18
MAX_AGE = 65
# Correlation between age and experience within a persona (older people have worked longer).
_AGE_EXPERIENCE_CORRELATION = 0.6
# Each year of experience above the persona's typical one raises the expectation by ~1.5 %.
_SALARY_PER_EXTRA_YEAR = 0.015
MARKETING_CONSENT_RATE = 0.7
# Mean days since last activity (exponential: most candidates were active recently).
_MEAN_DAYS_INACTIVE = 45.0
_MAX_DAYS_INACTIVE = 730
_RARE_LANGUAGE_RATE = 0.02

CANDIDATE_REF_PREFIX = "SIM-C-"
EMAIL_DOMAIN = "example.com"  # reserved by RFC 2606: mail to it never reaches anyone
# The Candidate model's columns in table order (without id and timestamps).
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "external_ref",
    "birth_year",
    "city",
    "department",
    "education_level",
    "years_experience",
    "desired_category",
    "desired_modality",
    "expected_salary",
    "skills",
    "languages",
    "last_active_at",
    "email",
    "marketing_consent",
)

_CITY = np.array(CITY_NAMES, dtype=object)
_DEPARTMENT = np.array(CITY_DEPARTMENTS, dtype=object)
_EDUCATION = np.array(EDUCATION_LEVELS, dtype=object)
_CATEGORY = np.array(JOB_CATEGORIES, dtype=object)
_MODALITY = np.array(MODALITIES, dtype=object)
_PERSONA = np.array(PERSONA_NAMES, dtype=object)
# Names go into JSON and COPY text unescaped (see `mask_json_text`), so they must need no escaping.
assert not any(set(name) & set('"\\\t\n\r') for name in SKILLS + LANGUAGES)


@dataclass(frozen=True, eq=False)
class CandidateBatch:
    """Simulated candidates in columns: numpy arrays of codes and numbers, decoded on demand.

    Categorical columns are stored as small integer codes into the public vocabularies
    (`CITY_NAMES`, `EDUCATION_LEVELS`, `JOB_CATEGORIES`, `MODALITIES`, `PERSONA_NAMES`), skills and
    languages as bit masks over `SKILLS` and `LANGUAGES`. Properties named after the Candidate
    model's columns (`city`, `education_level`, `skills`, `external_ref`, ...) return decoded
    values; `to_arrow()` gives the model's columns as an Arrow table without Python loops.
    """

    row_index: np.ndarray  # int64: position in the simulated population (refs derive from it)
    persona_index: np.ndarray  # int8 into PERSONA_NAMES (evaluation only, never a feature)
    birth_year: np.ndarray  # int16
    city_code: np.ndarray  # int8 into CITY_NAMES / CITY_DEPARTMENTS
    education_code: np.ndarray  # int8 into EDUCATION_LEVELS: also the education ordinal
    years_experience: np.ndarray  # int16
    category_code: np.ndarray  # int8 into JOB_CATEGORIES
    modality_code: np.ndarray  # int8 into MODALITIES
    expected_salary: np.ndarray  # int32, whole COP per month
    skills_mask: np.ndarray  # uint64, bit i = SKILLS[i]
    languages_mask: np.ndarray  # uint8, bit i = LANGUAGES[i]
    last_active_at: np.ndarray  # datetime64[us], UTC
    marketing_consent: np.ndarray  # bool
    as_of: datetime  # the simulation's "today": ages are as_of.year - birth_year

    def __len__(self) -> int:
        return int(self.row_index.shape[0])

    # ---- decoded columns ----------------------------------------------------------------------
    @property
    def external_ref(self) -> np.ndarray:
        return _numbered(CANDIDATE_REF_PREFIX, self.row_index + 1, "")

    @property
    def email(self) -> np.ndarray:
        return _numbered("c", self.row_index + 1, f"@{EMAIL_DOMAIN}")

    @property
    def city(self) -> np.ndarray:
        return _CITY[self.city_code]

    @property
    def department(self) -> np.ndarray:
        return _DEPARTMENT[self.city_code]

    @property
    def education_level(self) -> np.ndarray:
        return _EDUCATION[self.education_code]

    @property
    def desired_category(self) -> np.ndarray:
        return _CATEGORY[self.category_code]

    @property
    def desired_modality(self) -> np.ndarray:
        return _MODALITY[self.modality_code]

    @property
    def persona(self) -> np.ndarray:
        return _PERSONA[self.persona_index]

    @property
    def age(self) -> np.ndarray:
        return (self.as_of.year - self.birth_year.astype(np.int16)).astype(np.int16)

    @property
    def skills(self) -> list[list[str]]:
        return self._arrow_skills().to_pylist()

    @property
    def languages(self) -> list[list[str]]:
        return self._arrow_languages().to_pylist()

    def skills_matrix(self) -> np.ndarray:
        """Multi-hot skills, shape (n, len(SKILLS)), column i = SKILLS[i]."""
        return _unpack_mask(self.skills_mask, len(SKILLS))

    def languages_matrix(self) -> np.ndarray:
        """Multi-hot languages, shape (n, len(LANGUAGES))."""
        return _unpack_mask(self.languages_mask, len(LANGUAGES))

    # ---- reshaping ----------------------------------------------------------------------------
    def take(self, indices: np.ndarray | Sequence[int] | slice) -> CandidateBatch:
        """The rows at `indices` (positions in this batch, a boolean mask or a slice)."""
        idx = indices if isinstance(indices, slice) else np.asarray(indices)
        arrays = {f.name: getattr(self, f.name)[idx] for f in fields(self) if f.name != "as_of"}
        return CandidateBatch(**arrays, as_of=self.as_of)

    @classmethod
    def concat(cls, batches: Sequence[CandidateBatch]) -> CandidateBatch:
        """Join batches end to end (they must share `as_of`)."""
        if not batches:
            raise ValueError("nothing to concatenate")
        if len({b.as_of for b in batches}) != 1:
            raise ValueError("batches were generated for different as_of dates")
        arrays = {
            f.name: np.concatenate([getattr(b, f.name) for b in batches])
            for f in fields(cls)
            if f.name != "as_of"
        }
        return cls(**arrays, as_of=batches[0].as_of)

    # ---- export -------------------------------------------------------------------------------
    def to_arrow(self, *, include_persona: bool = True, json_lists: bool = False) -> pa.Table:
        """The Candidate model's columns (plus persona and persona_index) as an Arrow table.

        Skills and languages are list<string> columns, or JSON array text with `json_lists`
        (what a JSON/JSONB column takes in COPY).
        """
        if json_lists:
            skills: pa.Array = mask_json_text(self.skills_mask, SKILLS)
            languages: pa.Array = mask_json_text(self.languages_mask, LANGUAGES)
        else:
            skills, languages = self._arrow_skills(), self._arrow_languages()
        columns: dict[str, pa.Array] = {
            "external_ref": _arrow_numbered(CANDIDATE_REF_PREFIX, self.row_index + 1, ""),
            "birth_year": pa.array(self.birth_year, pa.int16()),
            "city": _arrow_decode(CITY_NAMES, self.city_code),
            "department": _arrow_decode(CITY_DEPARTMENTS, self.city_code),
            "education_level": _arrow_decode(EDUCATION_LEVELS, self.education_code),
            "years_experience": pa.array(self.years_experience, pa.int16()),
            "desired_category": _arrow_decode(JOB_CATEGORIES, self.category_code),
            "desired_modality": _arrow_decode(MODALITIES, self.modality_code),
            "expected_salary": pa.array(self.expected_salary, pa.int32()),
            "skills": skills,
            "languages": languages,
            "last_active_at": pa.array(self.last_active_at, pa.timestamp("us", tz="UTC")),
            "email": _arrow_numbered("c", self.row_index + 1, f"@{EMAIL_DOMAIN}"),
            "marketing_consent": pa.array(self.marketing_consent, pa.bool_()),
        }
        if include_persona:
            columns["persona"] = _arrow_decode(PERSONA_NAMES, self.persona_index)
            columns["persona_index"] = pa.array(self.persona_index, pa.int16())
        return pa.table(columns)

    def to_frame(self) -> Any:
        """A pandas DataFrame of `to_arrow()` plus `age` (skills and languages as lists)."""
        frame = self.to_arrow().to_pandas(maps_as_pydicts="strict")
        frame.insert(2, "age", self.age)
        return frame

    def to_records(self, *, include_persona: bool = False) -> list[dict[str, Any]]:
        """One dict per candidate with Python values (aware datetimes, lists), for ORM-style use."""
        return self.to_arrow(include_persona=include_persona).to_pylist()

    def joined_skills(self, separator: str) -> pa.Array:
        """Each candidate's skills joined by `separator` (no simulated skill contains a control character)."""
        return pc.binary_join(self._arrow_skills(), separator)

    def _arrow_skills(self) -> pa.ListArray:
        return _arrow_mask_lists(self.skills_mask, SKILLS)

    def _arrow_languages(self) -> pa.ListArray:
        return _arrow_mask_lists(self.languages_mask, LANGUAGES)


def generate_candidates(
    n: int, *, seed: int, start: int = 0, as_of: datetime | None = None, mix: PersonaMix | None = None
) -> CandidateBatch:
    """Rows [start, start + n) of the simulated candidate population for `seed`.

    `as_of` is the simulation's "today" (birth years and last activity are relative to it);
    it defaults to the fixed `DEFAULT_AS_OF` so a seed means the same rows on any day. `mix`
    sets persona shares, overlap and noise (`simulation.mixes`); the default mix gives the very
    rows it always gave.
    """
    as_of = _utc(as_of or DEFAULT_AS_OF)
    mix = mix or PersonaMix()
    tables = mixed_tables(mix)
    blocks = [_generate_block(seed, b, as_of, tables, mix.noise) for b in blocks_for(start, n)]
    if not blocks:
        return _empty_batch(as_of)
    whole = CandidateBatch.concat(blocks)
    offset = start - blocks_for(start, n).start * BLOCK_SIZE
    return whole.take(slice(offset, offset + n))


def _generate_block(
    seed: int, block: int, as_of: datetime, t: PersonaTables, noise: float = 0.0
) -> CandidateBatch:
    """All BLOCK_SIZE rows of one block, drawn in a fixed order from the block's own generator.

    The order of the draws is part of what a seed means: reordering them changes every row.
    Noise draws come last, and only with noise, so noise-free mixes keep their rows.
    """
    rng = block_rng(seed, CANDIDATE_STREAM, block)
    m = BLOCK_SIZE
    persona = np.searchsorted(np.cumsum(t.weights), rng.random(m), side="right")
    persona = np.minimum(persona, len(t.weights) - 1).astype(np.int8)
    age, experience = _draw_age_and_experience(rng, persona, t)
    education = _sample_rows(t.education_cdf, persona, rng.random(m))
    salary = _draw_salary(rng, persona, experience, t)
    city = _sample_rows(t.city_cdf, persona, rng.random(m))
    category = _sample_rows(t.category_cdf, persona, rng.random(m))
    modality = _sample_rows(t.modality_cdf, persona, rng.random(m))
    skills_mask = _pack_mask(rng.random((m, len(SKILLS))) < t.skill_probabilities[persona])
    languages_mask = _draw_languages(rng, persona, t)
    last_active = _draw_last_active(rng, m, as_of)
    consent = rng.random(m) < MARKETING_CONSENT_RATE
    if noise > 0:
        # Candidates who do not fit their persona: their categorical answers from a random one.
        noisy = rng.random(m) < noise
        other = rng.integers(0, len(t.weights), m).astype(np.int8)
        for codes, cdf in (
            (education, t.education_cdf),
            (city, t.city_cdf),
            (category, t.category_cdf),
            (modality, t.modality_cdf),
        ):
            codes[noisy] = _sample_rows(cdf, other, rng.random(m))[noisy]
    return CandidateBatch(
        row_index=np.arange(block * m, (block + 1) * m, dtype=np.int64),
        persona_index=persona,
        birth_year=(as_of.year - age).astype(np.int16),
        city_code=city,
        education_code=education,
        years_experience=experience.astype(np.int16),
        category_code=category,
        modality_code=modality,
        expected_salary=salary.astype(np.int32),
        skills_mask=skills_mask,
        languages_mask=languages_mask,
        last_active_at=last_active,
        marketing_consent=consent,
        as_of=as_of,
    )


def _draw_age_and_experience(
    rng: np.random.Generator, persona: np.ndarray, t: PersonaTables
) -> tuple[np.ndarray, np.ndarray]:
    """Ages around the persona's, and years of experience correlated with them (floats, whole)."""
    m = len(persona)
    age = np.rint(t.age_mean[persona] + t.age_sd[persona] * rng.standard_normal(m))
    age = np.clip(age, MIN_AGE, MAX_AGE)
    # Experience follows age within the persona, but never starts before 16.
    rho = _AGE_EXPERIENCE_CORRELATION
    z_age = (age - t.age_mean[persona]) / t.age_sd[persona]
    z_exp = rho * z_age + np.sqrt(1 - rho**2) * rng.standard_normal(m)
    experience = np.rint(t.experience_mean[persona] + t.experience_sd[persona] * z_exp)
    return age, np.clip(experience, 0, np.maximum(age - 16, 0))


def _draw_salary(
    rng: np.random.Generator, persona: np.ndarray, experience: np.ndarray, t: PersonaTables
) -> np.ndarray:
    """Expected monthly salaries: log-normal around the persona's, more with more experience."""
    log_salary = (
        t.log_salary_median[persona]
        + t.salary_sigma[persona] * rng.standard_normal(len(persona))
        + _SALARY_PER_EXTRA_YEAR * (experience - t.experience_mean[persona])
    )
    salary = np.rint(np.exp(log_salary) / SALARY_ROUNDING) * SALARY_ROUNDING
    # Nobody may ask for less than the legal minimum wage; many ask for exactly that.
    return np.clip(salary, MINIMUM_WAGE, MAXIMUM_EXPECTED_SALARY)


def _draw_languages(rng: np.random.Generator, persona: np.ndarray, t: PersonaTables) -> np.ndarray:
    """Language bit masks over LANGUAGES: Spanish for all, English by persona, two rare ones."""
    lang = rng.random((len(persona), 3))
    return (
        np.uint8(1)  # Spanish: everyone
        | ((lang[:, 0] < t.english[persona]).astype(np.uint8) << 1)
        | ((lang[:, 1] < _RARE_LANGUAGE_RATE).astype(np.uint8) << 2)
        | ((lang[:, 2] < _RARE_LANGUAGE_RATE).astype(np.uint8) << 3)
    ).astype(np.uint8)


def _draw_last_active(rng: np.random.Generator, m: int, as_of: datetime) -> np.ndarray:
    """Last activity before `as_of`: exponential, recent for most, capped; whole seconds, UTC."""
    seconds_inactive = np.minimum(
        rng.exponential(_MEAN_DAYS_INACTIVE * 86_400, m), _MAX_DAYS_INACTIVE * 86_400
    )
    as_of64 = np.datetime64(as_of.replace(tzinfo=None), "us")
    # Whole seconds: that is what the portal records, and it keeps the text form short.
    return as_of64 - seconds_inactive.astype("timedelta64[s]").astype("timedelta64[us]")


def _sample_rows(cdf: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Draw one category per row from the row's persona distribution (inverse CDF)."""
    return (u[:, None] >= cdf[rows]).sum(axis=1).astype(np.int8)


def _pack_mask(matrix: np.ndarray) -> np.ndarray:
    """Boolean (n, <=64) matrix -> uint64 bit masks, column i -> bit i."""
    padded = np.zeros((matrix.shape[0], 64), dtype=bool)
    padded[:, : matrix.shape[1]] = matrix
    return np.packbits(padded, axis=1, bitorder="little").view("<u8").ravel()


def _unpack_mask(mask: np.ndarray, width: int) -> np.ndarray:
    as_bytes = np.ascontiguousarray(mask.astype("<u8")).view(np.uint8).reshape(-1, 8)
    return np.unpackbits(as_bytes, axis=1, bitorder="little")[:, :width].astype(bool)


def _numbered(prefix: str, numbers: np.ndarray, suffix: str) -> np.ndarray:
    """prefix + zero-padded number + suffix, as an object array of str."""
    digits = np.strings.zfill(numbers.astype(np.dtypes.StringDType()), 7)
    return np.strings.add(np.strings.add(prefix, digits), suffix).astype(object)


def _arrow_numbered(prefix: str, numbers: np.ndarray, suffix: str) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), 7, "0")
    return pc.binary_join_element_wise(prefix, digits, suffix, "")


def _arrow_decode(vocabulary: Sequence[str], codes: np.ndarray) -> pa.Array:
    return pc.take(pa.array(vocabulary, pa.string()), pa.array(codes.astype(np.int32)))


def _arrow_mask_lists(mask: np.ndarray, vocabulary: Sequence[str]) -> pa.ListArray:
    """Bit masks -> list<string> in vocabulary order, built without a per-row loop."""
    matrix = _unpack_mask(mask, len(vocabulary))
    rows, cols = np.nonzero(matrix)  # row-major: each row's names come out in vocabulary order
    offsets = np.zeros(matrix.shape[0] + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=matrix.shape[0]), out=offsets[1:])
    values = pc.take(pa.array(vocabulary, pa.string()), pa.array(cols.astype(np.int32)))
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def mask_json_text(mask: np.ndarray, vocabulary: Sequence[str]) -> pa.Array:
    """Bit masks -> compact JSON array text (`["a","b"]`, vocabulary order), without a per-row loop.

    Each of the mask's 8 bytes selects a precomputed fragment (`,"a","b"`) from a 256-entry
    table; the fragments are concatenated in Arrow and the leading comma dropped.
    """
    tables = _json_fragments(tuple(vocabulary))
    as_bytes = np.ascontiguousarray(mask.astype("<u8")).view(np.uint8).reshape(-1, 8)
    parts = [pc.take(table, pa.array(np.ascontiguousarray(as_bytes[:, k]))) for k, table in enumerate(tables)]
    joined = pc.binary_join_element_wise(*parts, "")
    return pc.binary_join_element_wise("[", pc.utf8_slice_codeunits(joined, 1), "]", "")


@functools.cache
def _json_fragments(vocabulary: tuple[str, ...]) -> tuple[pa.Array, ...]:
    tables = []
    for k in range((len(vocabulary) + 7) // 8):
        names = vocabulary[8 * k : 8 * k + 8]
        fragments = [
            "".join(f',"{name}"' for i, name in enumerate(names) if byte >> i & 1) for byte in range(256)
        ]
        tables.append(pa.array(fragments, pa.string()))
    return tuple(tables)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    return moment.astimezone(UTC)


def _empty_batch(as_of: datetime) -> CandidateBatch:
    return CandidateBatch(
        row_index=np.empty(0, np.int64),
        persona_index=np.empty(0, np.int8),
        birth_year=np.empty(0, np.int16),
        city_code=np.empty(0, np.int8),
        education_code=np.empty(0, np.int8),
        years_experience=np.empty(0, np.int16),
        category_code=np.empty(0, np.int8),
        modality_code=np.empty(0, np.int8),
        expected_salary=np.empty(0, np.int32),
        skills_mask=np.empty(0, np.uint64),
        languages_mask=np.empty(0, np.uint8),
        last_active_at=np.empty(0, "datetime64[us]"),
        marketing_consent=np.empty(0, bool),
        as_of=as_of,
    )
