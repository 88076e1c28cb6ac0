"""Metadata of the wrong type or out of range gives one clear diagnostic, never an internal error.

Each case rewrites one key of a valid synthetic model (model_file_cases.rewrite_gguf): a
string where a number belongs, a scalar where an array belongs, a merge or byte token that
cannot be, a negative epsilon. Before these checks such files were reported as "missing"
keys, silently read with defaults, or ended in a Python exception (QL-E-INTERNAL).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gguf
import pytest
from model_file_cases import rewrite_gguf

from engine.diagnostics import DiagnosticError
from engine.model.config import config_for
from engine.model_file import inspect_model
from engine.synth import write_synthetic_model
from engine.synth_spec import SynthSpec
from engine.tokenizer import Tokenizer

REPO = Path(__file__).resolve().parents[2]
T = gguf.GGUFValueType


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("wrong_types")
    return {
        kind: write_synthetic_model(folder / f"{kind}.gguf", SynthSpec(n_layers=1, weight_type="Q8_0", tokenizer=kind))
        for kind in ("gpt2", "llama")
    }


def _variant(tmp_path: Path, seed: Path, changes: dict) -> Path:
    return rewrite_gguf(seed, tmp_path / "variant.gguf", changes)


def _diagnostic(call, *args):
    with pytest.raises(DiagnosticError) as caught:
        call(*args)
    return caught.value.diagnostic


HPARAM_CASES = {  # key -> (value, type[, element type]), a fact the detail must state
    "block_count_string": ({"llama.block_count": ("1", T.STRING)}, "'llama.block_count' is the string '1'"),
    "head_count_string_array": ({"llama.attention.head_count": (["4"], T.ARRAY, T.STRING)},
                                "'llama.attention.head_count' is an array of 1 strings"),
    "context_length_string": ({"llama.context_length": ("2048", T.STRING)}, "'llama.context_length' is the string '2048'"),
    "rope_base_string": ({"llama.rope.freq_base": ("500000", T.STRING)}, "'llama.rope.freq_base' is the string '500000'"),
    "epsilon_boolean": ({"llama.attention.layer_norm_rms_epsilon": (True, T.BOOL)}, "is the boolean True"),
}


@pytest.mark.parametrize("case", list(HPARAM_CASES))
def test_hparam_of_wrong_type_is_named_as_such(tmp_path, seeds, case):
    changes, fact = HPARAM_CASES[case]
    diagnostic = _diagnostic(inspect_model, _variant(tmp_path, seeds["gpt2"], changes))
    assert diagnostic.code == "QL-E-FILE-CORRUPT"
    assert fact in diagnostic.detail and "it must be a number" in diagnostic.detail


def test_architecture_of_wrong_type_is_not_called_missing(tmp_path, seeds):
    path = _variant(tmp_path, seeds["gpt2"], {"general.architecture": (7, T.UINT32)})
    diagnostic = _diagnostic(inspect_model, path)
    assert diagnostic.code == "QL-E-FILE-CORRUPT"
    assert "'general.architecture' is stored as uint32" in diagnostic.detail


def test_empty_architecture_is_named_as_empty(tmp_path, seeds):
    diagnostic = _diagnostic(inspect_model, _variant(tmp_path, seeds["gpt2"], {"general.architecture": ("", T.STRING)}))
    assert diagnostic.code == "QL-E-FILE-CORRUPT" and "'general.architecture' is empty" in diagnostic.detail


CONFIG_CASES = {
    "negative_epsilon": ({"llama.attention.layer_norm_rms_epsilon": (-1.0, T.FLOAT32)}, "epsilon -1.0"),
    "nan_epsilon": ({"llama.attention.layer_norm_rms_epsilon": (float("nan"), T.FLOAT32)}, "epsilon nan"),
    "infinite_rope_base": ({"llama.rope.freq_base": (float("inf"), T.FLOAT32)}, "RoPE base inf"),
    "infinite_rope_scale": ({"llama.rope.scaling.type": ("linear", T.STRING),
                             "llama.rope.scaling.factor": (float("inf"), T.FLOAT32)}, "scale inf"),
    "no_feed_forward_length": ({"llama.feed_forward_length": None}, "feed-forward width 0 (llama.feed_forward_length)"),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_unusable_hparams_stop_before_loading(tmp_path, seeds, case):
    changes, fact = CONFIG_CASES[case]
    diagnostic = _diagnostic(config_for, inspect_model(_variant(tmp_path, seeds["gpt2"], changes)))
    assert diagnostic.code == "QL-E-MODEL-HPARAMS"
    assert fact in diagnostic.detail


def _byte_token_id(seed: Path) -> int:
    types = gguf.GGUFReader(str(seed)).fields["tokenizer.ggml.token_type"].contents()
    return types.index(6)  # the first BYTE token ("<0x00>")


def _tokens(seed: Path) -> list[str]:
    return gguf.GGUFReader(str(seed)).fields["tokenizer.ggml.tokens"].contents()


def _tokenizer_cases(seeds: dict[str, Path]) -> dict[str, tuple[Path, dict, str]]:
    gpt2, spm = seeds["gpt2"], seeds["llama"]
    spm_tokens = _tokens(spm)
    spm_tokens[_byte_token_id(spm)] = "<0xZZ>"
    return {
        "bos_id_string": (gpt2, {"tokenizer.ggml.bos_token_id": ("x", T.STRING)},
                          "tokenizer.ggml.bos_token_id is a string ('x'), not a token id"),
        "eos_id_nan": (gpt2, {"tokenizer.ggml.eos_token_id": (float("nan"), T.FLOAT32)},
                       "tokenizer.ggml.eos_token_id is a float (nan)"),
        "unk_id_array": (spm, {"tokenizer.ggml.unknown_token_id": ([1, 2], T.ARRAY, T.UINT32)},
                         "tokenizer.ggml.unknown_token_id is an array"),
        "tokens_scalar": (gpt2, {"tokenizer.ggml.tokens": (7, T.UINT32)}, "tokenizer.ggml.tokens is an integer, not an array"),
        "tokens_string": (spm, {"tokenizer.ggml.tokens": ("abc", T.STRING)}, "tokenizer.ggml.tokens is a string, not an array"),
        "token_types_scalar": (spm, {"tokenizer.ggml.token_type": (1, T.INT32)}, "tokenizer.ggml.token_type is an integer"),
        "scores_scalar": (spm, {"tokenizer.ggml.scores": (0.5, T.FLOAT32)}, "tokenizer.ggml.scores is a float"),
        "token_types_strings": (gpt2, {"tokenizer.ggml.token_type": (["1"] * len(_tokens(gpt2)), T.ARRAY, T.STRING)},
                                "Element 0 of tokenizer.ggml.token_type is a string ('1'), not a whole number"),
        "merge_of_unknown_tokens": (gpt2, {"tokenizer.ggml.merges": (["\u0120q \u0120zz"], T.ARRAY, T.STRING)},
                                    "Merge 0 of tokenizer.ggml.merges ('\u0120q \u0120zz') names"),
        "merge_without_space": (gpt2, {"tokenizer.ggml.merges": (["ab"], T.ARRAY, T.STRING)}, "has no space"),
        "add_bos_string": (gpt2, {"tokenizer.ggml.add_bos_token": ("false", T.STRING)},
                           "tokenizer.ggml.add_bos_token is a string ('false'), not true or false"),
        "byte_token_not_hex": (spm, {"tokenizer.ggml.tokens": (spm_tokens, T.ARRAY, T.STRING)},
                               f"Token {_byte_token_id(spm)} ('<0xZZ>') is marked as a byte token"),
    }


TOKENIZER_CASE_NAMES = [
    "bos_id_string", "eos_id_nan", "unk_id_array", "tokens_scalar", "tokens_string", "token_types_scalar",
    "scores_scalar", "token_types_strings", "merge_of_unknown_tokens", "merge_without_space", "add_bos_string",
    "byte_token_not_hex",
]


def test_tokenizer_case_list_is_complete(seeds):
    assert sorted(_tokenizer_cases(seeds)) == sorted(TOKENIZER_CASE_NAMES)


@pytest.mark.parametrize("case", TOKENIZER_CASE_NAMES)
def test_bad_tokenizer_metadata_is_a_tokenizer_diagnostic(tmp_path, seeds, case):
    seed, changes, fact = _tokenizer_cases(seeds)[case]
    path = _variant(tmp_path, seed, changes)
    diagnostic = _diagnostic(Tokenizer.from_gguf, path)
    assert diagnostic.code == "QL-E-TOKENIZER"
    assert fact in diagnostic.detail and str(path) in str(diagnostic.technical.get("path"))


def test_valid_seeds_still_load(seeds):
    for seed in seeds.values():
        config_for(inspect_model(seed))
        assert Tokenizer.from_gguf(seed).encode("hello world")


GENERATE_CASES = {  # through the real CLI: exit 1 with the named diagnostic, no internal error
    "bos_id_string": ({"tokenizer.ggml.bos_token_id": ("x", T.STRING)}, "QL-E-TOKENIZER"),
    "merge_of_unknown_tokens": ({"tokenizer.ggml.merges": (["\u0120q \u0120zz"], T.ARRAY, T.STRING)}, "QL-E-TOKENIZER"),
    "negative_epsilon": ({"llama.attention.layer_norm_rms_epsilon": (-1.0, T.FLOAT32)}, "QL-E-MODEL-HPARAMS"),
}


@pytest.mark.parametrize("case", list(GENERATE_CASES))
def test_cli_generate_reports_the_diagnostic(tmp_path, seeds, case):
    changes, code = GENERATE_CASES[case]
    path = _variant(tmp_path, seeds["gpt2"], changes)
    done = subprocess.run([sys.executable, "-m", "engine.cli", "generate", "--model", str(path), "--prompt", "hi",
                           "--max-tokens", "2"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "QL-E-INTERNAL" not in done.stderr
    assert done.stderr.splitlines()[0].endswith(f"[{code}]")
