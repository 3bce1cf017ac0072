"""The command line: exit codes, one-line errors, no partial output, the main commands."""

from __future__ import annotations

import argparse
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from wncc.audio import write_wav


def wncc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wncc.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


COMMANDS = ["compile", "verify", "inspect", "vocode", "quantize", "prune", "study", "fidelity",
            "bench", "mlperf", "mlperf-accuracy", "export-step", "sensitivity"]
ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "examples" / "data" / "test_clip.wav"


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command):
    proc = wncc(command, "--help")
    assert proc.returncode == 0 and f"usage: wncc {command}" in proc.stdout


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    from wncc.cli import parser
    action = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _options(p: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Visible options of a parser by their long (or only) spelling."""
    return {a.option_strings[-1] if a.option_strings else a.dest: a for a in p._actions
            if a.help != argparse.SUPPRESS}


def test_every_option_has_help_and_shared_options_read_the_same():
    subs = _subparsers()
    assert sorted(subs) == sorted(COMMANDS)
    helps: dict[str, set[str]] = {}
    for command, p in subs.items():
        for name, action in _options(p).items():
            assert action.help and action.help.strip(), f"wncc {command} {name} has no help"
            helps.setdefault(name, set()).add(action.help)
    # one vocabulary: the old spellings are gone from the help
    assert not {"--wav", "--corpus", "--report", "--out"} & set(helps)
    assert "--method" not in _options(subs["compile"]) and "--calib-method" in _options(subs["compile"])
    for name in ("--calib-method", "--layer-dtype", "--per-tensor", "--sparse", "--cmsis-nn",
                 "--rounding", "--temperature", "--sample-rate"):
        assert len(helps[name]) == 1, (name, helps[name])
    for command in ("compile", "verify", "quantize", "study", "bench"):
        assert "--calib" in _options(subs[command]), command
    for command in ("verify", "study", "fidelity", "prune", "mlperf"):
        assert "--data" in _options(subs[command]), command
    for command in ("study", "fidelity", "prune", "bench", "mlperf"):
        assert "--json" in _options(subs[command]), command


def test_bench_help_lists_both_modes():
    proc = wncc("bench", "-h")
    assert proc.returncode == 0
    for option in ("--configs", "--samples", "--quick", "--markdown", "--seed", "--target",
                   "--model", "--dtype", "--frames", "--mel", "--sparse", "--cmsis-nn", "--calib",
                   "--calib-method", "--json"):
        assert option in proc.stdout, option
    assert "host speed" in proc.stdout and "instruction counts" in proc.stdout
    proc = subprocess.run([sys.executable, ROOT / "benchmarks" / "generate_speed.py", "-h"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "usage: wncc bench" in proc.stdout


def test_bench_modes_check_their_options(models):
    for args, expected in ((["--model", models["tiny"], "--target", "host", "--native", "x86"],
                            "pick one"),
                           (["--target", "host"], "pass --model")):
        proc = wncc("bench", *args)
        assert proc.returncode == 2 and expected in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("old, new", [
    (["compile", "m.onnx", "-o", "d", "--method", "entropy"],
     ["compile", "m.onnx", "-o", "d", "--calib-method", "entropy"]),
    (["quantize", "m.onnx", "--dtype", "int8", "-o", "q.onnx", "--method", "percentile"],
     ["quantize", "m.onnx", "--dtype", "int8", "-o", "q.onnx", "--calib-method", "percentile"]),
    (["verify", "m.onnx", "--wav", str(CLIP)], ["verify", "m.onnx", "--data", str(CLIP)]),
    (["study", "m.onnx", "--wav", str(CLIP)], ["study", "m.onnx", "--data", str(CLIP)]),
    (["prune", "tiny", "--sparsity", "0.5", "-o", "p.onnx", "--corpus", str(CLIP), "--report",
      "r.json"],
     ["prune", "tiny", "--sparsity", "0.5", "-o", "p.onnx", "--data", str(CLIP), "--json",
      "r.json"]),
    (["bench", "--out", "b.json"], ["bench", "--json", "b.json"]),
])
def test_old_spellings_are_deprecated_aliases(old, new, capsys):
    from wncc.cli import parser
    assert vars(parser().parse_args(old)) == vars(parser().parse_args(new))
    assert "is deprecated, use" in capsys.readouterr().err


def test_bad_arguments_are_one_line():
    for args, expected in ((["compile", "m.onnx"], "required: -o/--output"),
                           (["vocode", "m.onnx", "--mel", "m.npy", "-o", "o.wav", "--seed", "x"],
                            "--seed expects a number, got 'x'"),
                           (["frobnicate"], "invalid choice: 'frobnicate'")):
        proc = wncc(*args)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr
        assert lines[0].startswith("wncc: error: ") and expected in lines[0]


@pytest.mark.parametrize("args", [
    ["compile", "{model}", "--dtype", "int8", "--calib", "{corpus}", "-o", "{out}"],
    ["quantize", "{model}", "--dtype", "int8", "--calib", "{corpus}", "-o", "{out}"],
    ["fidelity", "{model}", "--data", "{corpus}"],
])
def test_missing_corpus_says_how_to_make_it(args, models, tmp_path):
    fill = {"model": models["tiny"], "corpus": tmp_path / "data" / "corpus",
            "out": tmp_path / "out"}
    proc = wncc(*(a.format(**fill) for a in args))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "not found" in lines[0] and "python examples/corpus.py" in lines[0]
    assert not (tmp_path / "out").exists()


def test_compile_and_inspect(models, tmp_path):
    out = tmp_path / "proj"
    proc = wncc("compile", models["tiny"], "--target", "host", "--dtype", "fp32", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert (out / "wn_model.c").exists() and (out / "report.json").exists()
    assert "receptive field" in proc.stdout
    proc = wncc("inspect", models["tiny"])
    assert proc.returncode == 0 and "receptive field (samples)" in proc.stdout
    assert "layers.3.conv" in proc.stdout and "frame" in proc.stdout


def _bad_models(models, tmp: Path) -> dict[str, Path]:
    import onnx
    from onnx import helper
    data = models["tiny"].read_bytes()
    (tmp / "truncated.onnx").write_bytes(data[: len(data) // 3])
    m = onnx.load(str(models["tiny"]))
    next(n for n in m.graph.node if n.op_type == "Tanh").op_type = "Erf"
    onnx.save(m, str(tmp / "erf.onnx"))
    for name, attr, value in (("symmetric", "pads", [1, 1]), ("strided", "strides", [2])):
        m = onnx.load(str(models["tiny"]))
        conv = next(n for n in m.graph.node if n.op_type == "Conv" and any(
            a.name == "kernel_shape" and list(a.ints) == [2] for a in n.attribute))
        for a in list(conv.attribute):
            if a.name == attr:
                conv.attribute.remove(a)
        conv.attribute.append(helper.make_attribute(attr, value))
        onnx.save(m, str(tmp / f"{name}.onnx"))
    return {"truncated": tmp / "truncated.onnx", "unsupported op": tmp / "erf.onnx",
            "symmetric": tmp / "symmetric.onnx", "strided": tmp / "strided.onnx",
            "missing": tmp / "missing.onnx"}


def test_bad_input_one_line_exit_2_no_output(models, tmp_path):
    expected = {"truncated": "not a valid ONNX model", "unsupported op": "unsupported op 'Erf'",
                "symmetric": "non-causal convolution", "strided": "strided convolution",
                "missing": "file not found"}
    for case, path in _bad_models(models, tmp_path).items():
        out = tmp_path / f"out-{case.replace(' ', '_')}"
        proc = wncc("compile", path, "-o", out)
        assert proc.returncode == 2, (case, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and expected[case] in lines[0], (case, proc.stderr)
        assert "Traceback" not in proc.stderr and not out.exists()
        if case in ("unsupported op", "symmetric", "strided"):
            assert "node '" in lines[0]
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out-")]
    assert leftovers == []


def test_bad_mel_and_target(models, tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((3, 7, 2), np.float32))
    proc = wncc("vocode", models["tiny"], "--mel", tmp_path / "bad.npy", "-o", tmp_path / "a.wav")
    assert proc.returncode == 2 and "the model wants [frames, 80]" in proc.stderr
    (tmp_path / "text.npy").write_text("not an array")
    proc = wncc("vocode", models["tiny"], "--mel", tmp_path / "text.npy", "-o", tmp_path / "a.wav")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith(
        "--mel expects a .npy array [frames, n_mels], an .npz with a 'mel' array or a 16 kHz "
        "mono 16-bit .wav")
    proc = wncc("compile", models["tiny"], "--target", "nowhere", "-o", tmp_path / "x")
    assert proc.returncode == 2 and "unknown target 'nowhere'" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_vocode_writes_wav(models, tmp_path):
    mel = np.random.default_rng(0).standard_normal((5, 80)).astype(np.float32)
    np.save(tmp_path / "mel.npy", mel)
    proc = wncc("vocode", models["tiny"], "--mel", tmp_path / "mel.npy", "-o", tmp_path / "o.wav",
                "--seed", "4")
    assert proc.returncode == 0, proc.stderr
    with wave.open(str(tmp_path / "o.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 16000, 1000)
        pcm = np.frombuffer(w.readframes(1000), "<i2")
    from wncc.golden.model import GoldenModel
    from wncc.pipeline import load
    _, golden = GoldenModel(load(models["tiny"])).vocode(mel, seed=4)
    np.testing.assert_array_equal(pcm, golden)


def test_vocode_from_wav_with_plain_progress(models, tmp_path):
    """A wav's log-mel (wncc.features) vocodes like the same mel given as .npy; with stderr not a
    terminal, progress comes as plain lines."""
    from wncc import features
    from wncc.audio import read_wav
    pcm = (np.random.default_rng(3).standard_normal(5 * 200 + 37) * 3000).astype(np.int16)
    write_wav(tmp_path / "in.wav", pcm)
    np.save(tmp_path / "in.npy", features.log_mel(read_wav(tmp_path / "in.wav")))
    written = []
    for source in ("in.wav", "in.npy"):
        proc = wncc("vocode", models["tiny"], "--mel", tmp_path / source, "-o",
                    tmp_path / f"{source}.out.wav", "--seed", "2")
        assert proc.returncode == 0, proc.stderr
        with wave.open(str(tmp_path / f"{source}.out.wav")) as w:
            written.append(w.readframes(w.getnframes()))
        assert "wncc: vocoding: building the C" in proc.stderr.splitlines()
        assert "wncc: vocoding: generating 1000 samples" in proc.stderr.splitlines()
    assert written[0] == written[1] and len(written[0]) == 2000


def test_wav_mel_for_a_model_with_other_mel_bins(tmp_path):
    from wncc.cli.common import load_mel
    from wncc.errors import WnccError
    write_wav(tmp_path / "in.wav", np.zeros(800, np.int16))
    assert load_mel(str(tmp_path / "in.wav"), n_mels=80, hop=200).shape == (4, 80)
    with pytest.raises(WnccError, match=r"the model wants \[frames, 64\] mel frames, the wav's "
                       r"log-mel has 80 bins"):
        load_mel(str(tmp_path / "in.wav"), n_mels=64, hop=200)


def test_verify_command_passes(models):
    proc = wncc("verify", models["tiny"], "--seconds", "0.5", "--samples", "400")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verify: PASS" in proc.stdout and proc.stdout.count("PASS") >= 5


def test_sample_loop_ends_on_the_command_line(ends_model, tmp_path):
    """inspect names the samples input and the distribution; what cannot work is one line, exit 2."""
    mol = ends_model("scalar", "mol")
    proc = wncc("inspect", mol, "--log-scale-min", "-32.23619130191664")
    assert proc.returncode == 0, proc.stderr
    assert "x: scalar (the previous sample's value" in proc.stdout
    assert "mixture of 10 logistics, log scale min -32.2362" in proc.stdout
    proc = wncc("inspect", ends_model("onehot_scatter", dynamo=False))
    assert "x: onehot (one-hot of the class, 256 classes)" in proc.stdout
    assert "categorical, 256 classes, mulaw companding" in proc.stdout
    from tests.frontend.test_inputs import _two_float_inputs
    for args, expected in [((mol, "--distribution", "gaussian"), "Gaussian head needs 2 output"),
                           ((_two_float_inputs(tmp_path / "two.onnx"),),
                            "pass --inputs samples=NAME,mel=NAME"),
                           ((mol, "--inputs", "samples=x"), "must name both")]:
        proc = wncc("compile", *args, "-o", tmp_path / "out")
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and expected in lines[0], proc.stderr
        assert not (tmp_path / "out").exists()
