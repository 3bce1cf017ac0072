"""wncc prune: achieved sparsity per scope, whole blocks, zeros in the ONNX export, the cubic
schedule, a short iterative run, and one-line errors for requests that cannot be met.

Fast: the trained tiny model (examples/models/tiny.pt) and, for the iterative run, a synthetic
four-utterance corpus written in a temporary folder (no espeak-ng needed). The espeak-ng corpus
variant (examples/corpus.py --minutes 0.2) is marked slow.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from wncc.errors import WnccError  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from wncc.prune import (Pattern, cubic_sparsity, distillation_loss, export_onnx,  # noqa: E402
                        onnx_zeros, parse_pattern, prune, schedule_steps, sparsity_report,
                        targets)
from wncc.prune.examples import load_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "models" / "tiny.pt"
SPARSITIES = (0.5, 0.7, 0.9, 0.95)


@pytest.fixture()
def tiny():
    model, _, _ = load_model(TINY)
    return model


def blocks_of(t, pattern: Pattern) -> torch.Tensor:
    m = t.to_matrix(t.param.detach())
    r, c = m.shape
    return (m.reshape(r // pattern.rows, pattern.rows, c // pattern.cols, pattern.cols)
            .permute(0, 2, 1, 3).reshape(r // pattern.rows, c // pattern.cols, -1))


def write_corpus(root: Path, seconds=(1.0, 0.8, 0.9, 0.6), seed: int = 0) -> Path:
    """A corpus folder in examples/corpus.py's layout: AR(2) 'voiced' noise bursts."""
    rng = np.random.default_rng(seed)
    (root / "wav").mkdir(parents=True)
    utts = []
    for i, sec in enumerate(seconds):
        n = int(sec * 16000)
        e = rng.normal(0, 0.05, n)
        y = np.zeros(n)
        for t in range(2, n):
            y[t] = 1.6 * y[t - 1] - 0.8 * y[t - 2] + e[t]
        y *= 0.5 / np.abs(y).max() * (0.5 + 0.5 * np.sin(np.linspace(0, 3, n)) ** 2)
        path = f"wav/{i:05d}.wav"
        with wave.open(str(root / path), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
            w.writeframes((y * 32767).astype("<i2").tobytes())
        utts.append({"id": f"{i:05d}", "path": path, "seconds": sec,
                     "split": "validation" if i == len(seconds) - 1 else "train"})
    (root / "manifest.json").write_text(json.dumps({"sample_rate": 16000, "utterances": utts}))
    return root


# ----------------------------------------------------------------------------- schedule

def test_cubic_schedule_values() -> None:
    # s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n dt))^3
    assert cubic_sparsity(0, 0.9, 0.0, 0, 10, 1) == 0.0
    assert cubic_sparsity(5, 0.9, 0.0, 0, 10, 1) == pytest.approx(0.9 * (1 - 0.5 ** 3))  # 0.7875
    assert cubic_sparsity(10, 0.9, 0.0, 0, 10, 1) == pytest.approx(0.9)
    assert cubic_sparsity(20, 0.8, 0.2, 10, 4, 5) == pytest.approx(0.8 - 0.6 * 0.5 ** 3)
    assert cubic_sparsity(-3, 0.9, 0.1, 0, 10, 1) == pytest.approx(0.1)  # before t0: s_i
    assert cubic_sparsity(99, 0.9, 0.1, 0, 10, 1) == pytest.approx(0.9)  # after: s_f
    values = [cubic_sparsity(t, 0.95, 0.0, 0, 8, 3) for t in range(0, 25)]
    assert all(b >= a for a, b in zip(values, values[1:]))
    steps = np.diff([0.0] + [cubic_sparsity(j * 3, 0.95, 0.0, 0, 8, 3) for j in range(1, 9)])
    assert all(b < a for a, b in zip(steps, steps[1:]))  # prunes fast first, then slows down
    assert schedule_steps(300) == (10, 22)
    assert schedule_steps(4) == (3, 1)


def test_parse_pattern() -> None:
    assert parse_pattern("unstructured") == Pattern(1, 1)
    assert parse_pattern("block:8x4") == Pattern(8, 4)
    assert str(parse_pattern("block:1x4")) == "block:1x4"
    for bad in ("blocks:4x4", "block:4", "block:0x4", "4x4", "structured"):
        with pytest.raises(WnccError, match="unknown pattern"):
            parse_pattern(bad)


# ----------------------------------------------------------------------------- one-shot

@pytest.mark.parametrize("sparsity", SPARSITIES)
def test_global_unstructured_exact(tiny, sparsity) -> None:
    biases = {k: v.clone() for k, v in tiny.state_dict().items() if k.endswith(".bias")}
    embed = tiny.embed.weight.detach().clone()
    res = prune(tiny, sparsity, scope="global")
    total = sum(t.param.numel() for t in targets(tiny))
    zeros = sum(int((t.param == 0).sum()) for t in targets(tiny))
    assert zeros == math.floor(sparsity * total + 0.5) and res.zeros == zeros
    assert res.sparsity == pytest.approx(sparsity, abs=1 / total)
    # one threshold: every kept weight is at least as large as every pruned one
    kept = torch.cat([t.param[t.param != 0].abs().flatten() for t in targets(tiny)])
    dense = torch.load(TINY)
    pruned = torch.cat([dense[t.name][~res.masks[t.name]].abs() for t in targets(tiny)])
    assert pruned.max() <= kept.min()
    for k, v in tiny.state_dict().items():  # biases and the embedding untouched
        if k in biases:
            assert torch.equal(v, biases[k])
    assert torch.equal(tiny.embed.weight, embed)
    assert not tiny.training


@pytest.mark.parametrize("sparsity", SPARSITIES)
def test_layer_scope_exact_per_layer(tiny, sparsity) -> None:
    res = prune(tiny, sparsity, scope="layer")
    for layer in res.layers:
        assert layer.zeros == math.floor(sparsity * layer.params + 0.5), layer.name
    assert {layer.name for layer in res.layers} == {t.name for t in targets(tiny)}
    assert all("embed" not in layer.name for layer in res.layers)


@pytest.mark.parametrize("spec", ["block:1x4", "block:4x4", "block:8x4", "block:16x1"])
@pytest.mark.parametrize("scope", ["global", "layer"])
def test_blocks_whole(tiny, spec, scope) -> None:
    pattern = parse_pattern(spec)
    dense = {t.name: t.param.detach().clone() for t in targets(tiny)}
    res = prune(tiny, 0.8, pattern=spec, scope=scope)
    n_blocks = 0
    for t in targets(tiny):
        b = blocks_of(t, pattern)
        zero = (b == 0).all(-1)
        nonzero = (b != 0).all(-1)  # trained weights have no exact zeros: kept blocks are whole
        assert bool((zero | nonzero).all()), t.name
        keep = blocks_of(type(t)(t.name, res.masks[t.name], t.kind), pattern)
        assert bool((keep.all(-1) == nonzero).all())
        assert torch.equal(t.param[res.masks[t.name]], dense[t.name][res.masks[t.name]])
        n_blocks += zero.numel()
        if scope == "layer":
            assert int(zero.sum()) == math.floor(0.8 * zero.numel() + 0.5), t.name
    layer_blocks = sum(layer.zero_blocks for layer in res.layers)
    if scope == "global":
        assert layer_blocks == math.floor(0.8 * n_blocks + 0.5)
    assert res.sparsity == pytest.approx(0.8, abs=pattern.size / res.params * len(res.layers))


def test_block_scores_l2_and_l1(tiny) -> None:
    from wncc.prune.core import block_scores

    t = targets(tiny)[0]
    m = t.to_matrix(t.param.detach())
    l2, l1 = block_scores(m, Pattern(4, 4), "l2"), block_scores(m, Pattern(4, 4), "l1")
    assert l2.shape == (m.shape[0] // 4, m.shape[1] // 4)
    assert float(l2[1, 2]) == pytest.approx(float(m[4:8, 8:12].double().norm()))
    assert float(l1[1, 2]) == pytest.approx(float(m[4:8, 8:12].double().abs().sum()))
    res = prune(tiny, 0.5, pattern="block:4x4", scope="layer", norm="l1")
    assert res.norm == "l1" and res.sparsity == pytest.approx(0.5)


def test_embedding_optional(tiny) -> None:
    res = prune(tiny, 0.6, scope="layer", include_embedding=True)
    assert "embed.weight" in [layer.name for layer in res.layers]
    assert float((tiny.embed.weight == 0).float().mean()) == pytest.approx(0.6, abs=1e-3)


def test_transpose_upsampler_is_pruned() -> None:
    from wncc.prune.examples import wavenet_module

    model = wavenet_module().build("tiny-transpose")
    res = prune(model, 0.5, pattern="block:4x4", scope="layer")
    up = next(layer for layer in res.layers if layer.name == "upsample.weight")
    assert up.matrix == [80, 80 * 200] and up.sparsity == pytest.approx(0.5)


def test_sparsity_zero_is_identity(tiny) -> None:
    before = {k: v.clone() for k, v in tiny.state_dict().items()}
    res = prune(tiny, 0.0, pattern="block:4x4")
    assert res.zeros == 0
    assert all(torch.equal(v, before[k]) for k, v in tiny.state_dict().items())


# ----------------------------------------------------------------------------- export

def test_onnx_export_has_the_zeros(tiny, tmp_path) -> None:
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    res = prune(tiny, 0.9, pattern="block:4x4", scope="layer")
    path = export_onnx(tiny, tmp_path / "pruned.onnx")
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    for name, value in tiny.state_dict().items():
        assert np.array_equal(inits[name], value.numpy()), name
    zeros = onnx_zeros(path, [layer.name for layer in res.layers])
    assert sum(z for z, _ in zeros.values()) == res.zeros
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (1, 800), generator=g)
    mel = torch.randn(1, 80, 4, generator=g)
    with torch.no_grad():
        ref = tiny(x, mel).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x.numpy(), "mel": mel.numpy()})[0]
    assert np.abs(got - ref).max() < 1e-4


