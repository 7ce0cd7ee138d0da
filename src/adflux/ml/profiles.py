"""Readable segments: size, share, profile, a generated Spanish name and description, PCA picture.

Everything is computed with bincounts over integer codes, so profiling a million candidates
costs a fraction of a second and never builds one Python object per candidate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline

from adflux.constants import EDUCATION_LABELS, EDUCATION_LEVELS, JOB_CATEGORY_LABELS, MODALITY_LABELS
from adflux.ml.features import MISSING_CATEGORY, SKILLS_FEATURE
from adflux.ml.list_columns import ListColumn, list_column

logger = logging.getLogger(__name__)

# (lowest age, highest age or None, label): the bands marketing people talk in.
AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 24, "18–24"),
    (25, 34, "25–34"),
    (35, 44, "35–44"),
    (45, 54, "45–54"),
    (55, None, "55+"),
)
TOP_N = 5
TOP_SKILLS = 8
# A city names a segment only if it holds a real share of it and more than it holds overall.
CITY_MIN_SHARE = 0.25
CITY_MIN_LIFT = 1.15
DEFAULT_PCA_SAMPLE_SIZE = 10_000
DEFAULT_PROFILE_SAMPLE_SIZE = 200_000


@dataclass
class SegmentProfile:
    """One segment as people see it."""

    cluster_index: int
    name: str
    description: str
    size: int
    share: float
    profile: dict[str, Any]
    pca_x: float = 0.0
    pca_y: float = 0.0
    distinctive: list[dict[str, Any]] = field(default_factory=list)


def profile_segments(
    frame: pd.DataFrame,
    labels: np.ndarray,
    *,
    k: int,
    sample_size: int | None = DEFAULT_PROFILE_SAMPLE_SIZE,
    random_state: int = 0,
) -> list[SegmentProfile]:
    """Profile, name and describe each of the k segments of a model-input frame (`candidate_frame`).

    Sizes and shares count every candidate; the distributions (cities, skills, medians...) come
    from a uniform sample of `sample_size` rows when there are more, which moves shares by well
    under a percentage point and saves most of the time at a million candidates.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != len(frame):
        raise ValueError(f"{len(labels)} labels for {len(frame)} candidates")
    all_sizes = np.bincount(labels, minlength=k)
    n_all = max(int(all_sizes.sum()), 1)
    if sample_size is not None and len(frame) > sample_size:
        rows = sample_indices(len(frame), sample_size, random_state=random_state)
        frame, labels = frame.iloc[rows], labels[rows]
    tables = {
        "city": _category_table(frame["city"], labels, k),
        "department": _category_table(frame["department"], labels, k),
        "desired_category": _category_table(frame["desired_category"], labels, k),
        "desired_modality": _category_table(frame["desired_modality"], labels, k),
        "education": _ordinal_table(frame["education"].to_numpy(), labels, k, EDUCATION_LEVELS),
        "age_band": _ordinal_table(_age_band_codes(frame["age"].to_numpy()), labels, k, _BAND_LABELS),
        "skills": _skills_table(frame[SKILLS_FEATURE], labels, k),
    }
    medians = (
        pd.DataFrame(
            {
                "age": frame["age"].to_numpy(),
                "years_experience": frame["years_experience"].to_numpy(),
                "log_expected_salary": frame["log_expected_salary"].to_numpy(),
                "segment": labels,
            }
        )
        .groupby("segment")
        .median()
        .reindex(range(k))
    )
    profiles = []
    for c in range(k):
        profile = _profile(c, tables, medians.loc[c], int(all_sizes[c]), n_all)
        profiles.append(
            SegmentProfile(
                cluster_index=c,
                name="",
                description="",
                size=int(all_sizes[c]),
                share=float(all_sizes[c] / n_all),
                profile=profile,
                distinctive=_distinctive(c, tables),
            )
        )
    _name_segments(profiles)
    return profiles


def fit_pca(pipeline: Pipeline, sample: pd.DataFrame, *, random_state: int = 0) -> PCA:
    """PCA(2) of the pipeline's feature space, fitted on a sample of the model-input frame."""
    return PCA(n_components=2, random_state=random_state).fit(_features(pipeline, sample))


def pca_centroids(pipeline: Pipeline, pca: PCA) -> np.ndarray:
    """Each segment's centre in the 2-D PCA plane, shape (k, 2): the projection of its centroid."""
    return pca.transform(np.asarray(pipeline[-1].cluster_centers_, dtype=np.float64))


def pca_projection(pipeline: Pipeline, pca: PCA, sample: pd.DataFrame) -> list[dict[str, float | int]]:
    """Points `{"x", "y", "segment"}` for plotting a sample of candidates in the PCA plane."""
    X = _features(pipeline, sample)
    points = pca.transform(X)
    segments = pipeline[-1].predict(X.astype(np.float32, copy=False))
    return [
        {"x": round(float(x), 4), "y": round(float(y), 4), "segment": int(s)}
        for (x, y), s in zip(points, segments, strict=True)
    ]


