"""Persona ARI of the segmentation on the simulator's persona mixes (even, mild, colombia).

For each preset and size: the k search over k_min..k_max as shipped, then k forced to the number
of personas (8), alternating, on the same generated base; rows are counted (every candidate gets
one label) and the load average is printed beside each figure (the machine is shared).

    .venv/bin/python bench/bench_segmentation_mixes.py [--sizes 20000 200000] [--presets even mild colombia]
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
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--k-min", type=int, default=2)
    parser.add_argument("--k-max", type=int, default=12)
    args = parser.parse_args()
    print("preset     n        search k  ARI    forced k=8 ARI  search s  load avg")
    for n in args.sizes:
        for name in args.presets:
            batch = generate_candidates(n, seed=args.seed, mix=PRESETS[name])
            frame = candidate_frame(batch.to_arrow(include_persona=False), reference_year=2026)
            started = time.perf_counter()
            search = train_segmenter(frame, k_min=args.k_min, k_max=args.k_max, random_state=0)
            seconds = time.perf_counter() - started
            forced = train_segmenter(
                frame, k_min=len(PERSONA_NAMES), k_max=len(PERSONA_NAMES), random_state=0
            )
            assert len(search.labels) == len(forced.labels) == n, "every candidate gets one label"
            load = os.getloadavg()[0]
            print(
                f"{name:<10} {n:<8} {search.k:<9} {adjusted_rand(batch.persona_index, search.labels):<6.3f} "
                f"{adjusted_rand(batch.persona_index, forced.labels):<15.3f} {seconds:<9.1f} {load:.2f}"
            )
            del batch, frame, search, forced


if __name__ == "__main__":
    main()