def test_checkpoint_round_trip(tiny, tmp_path) -> None:
    from wncc.prune import save_checkpoint

    res = prune(tiny, 0.7, pattern="block:1x4")
    path = save_checkpoint(tiny, res, tmp_path / "p.pt", source="tiny.pt")
    again, cfg, _ = load_model(path)
    assert cfg == tiny.cfg
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(),
                                                  tiny.state_dict().values()))
    ck = torch.load(path, weights_only=False)
    assert ck["prune"]["pattern"] == "block:1x4"
    assert ck["prune"]["achieved"] == pytest.approx(0.7, abs=0.01)
    assert sparsity_report(again, "block:1x4")[0].zeros == res.layers[0].zeros


# ----------------------------------------------------------------------------- iterative

def test_iterative_short(tiny, tmp_path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    logs = []
    res = prune(tiny, 0.8, method="iterative", pattern="block:4x4", scope="layer",
                corpus=corpus, steps=12, events=4, batch=2, frames=8, threads=1, log=logs.append)
    n, dt = schedule_steps(12, 4)
    events = [r for r in res.history if r["step"] < 12]
    assert [r["step"] for r in events] == [j * dt for j in range(1, n + 1)]
    assert [r["target"] for r in events] == pytest.approx(
        [cubic_sparsity(j * dt, 0.8, 0.0, 0, n, dt) for j in range(1, n + 1)], abs=1e-6)
    achieved = [r["achieved"] for r in res.history]
    assert all(b >= a for a, b in zip(achieved, achieved[1:]))  # masks only grow
    assert logs == res.history
    for layer in res.layers:  # the final target, per layer, after fine-tuning
        assert layer.zero_blocks == math.floor(0.8 * layer.blocks + 0.5), layer.name
    for t in targets(tiny):  # pruned weights stayed zero through the optimizer steps
        assert bool((t.param[~res.masks[t.name]] == 0).all())
    from wncc.prune import evaluate

    assert 0 < evaluate(tiny, corpus, 0) < 9


def test_distillation_loss_by_hand() -> None:
    """alpha = 0 is the cross-entropy; otherwise the KL term of the unmasked positions, by the
    textbook formula in float64."""
    g = torch.Generator().manual_seed(0)
    s, te = torch.randn(2, 5, 4, generator=g), torch.randn(2, 5, 4, generator=g)
    t = torch.tensor([[-100, 1, 4, 0], [2, -100, 3, 3]])
    ce = F.cross_entropy(s, t, ignore_index=-100)
    assert torch.equal(distillation_loss(s, te, t, 0.0), ce)
    keep = (t != -100).numpy()
    p = torch.softmax(te.double() / 2, 1).numpy().transpose(0, 2, 1)[keep]
    q = torch.softmax(s.double() / 2, 1).numpy().transpose(0, 2, 1)[keep]
    kl = float(np.mean(np.sum(p * np.log(p / q), -1)))
    assert float(distillation_loss(s, te, t, 0.25, 2.0)) == pytest.approx(
        0.75 * float(ce) + 0.25 * 4 * kl, rel=1e-5)
    assert float(distillation_loss(s, s, t, 1.0)) == pytest.approx(0.0, abs=1e-6)


def _distilled(tmp_path: Path, corpus: Path, alpha: float, **kw):
    model, _, _ = load_model(TINY)
    res = prune(model, 0.7, method="iterative", scope="layer", corpus=corpus, steps=8, events=2,
                batch=2, frames=8, threads=1, distill=alpha, temperature=2.0, **kw)
    return model, res


def test_iterative_distillation_deterministic(tmp_path) -> None:
    """Same seed, same weights; the teacher changes the fine-tuned weights, not the masks'
    sparsity; the report records the distillation."""
    corpus = write_corpus(tmp_path / "corpus")
    a, ra = _distilled(tmp_path, corpus, 0.5)
    b, _ = _distilled(tmp_path, corpus, 0.5)
    c, rc = _distilled(tmp_path, corpus, 0.0)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert ra.sparsity == pytest.approx(rc.sparsity)
    assert ra.to_dict()["distill"] == 0.5 and ra.to_dict()["temperature"] == 2.0


def test_early_stopping_keeps_the_best(tmp_path) -> None:
    """Fine-tuning on noise while validating on speech: the validation NLL rises after the
    schedule ends, fine-tuning stops after `patience` worse measurements, and the model returns
    to the weights of the best measurement (its NLL equals the best recorded one)."""
    from wncc.audio import read_wav
    from wncc.prune import evaluate

    corpus = write_corpus(tmp_path / "corpus")
    speech = read_wav(ROOT / "examples" / "data" / "test_clip.wav")[:9600]
    with wave.open(str(corpus / "wav" / "00003.wav"), "wb") as w:  # the validation utterance
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes((speech * 32767).astype("<i2").tobytes())
    model, _, _ = load_model(TINY)
    res = prune(model, 0.1, method="iterative", scope="layer", corpus=corpus, steps=60, events=1,
                batch=2, frames=8, threads=1, lr=5e-3, val_every=2, val_seconds=0, patience=2)
    vals = res.validation
    n, dt = schedule_steps(60, 1)
    assert vals and all(r["step"] > n * dt and (r["step"] - n * dt) % 2 == 0 for r in vals)
    best = min(r["val_bits"] for r in vals)
    assert [r["val_bits"] > best for r in vals[-2:]] == [True, True]
    assert vals[-1]["step"] < 60  # stopped early
    assert evaluate(model, corpus, 0) == pytest.approx(best, abs=1e-5)
    assert res.sparsity == pytest.approx(0.1, abs=0.01)


@pytest.mark.long
def test_torchrun_two_processes_equal_one(tmp_path) -> None:
    """torchrun with 2 processes (DDP, gloo) fine-tunes to the weights one process gets with the
    same global batch (up to float summation order), with the same masks; rank 0 alone writes."""
    corpus = write_corpus(tmp_path / "corpus")
    argv = ["prune", str(TINY), "--sparsity", "0.5", "--method", "iterative", "--data",
            str(corpus), "--steps", "6", "--batch", "4", "--frames", "8", "--threads", "1",
            "--distill", "0.5", "--eval-seconds", "0", "-q"]
    one = subprocess.run([sys.executable, "-m", "wncc.cli", *argv, "-o", tmp_path / "one.onnx"],
                         capture_output=True, text=True)
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                          "--nproc-per-node", "2", "-m", "wncc.cli", *argv,
                          "-o", tmp_path / "two.onnx"], capture_output=True, text=True)
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert two.stdout.count("requested 0.5") == 1  # one report, from rank 0
    a = torch.load(tmp_path / "one.pt", weights_only=False)
    b = torch.load(tmp_path / "two.pt", weights_only=False)
    moved = 0
    start, _, _ = load_model(TINY)
    for k, w in a["model"].items():
        assert torch.equal(w == 0, b["model"][k] == 0), k
        torch.testing.assert_close(b["model"][k], w, atol=2e-6, rtol=0)
        moved += int(not torch.equal(w, start.state_dict()[k]))
    assert moved > 10  # the fine-tuning changed the weights


