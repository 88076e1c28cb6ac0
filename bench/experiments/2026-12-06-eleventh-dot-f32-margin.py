"""How close a type's dmmv chunk dot (ql_dot_f32<T>, built with g++ through the host harness)
comes to the CPU test's tolerance: max and median of |got - ref| / host_support.dot_tolerance (1e-7 + 1e-5 sum |w x|) over
random blocks and the three activation kinds of tests/kernels/test_dmmv_dot_f32_host.py (its own
_activations), the reference in float64 from gguf.quants.dequantize. A ratio above 1 fails the test.

usage: python bench/experiments/2026-12-06-eleventh-dot-f32-margin.py [--tree DIR] [--blocks N] TYPE ...
(--tree: a copy of the repository whose engine/ to build, e.g. .devrun/unit)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", type=Path, default=Path("."))
    parser.add_argument("--blocks", type=int, default=400)
    parser.add_argument("types", nargs="+")
    args = parser.parse_args()
    sys.path[:0] = [str(args.tree.resolve()), str(Path("tests/kernels").resolve())]
    from host_support import dot_tolerance, random_blocks_dequantized, staged_copy
    from test_dmmv_dot_f32_host import _activations as activations  # the test's own three kinds

    from engine.kernels import host_harness
    from engine.quant.table import QUANT_TABLE

    work = Path(tempfile.mkdtemp())
    libraries = {}
    for name in args.types:
        family = QUANT_TABLE[name].family
        if family not in libraries:
            libraries[family] = host_harness.build_host_library(family, work)
        rng = np.random.default_rng(7)
        blocks, weights = random_blocks_dequantized(name, args.blocks, rng)  # (n, bytes), (n, QK)
        table = staged_copy(name)
        for kind in ("normal", "wide", "offset"):
            ratios = []
            for i in range(args.blocks):
                x = activations(rng, kind)  # (32,) chunk 0
                terms = weights[i, :32] * x.astype(np.float64)  # (32,)
                got = host_harness.host_dot_f32(libraries[family], name, blocks[i], 0, x, table)
                ratios.append(abs(got - terms.sum()) / dot_tolerance(terms))
            print(f"{name} {kind}: max err/tol {max(ratios):.3f}, median {np.median(ratios):.4f}")


if __name__ == "__main__":
    main()
