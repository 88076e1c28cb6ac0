"""The small kernels of a decode step wait on memory, not on arithmetic: each L2 round trip they
take one after another adds to every token. So their scans issue a batch of loads before using
any (engine/backends/cuda_ops.cu: QL_SCAN_LOADS4, QL_SCAN_LOADS), and the rope + split attention
loads its query, key and value pair together with the step position. This checks it where it
happens, in the sm_90 SASS (NVRTC + nvdisasm, no GPU): the longest run of loads issued while all
are still outstanding (sass_loads.longest_load_run). The kernels before this change (one load per
loop pass, the pair loaded after the position's arithmetic) have runs of 1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sass_loads import kernel_code, longest_load_run, nvdisasm_or_skip

from engine.kernels.build import compile_cubin

OPS_SOURCE = Path(__file__).resolve().parents[2] / "engine" / "backends" / "cuda_ops.cu"


def _define(name: str) -> int:
    return int(re.search(rf"#define {name} (\d+)", OPS_SOURCE.read_text()).group(1))


@pytest.fixture(scope="module")
def layer_code() -> dict[str, list[str]]:
    """The layer ops module's kernels as sm_90 SASS; skips without NVRTC or nvdisasm."""
    nvdisasm = nvdisasm_or_skip()
    from engine.backends.cuda import layer_module_source

    return kernel_code(nvdisasm, compile_cubin(layer_module_source(), {}, ("-std=c++17", "-arch=sm_90"), "layer"))


def test_rms_norm_loads_a_row_batch_of_float4_at_once(layer_code):
    assert longest_load_run(layer_code["ql_rms_norm"], "LDG.E.128.CONSTANT") >= _define("QL_SCAN_LOADS4")


@pytest.mark.parametrize("kernel", ["ql_argmax", "ql_argmax_chain"])
def test_argmax_loads_a_batch_of_logits_at_once(layer_code, kernel):
    assert longest_load_run(layer_code[kernel], "LDG.E.CONSTANT") >= _define("QL_SCAN_LOADS")


@pytest.mark.parametrize("kernel", ["ql_attention_split_rope", "ql_attention_split_rope_merged"])
def test_rope_attention_loads_its_pair_with_the_step_position(layer_code, kernel):
    # the position and the query, key and value pair: 7 volatile loads, all outstanding at once
    assert longest_load_run(layer_code[kernel], "LDG.E.STRONG.SYS") >= 7
