"""Which backend runs which blocks: BackendSpec -> segments (pure; no GPU needed)."""

from __future__ import annotations

from engine.backends.spec import BackendSpec, DeviceAssignment
from engine.model.llama import segment_plan


def _ranges(spec: BackendSpec, n_layers: int):
    return [(layers, None if a is None else (a.device_id, a.path)) for layers, a in segment_plan(spec, n_layers)]


def test_cpu_spec_is_one_cpu_segment():
    assert _ranges(BackendSpec.cpu(), 30) == [((0, 30), None)]


def test_single_gpu_covers_every_layer():
    assert _ranges(BackendSpec.single_gpu(30, "dmmv", 1), 30) == [((0, 30), (1, "dmmv"))]


def test_gaps_and_tail_run_on_the_cpu_in_layer_order():
    spec = BackendSpec("cuda", (DeviceAssignment(1, "mmvq", (10, 20)), DeviceAssignment(0, "dmmv", (2, 10))))
    assert _ranges(spec, 24) == [((0, 2), None), ((2, 10), (0, "dmmv")), ((10, 20), (1, "mmvq")), ((20, 24), None)]


def test_assignments_beyond_the_model_are_clipped():
    spec = BackendSpec("cuda", (DeviceAssignment(0, "mmvq-soft", (0, 99)),))
    assert _ranges(spec, 4) == [((0, 4), (0, "mmvq-soft"))]
