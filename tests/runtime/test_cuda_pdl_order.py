"""The step's position is read only after ql_pdl_wait (GPU only, sm_90+).

With programmatic dependent launch a kernel's CTAs may start while the kernel before it still
runs. In a graph of several chained greedy steps the kernel that writes the next position
(argmax_chain) ends one step, so the next step's kernels must not read the position before their
wait. Here a PDL-launched kernel writes the position only after spinning; each attention path
must then give exactly what it gives when the host set the position beforehand.
"""

from __future__ import annotations

import numpy as np
import pytest

import engine.model  # noqa: F401  (first: engine.backends.cpu imports engine.model.config)
from engine.backends.cuda_types import Positions
from engine.model.config import LlamaConfig, RopeParams

pytestmark = pytest.mark.gpu

ORDER_SOURCE = r"""
extern "C" __global__ void late_position(int* pos, int value, long long cycles) {
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");  // the next kernel may start now
    const long long start = clock64();
    while (clock64() - start < cycles) {}
    *(volatile int*)pos = value;
}

extern "C" __global__ void probe_position(const int* pos, int* seen) {  // seen (2,): before, after the wait
    const int before = *(const volatile int*)pos;
    asm volatile("griddepcontrol.wait;" ::: "memory");
    seen[0] = before;
    seen[1] = *(const volatile int*)pos;
}
"""
SPIN_CYCLES = 400_000  # about 0.2 ms at 2 GHz: far longer than the next kernel takes to start
N_CTX, NOW = 64, 37  # the step writes cache row NOW and attends over rows 0..NOW
MODES = {  # name -> (split_kv, rope_in_attention, cluster_merge)
    "rope, then one-kernel attention": (False, False, False),
    "rope, then split attention + merge": (True, False, False),
    "split attention with rope + merge": (True, True, False),
    "clustered split attention with rope": (True, True, True),
}


def _ops_with_pdl():
    import cupy

    from engine.backends.cuda import CudaOps

    ops = CudaOps(0, "mmvq")
    if not ops.launch.enabled:
        pytest.skip(f"programmatic dependent launch is off here ({ops.launch.note}): launches never overlap")
    kernels = cupy.RawModule(code=ORDER_SOURCE, options=("-std=c++17",))
    return ops, kernels.get_function("late_position"), kernels.get_function("probe_position")


def _set_position_late(ops, writer, value: int) -> None:
    """pos_buffer = value - 1 now (the last step's), = value by a kernel that lets the next start first."""
    ops.pos_buffer.set(np.array([value - 1], np.int32), stream=ops.stream)
    ops.launch(writer, (1,), (32,), (ops.pos_buffer, np.int32(value), np.int64(SPIN_CYCLES)))


def test_the_late_writer_lets_the_next_kernel_start_before_it_writes():
    """The set-up's premise: a kernel launched after the writer reads the old position before
    its wait and the new one after it (else the attention test below could not fail)."""
    import cupy

    ops, writer, probe = _ops_with_pdl()
    with ops.device, ops.stream:
        seen = cupy.zeros((2,), cupy.int32)
        _set_position_late(ops, writer, NOW)
        ops.launch(probe, (1,), (32,), (ops.pos_buffer, seen))
        seen_positions = ops.download(seen).tolist()
        assert seen_positions == [NOW - 1, NOW], "the next kernel did not start before the writer ended"


@pytest.mark.parametrize("mode", MODES)
def test_attention_reads_the_position_after_its_wait(mode):
    split_kv, rope_inside, cluster = MODES[mode]
    ops, writer, _ = _ops_with_pdl()
    if cluster and ops.k_attn_merged is None:
        pytest.skip("no clustered attention kernel on this GPU")
    ops.split_kv, ops.rope_in_attention, ops.cluster_merge = split_kv, rope_inside, cluster
    cfg = LlamaConfig("llama", 1, 8 * 128, 8, 2, 128, 64, 100, 1e-5, RopeParams(10000.0, 1.0, 128, False))
    rng = np.random.default_rng(7)
    qkv = rng.standard_normal((1, cfg.q_width + 2 * cfg.kv_width)).astype(np.float32)  # (1, [q|k|v])
    rows = rng.standard_normal((2, 1, N_CTX, cfg.n_head_kv, cfg.head_dim)).astype(np.float32)  # k, v caches

    def step(late: bool) -> list[np.ndarray]:
        with ops.device, ops.stream:
            cache = ops.new_cache(cfg, 1, N_CTX)
            cache.k[...], cache.v[...] = ops.upload(rows[0]), ops.upload(rows[1])
            x = ops.upload(qkv)
            if late:
                _set_position_late(ops, writer, NOW)  # the attention's kernels are the next launches
            else:
                ops.pos_buffer.set(np.array([NOW], np.int32), stream=ops.stream)
            act = ops.attend_qkv(x, cfg, cache, 0, Positions(ops.pos_buffer, NOW, 1))
            return [ops.download(act.x), ops.download(cache.k), ops.download(cache.v)]

    want, got = step(late=False), step(late=True)
    for name, g, w in zip(("output", "k cache", "v cache"), got, want, strict=True):
        np.testing.assert_array_equal(g, w, err_msg=name)