def test_qat_int4_weights_are_what_quantize_stores(tmp_path) -> None:
    """Quantization-aware fine-tuning (int4, with pruning): the exported conv weights sit on
    the int4 grid of their channel scales, the pruned ones stay zero, and wncc quantize of the
    export stores exactly those integers (scales equal to an ulp)."""
    import onnx
    from onnx import numpy_helper

    from wncc.quant.quantize import quantize

    corpus = write_corpus(tmp_path / "corpus")
    model, _, _ = load_model(TINY)
    res = prune(model, 0.5, method="iterative", scope="layer", corpus=corpus, steps=6, events=2,
                batch=2, frames=8, threads=1, qat="int4")
    assert res.to_dict()["qat"] == "int4" and res.sparsity == pytest.approx(0.5, abs=0.01)
    grid = {}
    for t in targets(model):
        w = t.param.detach().double()
        axis = 1 if t.kind == "convT" else 0
        dims = [d for d in range(w.dim()) if d != axis]
        s = w.abs().amax(dim=dims, keepdim=True) / 7
        q = w / torch.where(s > 0, s, torch.ones_like(s))
        assert torch.allclose(q, q.round(), atol=1e-4) and q.abs().max() <= 7 + 1e-4, t.name
        assert bool((t.param[~res.masks[t.name]] == 0).all()), t.name
        grid[t.name] = q.round().to(torch.int64).numpy()
    onnx_path = export_onnx(model, tmp_path / "qat.onnx")
    q_path = quantize(onnx_path, "int4", write_corpus(tmp_path / "calib", seed=1),
                      tmp_path / "qat-int4.onnx", calib_crops=2, crop_frames=8)
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(q_path)).graph.initializer}
    checked = 0
    for name, q in grid.items():
        stored = inits.get(f"{name}_quantized")
        if stored is not None:
            np.testing.assert_array_equal(stored.astype(np.int64), q, err_msg=name)
            checked += 1
    assert checked >= len(grid) - 1  # every conv (an unread one may be dropped by the export)


