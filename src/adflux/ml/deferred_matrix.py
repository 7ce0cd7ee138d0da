"""A frame's feature matrix built on a thread beside the k search, with the searched rows ready first.

The k search only looks at a sample of the rows (50,000 of a million); the final fit needs all of
them. Building the whole matrix first left one core idle for ~0.9 s at a million candidates
(bench/README.md, issue 26 item 6): the search waited for rows it never reads. `dense_rows`
transforms just the rows asked for — the values the whole matrix holds there, since every
fitted feature step works row by row (a test compares them) — and then starts building the whole
matrix on a thread of its own, after the last read of the frame on the caller's thread; `result`
waits for it.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.pipeline import Pipeline

# When the rows asked for are at least this share of the frame, the whole matrix is built at once
# and the rows taken from it (transforming most rows twice would cost more than it saves).
WHOLE_AT_SHARE = 0.5


class DeferredMatrix:
    """The matrix `features` (fitted) makes of `frame`: some rows at once, all of them on a thread."""

    def __init__(self, features: Pipeline, frame: pd.DataFrame) -> None:
        self.features = features
        self.frame = frame
        self.shape = (len(frame), None)
        self._whole: Future[Any] = Future()
        self._started = False

    def dense_rows(self, rows: np.ndarray) -> np.ndarray:
        """Rows `rows` of the matrix, dense (C order); starts building the whole matrix."""
        if self._started or len(rows) >= WHOLE_AT_SHARE * len(self.frame):
            return _dense(self.result()[rows])
        part = self.features.transform(self.frame.iloc[rows])
        self.start()
        return _dense(part)

    def start(self) -> None:
        """Build the whole matrix on a thread (once); nothing on the caller's thread reads the frame after."""
        if self._started:
            return
        self._started = True
        if not self._whole.set_running_or_notify_cancel():  # pragma: no cover - never cancelled
            return
        threading.Thread(target=self._build, name="feature-matrix", daemon=True).start()

    def result(self) -> Any:
        """The whole matrix (built here if nobody started it; else waits for the thread)."""
        if not self._started:
            self._started = True
            self._whole.set_running_or_notify_cancel()
            self._build()
        return self._whole.result()

    def _build(self) -> None:
        try:
            self._whole.set_result(self.features.transform(self.frame))
        except BaseException as exc:  # handed to whoever waits in `result`
            self._whole.set_exception(exc)


def _dense(part: Any) -> np.ndarray:
    return np.ascontiguousarray(part.toarray() if sp.issparse(part) else part)