def sample_indices(n: int, size: int = DEFAULT_PCA_SAMPLE_SIZE, *, random_state: int = 0) -> np.ndarray:
    """A sorted uniform sample of row positions (all rows when n <= size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, size=size, replace=False))


def age_band(age: float | None) -> str:
    """The marketing age band ("25–34") an age falls in."""
    if age is None or not np.isfinite(age):
        return "edad desconocida"
    for low, high, label in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return label
    return AGE_BANDS[0][2]


# ---- tables -------------------------------------------------------------------------------------
@dataclass
class _Table:
    """Counts per (segment, value) and the overall shares of each value."""

    values: list[str]
    counts: np.ndarray  # (k, n_values)
    overall: np.ndarray  # (n_values,) share of all candidates (or of all tokens for skills)
    denominators: np.ndarray  # (k,) what a segment's counts are shares of

    def shares(self, c: int) -> np.ndarray:
        return self.counts[c] / max(self.denominators[c], 1)

    def lifts(self, c: int) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.overall > 0, self.shares(c) / self.overall, 0.0)

    def top(self, c: int, n: int, labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
        shares, lifts = self.shares(c), self.lifts(c)
        out = []
        for i in np.argsort(-shares, kind="stable")[:n]:
            if shares[i] <= 0:
                break
            row: dict[str, Any] = {"value": self.values[i], "share": round(float(shares[i]), 4)}
            if labels is not None:
                row["label"] = labels.get(self.values[i], self.values[i])
            row["lift"] = round(float(lifts[i]), 3)
            out.append(row)
        return out


def _category_table(column: pd.Series, labels: np.ndarray, k: int) -> _Table:
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, values = column.cat.codes.to_numpy(), [str(v) for v in column.cat.categories]
    else:
        codes, uniques = pd.factorize(column, sort=True)
        values = [str(v) for v in uniques]
    return _crosstab(codes.astype(np.int64), labels, k, values)


def _ordinal_table(codes: np.ndarray, labels: np.ndarray, k: int, values: tuple[str, ...]) -> _Table:
    codes = np.where(np.isfinite(codes), codes, -1).astype(np.int64)
    return _crosstab(codes, labels, k, list(values))


def _crosstab(codes: np.ndarray, labels: np.ndarray, k: int, values: list[str]) -> _Table:
    known = codes >= 0
    m = len(values)
    counts = np.bincount(labels[known] * m + codes[known], minlength=k * m).reshape(k, m)
    total = counts.sum(axis=0)
    return _Table(values, counts, total / max(total.sum(), 1), np.bincount(labels, minlength=k))


def _skills_table(column: pd.Series, labels: np.ndarray, k: int) -> _Table:
    sizes = np.bincount(labels, minlength=k)
    lists = list_column(column)
    if lists is None:
        lists = ListColumn(pa.array([_cell_list(v) for v in column], type=pa.list_(pa.string())), None)
    # Per distinct list: which segment holds it how often; then spread over the list's tokens.
    values = lists.values
    row_list = lists.indices if lists.indices is not None else np.arange(len(values))
    known = row_list >= 0
    m_lists = len(values)
    held = np.bincount(labels[known] * m_lists + row_list[known], minlength=k * m_lists).reshape(k, m_lists)
    tokens = pc.list_flatten(values)
    if len(tokens) == 0:
        return _Table([], np.zeros((k, 0), dtype=np.int64), np.zeros(0), sizes)
    parents = pc.list_parent_indices(values).to_numpy()
    encoded = pc.dictionary_encode(tokens)
    names = [str(v) for v in encoded.dictionary.to_pylist()]
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    m = len(names)
    counts = np.zeros((k, m), dtype=np.int64)
    for c in range(k):
        counts[c] = np.bincount(codes, weights=held[c][parents], minlength=m).astype(np.int64)
    # Shares are "fraction of the segment's candidates listing the skill".
    return _Table(names, counts, counts.sum(axis=0) / max(len(labels), 1), sizes)


def _cell_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple | np.ndarray) else []


_BAND_LABELS = tuple(label for _, _, label in AGE_BANDS)


def _age_band_codes(ages: np.ndarray) -> np.ndarray:
    edges = np.array([low for low, _, _ in AGE_BANDS[1:]], dtype=np.float64)
    codes = np.searchsorted(edges, ages, side="right").astype(np.float64)
    codes[~np.isfinite(ages)] = np.nan
    return codes


# ---- profile, name, description ------------------------------------------------------------------
def _profile(c: int, tables: dict[str, _Table], medians: pd.Series, size: int, n: int) -> dict[str, Any]:
    log_salary = medians["log_expected_salary"]
    salary = int(round(float(np.expm1(log_salary)), -3)) if np.isfinite(log_salary) else None
    age = float(medians["age"]) if np.isfinite(medians["age"]) else None
    experience = float(medians["years_experience"]) if np.isfinite(medians["years_experience"]) else None
    return {
        "size": size,
        "share": round(size / n, 4),
        "top_cities": tables["city"].top(c, TOP_N),
        "top_departments": tables["department"].top(c, 3),
        "education": tables["education"].top(c, len(EDUCATION_LEVELS), EDUCATION_LABELS),
        "top_categories": tables["desired_category"].top(c, TOP_N, JOB_CATEGORY_LABELS),
        "modality": tables["desired_modality"].top(c, len(MODALITY_LABELS), MODALITY_LABELS),
        "top_skills": tables["skills"].top(c, TOP_SKILLS),
        "age_distribution": tables["age_band"].top(c, len(AGE_BANDS)),
        "median_age": age,
        "age_band": age_band(age),
        "median_years_experience": experience,
        "median_expected_salary": salary,
    }


def _distinctive(c: int, tables: dict[str, _Table], n: int = 3) -> list[dict[str, Any]]:
    """The values most over-represented in the segment (lift), among those it holds a share of."""
    found: list[dict[str, Any]] = []
    for feature in ("desired_category", "city", "education", "desired_modality", "age_band", "skills"):
        table = tables[feature]
        shares, lifts = table.shares(c), table.lifts(c)
        for i in np.flatnonzero(shares >= 0.3):
            found.append(
                {
                    "feature": feature,
                    "value": table.values[i],
                    "share": round(float(shares[i]), 4),
                    "lift": round(float(lifts[i]), 3),
                }
            )
    found.sort(key=lambda row: -row["lift"])
    return found[:n]


def _name_segments(profiles: list[SegmentProfile]) -> None:
    """Give every segment a name from what distinguishes it, unique within the model."""
    for segment in profiles:
        segment.name = " · ".join(_name_parts(segment.profile))
        segment.description = _description(segment)
    seen: dict[str, int] = {}
    for segment in sorted(profiles, key=lambda s: -s.size):
        if segment.name in seen:
            modality = _first(segment.profile["modality"])
            extra = modality["label"].lower() if modality else ""
            candidate = f"{segment.name} · {extra}" if extra else segment.name
            if candidate in seen or not extra:
                candidate = f"{segment.name} · {_cop_millions(segment.profile['median_expected_salary'])}"
            if candidate in seen:
                candidate = f"{segment.name} ({seen[segment.name] + 1})"
            seen[segment.name] += 1
            segment.name = candidate
        seen.setdefault(segment.name, 1)


def _name_parts(profile: dict[str, Any]) -> list[str]:
    parts = []
    category = _first(profile["top_categories"])
    parts.append(category["label"] if category and category["share"] >= 0.3 else "Perfil mixto")
    parts.append(_location(profile))
    education = _first(profile["education"])
    if education:
        parts.append(education["label"].lower())
    parts.append(profile["age_band"])
    return parts


def _location(profile: dict[str, Any]) -> str:
    for city in profile["top_cities"]:
        if (
            city["value"] != MISSING_CATEGORY
            and city["share"] >= CITY_MIN_SHARE
            and city["lift"] >= CITY_MIN_LIFT
        ):
            return city["value"]
    return "varias ciudades"


def _description(segment: SegmentProfile) -> str:
    """One Spanish sentence: who they are, where, schooling, age and experience, pay, modality."""
    p = segment.profile
    category = _first(p["top_categories"])
    education = _first(p["education"])
    modality = _first(p["modality"])
    location = _location(p)
    who = f"{_thousands(segment.size)} candidatos ({_percent(segment.share)})"
    if category:
        who += f" que buscan empleo en {category['label'].lower()} ({_percent(category['share'])})"
    who += f", sobre todo en {location}" if location != "varias ciudades" else ", en varias ciudades"
    clauses = [who]
    if education:
        clauses.append(f"nivel educativo más común: {education['label'].lower()}")
    numbers = []
    if p["median_age"] is not None:
        numbers.append(f"edad mediana de {p['median_age']:.0f} años")
    if p["median_years_experience"] is not None:
        numbers.append(f"{p['median_years_experience']:.0f} años de experiencia")
    if p["median_expected_salary"] is not None:
        numbers.append(f"aspiración salarial mediana de {_cop(p['median_expected_salary'])}")
    if numbers:
        clauses.append(", ".join(numbers[:-1]) + (" y " if len(numbers) > 1 else "") + numbers[-1])
    if modality:
        clauses.append(f"prefieren trabajo {modality['label'].lower()}")
    return "; ".join(clauses) + "."


def _first(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return rows[0] if rows else None


def _thousands(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def _cop(amount: int) -> str:
    return f"${_thousands(int(amount))} COP"


def _cop_millions(amount: int | None) -> str:
    return "salario desconocido" if amount is None else f"${amount / 1e6:.1f} M".replace(".", ",")


def _features(pipeline: Pipeline, sample: pd.DataFrame) -> np.ndarray:
    X = pipeline[:-1].transform(sample)
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
