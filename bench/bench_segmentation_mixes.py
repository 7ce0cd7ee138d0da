"""Persona ARI of the segmentation on the simulator's persona mixes (even, mild, colombia).

For each preset and size: the k search over k_min..k_max as shipped, then k forced to the number
of personas (8), alternating, on the same generated base; rows are counted (every candidate gets
one label) and the load average is printed beside each figure (the machine is shared). With
`--stability`, the k search runs again with another random state on the same base and the ARI
between the two retrains' segments is printed (1.0: the same partition), with the k it chose.
`margin` is how far the chosen k's worst cluster silhouette clears the well-formed threshold.

    .venv/bin/python bench/bench_segmentation_mixes.py [--sizes 20000 200000] [--presets even mild colombia]
        [--seeds 42 123 7] [--stability] [--skip-forced]
"""

from __future__ import annotations

import argparse
import os
import time

from adflux.ml.evaluation import adjusted_rand
from adflux.ml.features import candidate_frame
from adflux.ml.training import train_segmenter
from adflux.simulation import PERSONA_NAMES, PRESETS, generate_candidates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[123], help="data seeds (one base each)")
    parser.add_argument("--k-min", type=int, default=2)
    parser.add_argument("--k-max", type=int, default=12)
    parser.add_argument("--stability", action="store_true", help="retrain with random_state 1; ARI between")
    parser.add_argument("--skip-forced", action="store_true", help="skip the k forced to 8 fit")
    args = parser.parse_args()
    print(
        "preset     n        seed  search k  ARI    forced k=8 ARI  retrain k  retrain ARI  margin  "
        "search s  load avg"
    )
    for n in args.sizes:
        for seed in args.seeds:
            for name in args.presets:
                _one_base(args, name, n, seed)


def _one_base(args: argparse.Namespace, name: str, n: int, seed: int) -> None:
    batch = generate_candidates(n, seed=seed, mix=PRESETS[name])
    frame = candidate_frame(batch.to_arrow(include_persona=False), reference_year=2026)
    started = time.perf_counter()
    search = train_segmenter(frame, k_min=args.k_min, k_max=args.k_max, random_state=0)
    seconds = time.perf_counter() - started
    assert len(search.labels) == n, "every candidate gets one label"
    forced_ari = retrain_ari = float("nan")
    retrain_k = 0
    if not args.skip_forced:
        k = len(PERSONA_NAMES)
        forced = train_segmenter(frame, k_min=k, k_max=k, random_state=0)
        assert len(forced.labels) == n, "every candidate gets one label"
        forced_ari = adjusted_rand(batch.persona_index, forced.labels)
    if args.stability:
        again = train_segmenter(frame, k_min=args.k_min, k_max=args.k_max, random_state=1)
        assert len(again.labels) == n, "every candidate gets one label"
        retrain_ari, retrain_k = adjusted_rand(search.labels, again.labels), again.k
    chosen = next(row for row in search.k_search if row["k"] == search.k)
    margin = chosen["min_cluster_silhouette"] - (search.k_selection.get("threshold") or 0.0)
    load = os.getloadavg()[0]
    ari = adjusted_rand(batch.persona_index, search.labels)
    print(
        f"{name:<10} {n:<8} {seed:<5} {search.k:<9} {ari:<6.3f} "
        f"{forced_ari:<15.3f} {retrain_k:<10} {retrain_ari:<12.3f} {margin:<7.3f} {seconds:<9.1f} {load:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
