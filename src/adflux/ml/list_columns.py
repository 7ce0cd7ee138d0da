"""Arrow list<string> columns (a candidate's skills): distinct lists, token counts, multi-hot blocks.

Skills reach the model as lists of strings, usually Arrow lists dictionary-encoded by
`features.candidate_frame` (each distinct list once, one index per candidate), sometimes Python
iterables (a list of candidate dicts). Everything here reads both without a Python loop per row
where Arrow can do it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from adflux.ml.skills_lists import LIST_OF_STRINGS


@dataclass
class ListColumn:
    """An Arrow list<string> column as distinct lists plus, when dictionary-encoded, one index per row."""

    values: pa.Array  # list<string>
    indices: np.ndarray | None  # int64 per row into `values` (-1: no list); None: one list per row

    @property
    def counts(self) -> np.ndarray:
        """How many rows hold each list in `values`."""
        if self.indices is None:
            return np.ones(len(self.values), dtype=np.int64)
        return np.bincount(self.indices[self.indices >= 0], minlength=len(self.values))

    def decoded(self) -> pa.Array:
        """One list per row (empty for a missing one)."""
        if self.indices is None:
            return self.values
        return pc.fill_null(
            pc.take(self.values, pa.array(self.indices, mask=self.indices < 0)),
            pa.scalar([], LIST_OF_STRINGS),
        )


def list_column(column: Any) -> ListColumn | None:
    """The column as Arrow lists of strings when it is one (plain or dictionary-encoded), else None."""
    if not (isinstance(column, pd.Series) and isinstance(column.dtype, pd.ArrowDtype)):
        return None
    arrow = column.array.__arrow_array__()
    if isinstance(arrow, pa.ChunkedArray):
        if pa.types.is_dictionary(arrow.type):
            arrow = arrow.unify_dictionaries()
        arrow = arrow.combine_chunks() if arrow.num_chunks != 1 else arrow.chunk(0)
    kind = arrow.type
    if pa.types.is_dictionary(kind) and (
        pa.types.is_list(kind.value_type) or pa.types.is_large_list(kind.value_type)
    ):
        indices = pc.fill_null(arrow.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        dictionary = arrow.dictionary
        if len(dictionary) > len(indices):  # a sample keeps every list of its column: only its own
            indices, present = indices.copy(), indices >= 0
            used, indices[present] = np.unique(indices[present], return_inverse=True)
            dictionary = dictionary.take(pa.array(used))
        return ListColumn(values=dictionary.cast(LIST_OF_STRINGS), indices=indices)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return ListColumn(values=arrow.cast(LIST_OF_STRINGS), indices=None)
    return None


def token_counts(column: Any) -> dict[str, int]:
    """How many times each token occurs in a list column (Arrow lists or Python iterables)."""
    lists = list_column(column)
    if lists is None:
        _, tokens = _python_tokens(column)
        return dict(Counter(token for token in tokens if token))
    flat = pc.list_flatten(lists.values)
    if len(flat) == 0:
        return {}
    parents = pc.list_parent_indices(lists.values).to_numpy()
    encoded = (
        pc.dictionary_encode(flat).combine_chunks()
        if isinstance(flat, pa.ChunkedArray)
        else pc.dictionary_encode(flat)
    )
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    known = codes >= 0
    weights = lists.counts[parents][known]
    counts = np.bincount(codes[known], weights=weights, minlength=len(encoded.dictionary))
    return {
        str(token): int(count)
        for token, count in zip(encoded.dictionary.to_pylist(), counts, strict=True)
        if token and count > 0
    }


def _cell_tokens(cell: Any) -> Iterable[Any]:
    if cell is None:
        return ()
    if isinstance(cell, str):
        return (cell,)
    if isinstance(cell, list | tuple | set | frozenset | np.ndarray):
        return cell
    if isinstance(cell, float) and np.isnan(cell):
        return ()
    if cell is pd.NA:
        return ()
    return (cell,)


def _python_tokens(column: Any) -> tuple[np.ndarray, list[str]]:
    cells = [list(_cell_tokens(cell)) for cell in column]
    lengths = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells))
    rows = np.repeat(np.arange(len(cells)), lengths)
    tokens = [t if isinstance(t, str) else str(t) for t in chain.from_iterable(cells)]
    return rows, tokens


def column_block(column: Any, vocabulary: np.ndarray, dtype: Any) -> sp.csr_matrix:
    """The 0/1 CSR block (rows x vocabulary) of one list column."""
    lists = list_column(column)
    if lists is None:
        rows, tokens = _python_tokens(column)
        codes = (
            pd.Index(vocabulary, dtype=object).get_indexer(pd.Index(tokens, dtype=object))
            if tokens
            else np.empty(0, dtype=np.int64)
        )
        return _csr(rows, codes, len(column), len(vocabulary), dtype)
    rows = pc.list_parent_indices(lists.values).to_numpy()
    codes = pc.index_in(
        pc.list_flatten(lists.values), value_set=pa.array(vocabulary.tolist(), type=pa.string())
    )
    codes = pc.fill_null(codes, -1).to_numpy().astype(np.int64, copy=False)
    block = _csr(rows, codes, len(lists.values), len(vocabulary), dtype)
    if lists.indices is None:
        return block
    # Each distinct list was encoded once; every row takes its list's row (a missing list: an
    # appended empty row).
    indices = lists.indices
    if (indices < 0).any():
        block = sp.vstack([block, sp.csr_matrix((1, block.shape[1]), dtype=dtype)], format="csr")
        indices = np.where(indices < 0, block.shape[0] - 1, indices)
    return block[indices]


def _csr(rows: np.ndarray, codes: np.ndarray, n_rows: int, width: int, dtype: Any) -> sp.csr_matrix:
    known = codes >= 0
    rows, cols = rows[known], codes[known]
    # Straight to CSR (a COO detour costs ~0.3 s per million rows); tokens usually come grouped
    # by row already, otherwise a stable sort groups them.
    if len(rows) > 1 and not bool(np.all(rows[1:] >= rows[:-1])):
        order = np.argsort(rows, kind="stable")
        rows, cols = rows[order], cols[order]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    out = sp.csr_matrix((np.ones(len(rows), dtype=dtype), cols, indptr), shape=(n_rows, width))
    out.sum_duplicates()
    out.data[:] = 1  # a token repeated in one cell is still one skill
    return out
