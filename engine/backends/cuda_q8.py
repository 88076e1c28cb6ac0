"""Host-side check that the q8_1 activations written by the fused layer kernels
(cuda_ops.cu: ql_store_q8_1) match the format of ``KernelSet.quantize_q8_1``.

Pure NumPy, no GPU: the CUDA backend calls it once per device on small test rows and
uses the fused form only when it answers "agrees" (another format = plain mat-vec path).
"""

from __future__ import annotations

import numpy as np

AGREES = "agrees"


def q8_agreement(fused: tuple[np.ndarray, np.ndarray], reference: tuple[np.ndarray, np.ndarray]) -> str:
    """``AGREES`` or why not. Each side: (xq int8 (T, chunks, 32), xds float32 (T, chunks, 2) = (d, s)).

    Values may differ by one step in a few places (division rounding); scales must match.
    """
    (q, ds), (ref_q, ref_ds) = fused, reference
    if q.shape != ref_q.shape or ds.shape != ref_ds.shape or q.dtype != ref_q.dtype or ds.dtype != ref_ds.dtype:
        return f"layout differs: fused {q.shape} {q.dtype} / {ds.shape} {ds.dtype}, " \
               f"kernels {ref_q.shape} {ref_q.dtype} / {ref_ds.shape} {ref_ds.dtype}"
    d, ref_d = ds[..., 0], ref_ds[..., 0]  # (T, chunks) scales
    if not np.allclose(d, ref_d, rtol=1e-6, atol=0.0):
        return "scales differ"
    step_diff = np.abs(q.astype(np.int32) - ref_q.astype(np.int32))  # (T, chunks, 32)
    if step_diff.max(initial=0) > 1 or step_diff.mean() > 0.01:
        return "quantized values differ"
    sum_tol = ref_d * (step_diff.sum(axis=-1) + 1e-3) + 1e-6 * np.abs(ref_ds[..., 1])  # (T, chunks)
    if np.any(np.abs(ds[..., 1] - ref_ds[..., 1]) > sum_tol):
        return "chunk sums differ"
    return AGREES