def test_qat_needs_fine_tuning(tiny) -> None:
    with pytest.raises(WnccError, match="needs fine-tuning"):
        prune(tiny, 0.5, qat="int4")


def test_bias_correction_moves_only_biases(tiny, tmp_path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    before = {k: v.clone() for k, v in tiny.state_dict().items()}
    res = prune(tiny, 0.5, scope="layer", corpus=corpus, bias_correction=True, calib_crops=2)
    assert res.bias_correction and res.sparsity == pytest.approx(0.5)
    after = tiny.state_dict()
    assert not torch.equal(after["head2.bias"], before["head2.bias"])
    assert torch.equal(after["embed.weight"], before["embed.weight"])


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                    reason="needs espeak-ng and sox")
def test_iterative_on_espeak_corpus(tmp_path) -> None:
    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, ROOT / "examples" / "corpus.py", "--out", corpus,
                    "--minutes", "0.2"], check=True)
    model, _, _ = load_model(TINY)
    res = prune(model, 0.9, method="iterative", pattern="unstructured", scope="global",
                corpus=corpus, steps=20, batch=4, threads=1)
    assert res.sparsity == pytest.approx(0.9, abs=1e-4)


# ----------------------------------------------------------------------------- errors / CLI

def cli(argv: list[str]) -> int:
    from wncc.prune.command import register

    ap = argparse.ArgumentParser()
    register(ap.add_subparsers())
    args = ap.parse_args(argv)
    return args.func(args, argv)


