"""crash_classifier: a pure function from (exit code, stderr tail, error event) to a diagnostic."""

from __future__ import annotations

from app.crash_classifier import classify_crash
from engine.diagnostics import Severity, error


def test_error_event_wins_over_stderr():
    reported = error("QL-E-VRAM", "Model does not fit", "Needs 9 GiB.").to_dict()
    diag = classify_crash(1, "CUDA error: out of memory\n", reported)
    assert (diag.code, diag.title) == ("QL-E-VRAM", "Model does not fit")
    assert diag.technical["exit_code"] == 1


def test_ggml_assert_is_classified_with_the_line():
    tail = "loading...\n/src/ggml-cuda/dmmv.cu:804: GGML_ASSERT: false\nAborted (core dumped)\n"
    diag = classify_crash(134, tail)
    assert diag.code == "QL-E-ENGINE-ASSERT"
    assert "dmmv.cu:804" in diag.detail


def test_c_assert_and_python_assert():
    assert classify_crash(134, "x.c:3: main: Assertion `n > 0' failed.").code == "QL-E-ENGINE-ASSERT"
    assert classify_crash(1, "Traceback (most recent call last):\nAssertionError").code == "QL-E-ENGINE-ASSERT"


def test_out_of_memory_beats_cuda_error():
    diag = classify_crash(1, "cupy.cuda.memory.OutOfMemoryError: Out of memory allocating 1,024 bytes")
    assert diag.code == "QL-E-ENGINE-OOM"
    assert any(r.action == "reduce_context" for r in diag.remedies)


def test_cuda_error():
    diag = classify_crash(1, "cupy_backends.cuda.api.runtime.CUDARuntimeError: cudaErrorLaunchFailure")
    assert diag.code == "QL-E-ENGINE-CUDA"
    assert [r.action for r in diag.remedies] == ["use_cpu"]


def test_killed_by_signal_or_shell_code():
    assert classify_crash(-9, "").code == "QL-E-ENGINE-KILLED"
    assert classify_crash(137, "loading\n").code == "QL-E-ENGINE-KILLED"
    assert classify_crash(1, "loading\nKilled\n").code == "QL-E-ENGINE-KILLED"


def test_python_traceback_reports_its_last_line():
    tail = "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'blk.0.attn_q.weight'"
    diag = classify_crash(1, tail)
    assert diag.code == "QL-E-ENGINE-INTERNAL"
    assert "KeyError" in diag.detail


def test_unknown_exit_and_failed_start():
    diag = classify_crash(3, "nothing useful")
    assert diag.code == "QL-E-ENGINE-EXIT" and "code 3" in diag.title
    assert classify_crash(None, "").code == "QL-E-ENGINE-START"


def test_every_result_is_an_error_with_the_tail_kept():
    tail = "\n".join(f"line {i}" for i in range(100))
    diag = classify_crash(2, tail)
    assert diag.severity is Severity.ERROR
    assert diag.technical["stderr_tail"][-1] == "line 99"
    assert len(diag.technical["stderr_tail"]) == 40