@pytest.mark.parametrize("sparsity", [1.0, -0.1, 1.5, float("nan")])
def test_sparsity_out_of_range(tiny, sparsity) -> None:
    with pytest.raises(WnccError, match=r"sparsity must be in \[0, 1\)"):
        prune(tiny, sparsity)


def test_block_that_does_not_divide_names_the_layer(tiny) -> None:
    with pytest.raises(WnccError) as exc:
        prune(tiny, 0.5, pattern="block:3x3")
    msg = str(exc.value)
    assert "layers.0.conv.weight" in msg and "[32, 16, 2]" in msg and "[32, 32]" in msg
    assert "\n" not in msg
    with pytest.raises(WnccError, match=r"'layers.0.cond.weight': weight \[32, 80, 1\] viewed as "
                       r"\[32, 80\]"):
        prune(tiny, 0.5, pattern="block:1x32")
    assert (tiny.layers[0].conv.weight != 0).all()  # nothing was touched


def test_iterative_without_corpus(tiny) -> None:
    with pytest.raises(WnccError, match="--corpus"):
        prune(tiny, 0.5, method="iterative")


def test_unknown_method_scope(tiny) -> None:
    with pytest.raises(WnccError, match="unknown method"):
        prune(tiny, 0.5, method="gradual")
    with pytest.raises(WnccError, match="unknown scope"):
        prune(tiny, 0.5, scope="channel")


@pytest.mark.parametrize("argv, match", [
    (["--sparsity", "1"], r"sparsity must be in \[0, 1\)"),
    (["--sparsity", "0.5", "--pattern", "block:4by4"], "unknown pattern"),
    (["--sparsity", "0.5", "--method", "iterative"], "--corpus"),
    (["--sparsity", "0.5", "--pattern", "block:5x4"], "does not divide layer 'layers.0.conv.weight'"),
])
def test_cli_errors(tmp_path, argv, match) -> None:
    with pytest.raises(WnccError, match=match):
        cli(["prune", str(TINY), *argv, "-o", str(tmp_path / "out.onnx")])
    assert not (tmp_path / "out.onnx").exists()


def test_cli_unknown_model(tmp_path) -> None:
    with pytest.raises(WnccError, match="not a checkpoint, ONNX file or config name"):
        cli(["prune", "nope", "--sparsity", "0.5", "-o", str(tmp_path / "o.onnx")])


def test_cli_end_to_end(tmp_path, capsys) -> None:
    out = tmp_path / "tiny-90.onnx"
    assert cli(["prune", str(ROOT / "examples" / "models" / "tiny.onnx"), "--sparsity", "0.9",
                "--pattern", "block:4x4", "--scope", "layer", "--report",
                str(tmp_path / "r.json"), "-o", str(out)]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["achieved"] == pytest.approx(0.9, abs=0.002)
    assert report["onnx_zeros"] >= report["zeros"]
    assert out.exists() and (tmp_path / "tiny-90.pt").exists()
    assert "achieved 0.9" in capsys.readouterr().out
    model, _, _ = load_model(out)  # the export reads back with the zeros
    assert sparsity_report(model)[0].sparsity == pytest.approx(0.9, abs=0.01)


def test_blocks_are_the_compilers_blocks(tiny) -> None:
    """A 4x4-block-pruned dilated conv encodes as bsr:4x4 with no stored zeros: the pruner's
    [Cout, K*Cin] view is the matrix the compiler's kernels read (wncc.passes.storage)."""
    from wncc.ir import Node
    from wncc.passes.storage import weight_matrix
    from wncc.sparse.formats import encode, parse

    prune(tiny, 0.8, pattern="block:4x4", scope="layer")
    dilated = [t for t in targets(tiny) if t.kind == "conv" and t.shape[2] > 1]
    assert dilated
    for t in dilated:
        w = t.param.detach().numpy().astype(np.float32)
        matrix, _ = weight_matrix(Node("conv_ring", "n", [], [], weights={"w": w}))
        enc = encode(matrix, parse("bsr:4x4"), 32)
        assert enc.arrays["values"].size == np.count_nonzero(w), t.name
