"""wncc quantize: fp16/bf16 converters, ORT static QDQ quantization for the integer precisions,
deterministic calibration crops, per-layer dtypes and one-line errors.

Fidelity bounds are against the float model's logits on a 16-frame crop of the shipped test clip
(ONNX Runtime with graph optimizations disabled, i.e. plain QDQ semantics), calibrated on 8 crops
of the same clip. Measured on tiny (|logits| up to ~1.8): fp16 1.1e-3, bf16 8.2e-3, int16 3e-4,
int16x8 1.6e-2, int8 8.5e-2, int4 3.5e-1 max abs error (MinMax); the bounds below leave ~2-3x headroom.
"""

from __future__ import annotations

import argparse
import json
import wave
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, numpy_helper

from wncc.errors import WnccError
from wncc.quant import calibration, quantize
from wncc.quant.quantize import weights_bytes

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "examples" / "data" / "test_clip.wav"
BOUND = {"fp16": 5e-3, "bf16": 3e-2, "int16": 2e-3, "int16x8": 5e-2, "int8": 0.2, "int4": 0.8}
WEIGHT = {"int8": TensorProto.INT8, "int16x8": TensorProto.INT8, "int16": TensorProto.INT16,
          "int4": TensorProto.INT4}
ACT = {"int8": TensorProto.INT8, "int16x8": TensorProto.INT16, "int16": TensorProto.INT16,
       "int4": TensorProto.INT8}
QMAX = {"int8": 127, "int16x8": 127, "int16": 32767, "int4": 7}


def run(path: Path, feed: dict) -> np.ndarray:
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"]).run(None, feed)[0]


@pytest.fixture(scope="module")
def feed() -> dict:
    crop = calibration.load_crops(CLIP, crops=4, crop_frames=16)[1]
    return {"x": crop.x, "mel": crop.mel}


@pytest.fixture(scope="module")
def reference(models, feed) -> np.ndarray:
    return run(models["tiny"], feed)


@pytest.fixture(scope="module")
def quantized(models, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("quant")
    return {dt: quantize(models["tiny"], dt, CLIP, d / f"{dt}.onnx", calib_crops=8)
            for dt in ("fp32", "fp16", "bf16", "int8", "int16x8", "int16", "int4")}


def write_wav(path: Path, audio: np.ndarray, rate: int = 16000, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def clip_audio() -> np.ndarray:
    return calibration.read_wav(CLIP)


# ---------------------------------------------------------------- float precisions


def test_fp32_is_a_copy(models, quantized):
    assert quantized["fp32"].read_bytes() == models["tiny"].read_bytes()


@pytest.mark.parametrize("dtype,elem", [("fp16", TensorProto.FLOAT16), ("bf16", TensorProto.BFLOAT16)])
def test_half_weights_behind_cast(quantized, models, feed, reference, dtype, elem):
    m = onnx.load(quantized[dtype])
    inits = {i.name: i for i in m.graph.initializer}
    assert inits["head2.weight_" + dtype].data_type == elem
    assert inits["embed.weight_" + dtype].data_type == elem
    assert inits["val_3"].data_type == TensorProto.FLOAT  # Resize scales stay float
    casts = [n for n in m.graph.node if n.op_type == "Cast"]
    assert {n.output[0] for n in casts} >= {"head2.weight", "layers.0.conv.bias", "embed.weight"}
    before = weights_bytes(onnx.load(models["tiny"]))
    assert weights_bytes(m) < 0.51 * before
    w = numpy_helper.to_array(inits["head2.weight_" + dtype]).astype(np.float32)
    w0 = numpy_helper.to_array(next(i for i in onnx.load(models["tiny"]).graph.initializer
                                    if i.name == "head2.weight"))
    assert np.abs(w - w0).max() <= np.abs(w0).max() * (2.0 ** -11 if dtype == "fp16" else 2.0 ** -8)
    err = np.abs(run(quantized[dtype], feed) - reference).max()
    assert err < BOUND[dtype], err


# ---------------------------------------------------------------- integer precisions


@pytest.mark.parametrize("dtype", ["int8", "int16x8", "int16", "int4"])
def test_integer_qdq(quantized, feed, reference, dtype):
    m = onnx.load(quantized[dtype])
    assert [(o.domain, o.version) for o in m.opset_import] == [("", 21)]
    assert not any(n.domain for n in m.graph.node)  # no com.microsoft Q/DQ
    inits = {i.name: i for i in m.graph.initializer}
    dq = {n.input[0]: n for n in m.graph.node if n.op_type == "DequantizeLinear"}
    for layer, out_ch in [("layers.0.conv", 32), ("layers.3.cond", 32), ("head2", 256)]:
        q = inits[f"{layer}.weight_quantized"]
        assert q.data_type == WEIGHT[dtype]
        node = dq[q.name]
        axis = next(a.i for a in node.attribute if a.name == "axis")
        assert axis == 0
        assert numpy_helper.to_array(inits[node.input[1]]).shape == (out_ch,)
        assert not numpy_helper.to_array(inits[node.input[2]]).astype(int).any()  # zp 0
        w = numpy_helper.to_array(q).astype(int)
        assert w.min() >= -QMAX[dtype] and w.max() <= QMAX[dtype]
        assert np.abs(w).max(axis=(1, 2)).max() == QMAX[dtype]  # per-channel max maps to qmax
        assert inits[f"{layer}.bias_quantized"].data_type == TensorProto.INT32
    acts = [n for n in m.graph.node if n.op_type == "QuantizeLinear"]
    assert acts and all(inits[n.input[2]].data_type == ACT[dtype] for n in acts)
    zps = [int(numpy_helper.to_array(inits[n.input[2]])) for n in acts]
    if dtype in ("int16x8", "int16"):
        assert not any(zps)  # symmetric
    else:
        assert any(zps)  # asymmetric
    err = np.abs(run(quantized[dtype], feed) - reference).max()
    assert err < BOUND[dtype], err


def test_weight_bytes_shrink(quantized, models):
    before = weights_bytes(onnx.load(models["tiny"]))
    sizes = {d: weights_bytes(onnx.load(quantized[d])) for d in ("int16", "int8", "int4")}
    assert before > sizes["int16"] > sizes["int8"] > sizes["int4"]


@pytest.mark.parametrize("method", ["percentile", "entropy"])
def test_calibration_methods(models, quantized, feed, reference, tmp_path, method):
    out = quantize(models["tiny"], "int8", CLIP, tmp_path / "m.onnx", method=method, calib_crops=8)
    scale = {i.name: numpy_helper.to_array(i) for i in onnx.load(out).graph.initializer}
    base = {i.name: numpy_helper.to_array(i) for i in onnx.load(quantized["int8"]).graph.initializer}
    names = [k for k in base if k.endswith("_scale") and base[k].ndim == 0 and k in scale]
    assert any(scale[k] != base[k] for k in names)  # ranges differ from MinMax
    assert np.abs(run(out, feed) - reference).max() < BOUND["int8"]


def test_layer_dtypes(models, feed, reference, tmp_path):
    out = quantize(models["tiny"], "int8", CLIP, tmp_path / "mixed.onnx", calib_crops=8,
                   layer_dtypes={"head*": "int16x8", "layers.0.cond*": "int16"})
    m = onnx.load(out)
    inits = {i.name: i for i in m.graph.initializer}
    assert inits["head2.weight_quantized"].data_type == TensorProto.INT8
    assert inits["layers.0.cond.weight_quantized"].data_type == TensorProto.INT16
    assert inits["layers.1.cond.weight_quantized"].data_type == TensorProto.INT8
    q_types = {n.input[0]: inits[n.input[2]].data_type for n in m.graph.node
               if n.op_type == "QuantizeLinear"}
    assert q_types["relu_1"] == TensorProto.INT16 and q_types["add_17"] == TensorProto.INT16
    assert q_types["add_56"] == TensorProto.INT8
    assert np.abs(run(out, feed) - reference).max() < BOUND["int8"]
    with pytest.raises(WnccError, match="matches no node"):
        quantize(models["tiny"], "int8", CLIP, tmp_path / "x.onnx", layer_dtypes={"nope*": "int16"})
    with pytest.raises(WnccError, match="narrower"):
        quantize(models["tiny"], "int16", CLIP, tmp_path / "x.onnx", layer_dtypes={"head*": "int8"})


def test_legacy_export_quantizes(models, feed, reference, tmp_path):
    out = quantize(models["tiny-legacy"], "int8", CLIP, tmp_path / "legacy.onnx", calib_crops=4)
    assert np.abs(run(out, feed) - reference).max() < BOUND["int8"]


# ---------------------------------------------------------------- calibration data


def test_crops_deterministic_and_aligned():
    a = calibration.load_crops(CLIP, crops=5, crop_frames=8)
    b = calibration.load_crops(CLIP, crops=5, crop_frames=8)
    assert [(c.source, c.start_frame) for c in a] == [(c.source, c.start_frame) for c in b]
    for ca, cb in zip(a, b):
        assert np.array_equal(ca.x, cb.x) and np.array_equal(ca.mel, cb.mel)
    assert a[0].start_frame == 0 and a[0].x[0, 0] == 128
    assert a[0].x.shape == (1, 1600) and a[0].x.dtype == np.int64
    assert a[0].mel.shape == (1, 80, 8) and a[0].mel.dtype == np.float32
    starts = [c.start_frame for c in a]
    assert starts == sorted(starts) and len(set(starts)) == 5  # spread over the clip
    # the crop is cut from whole-utterance features
    from wncc import features, mulaw
    audio = clip_audio()
    c = a[2]
    s = c.start_frame * 200
    np.testing.assert_array_equal(c.x[0], mulaw.encode(audio[s - 1:s + 1599]))
    mel = features.log_mel(audio[: len(audio) // 200 * 200])
    np.testing.assert_array_equal(c.mel[0], mel[c.start_frame:c.start_frame + 8].T)
    reader = calibration.CalibrationReader(a)
    first = [reader.get_next() for _ in range(6)]
    assert first[-1] is None and len(reader) == 5
    reader.rewind()
    assert np.array_equal(reader.get_next()["x"], first[0]["x"])


def test_folder_and_corpus_sources(tmp_path):
    audio = clip_audio()
    folder = tmp_path / "wavs"
    folder.mkdir()
    write_wav(folder / "b.wav", audio[:16000])
    write_wav(folder / "a.wav", audio[16000:40000])
    (folder / "notes.txt").write_text("ignored")
    crops = calibration.load_crops(folder, crops=100, crop_frames=10)
    assert len(crops) == 12 + 8  # every non-overlapping crop when fewer than asked
    assert Path(crops[0].source).name == "a.wav"  # sorted by path
    corpus = tmp_path / "corpus"
    (corpus / "wav").mkdir(parents=True)
    utts = []
    for i, split in enumerate(["train", "test", "train"]):
        write_wav(corpus / "wav" / f"{i:05d}.wav", audio[i * 8000:(i + 1) * 8000 + 4000])
        utts.append({"id": f"{i:05d}", "path": f"wav/{i:05d}.wav", "split": split})
    (corpus / "manifest.json").write_text(json.dumps({"utterances": utts}))
    used = {Path(c.source).name for c in calibration.load_crops(corpus, crops=50, crop_frames=8)}
    assert used == {"00000.wav", "00002.wav"}
    used = {Path(c.source).name for c in calibration.load_crops(corpus, 50, 8, split="test")}
    assert used == {"00001.wav"}


# ---------------------------------------------------------------- errors


def test_bad_inputs(models, tmp_path):
    m = models["tiny"]
    out = tmp_path / "o.onnx"
    cases = []
    cases.append((lambda: quantize(m, "int3", CLIP, out), "unknown dtype"))
    cases.append((lambda: quantize(m, "int8", CLIP, out, method="mse"), "unknown calibration method"))
    cases.append((lambda: quantize(m, "int8", None, out), "needs calibration data"))
    cases.append((lambda: quantize(m, "int8", tmp_path / "missing", out), "not found"))
    (tmp_path / "empty").mkdir()
    cases.append((lambda: quantize(m, "int8", tmp_path / "empty", out), "no .wav files"))
    (tmp_path / "junk.wav").write_bytes(b"not a wav at all")
    cases.append((lambda: quantize(m, "int8", tmp_path / "junk.wav", out), "cannot read wav"))
    write_wav(tmp_path / "8k.wav", np.zeros(8000), rate=8000)
    cases.append((lambda: quantize(m, "int8", tmp_path / "8k.wav", out), "16000 Hz mono"))
    write_wav(tmp_path / "short.wav", np.zeros(300))
    cases.append((lambda: quantize(m, "int8", tmp_path / "short.wav", out), "shorter than one crop"))
    cases.append((lambda: quantize(m, "int8", CLIP, out, calib_crops=0), "at least 1"))
    (tmp_path / "bad.onnx").write_bytes(b"\x08garbage")
    cases.append((lambda: quantize(tmp_path / "bad.onnx", "fp16", None, out), "cannot read ONNX"))
    cases.append((lambda: quantize(m, "fp16", None, m), "overwrite"))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "manifest.json").write_text("{")
    cases.append((lambda: quantize(m, "int8", tmp_path / "c", out), "malformed corpus manifest"))
    cases.append((lambda: quantize(m, "int8", CLIP, out, quant_format="qop"),
                  "unknown quantization format 'qop'"))
    cases.append((lambda: quantize(m, "int16", CLIP, out, activation_type="QUInt8"),
                  "for int8 models without per-layer dtypes, not int16"))
    cases.append((lambda: quantize(m, "int8", CLIP, out, quant_format="qoperator",
                                   layer_dtypes={"head*": "int16x8"}), "with layer dtypes"))
    cases.append((lambda: quantize(m, "int8", CLIP, out, weight_type="QUInt4"),
                  "int8 quantization type 'QUInt4' is not one of QInt8, QUInt8"))
    for call, message in cases:
        with pytest.raises(WnccError, match=message) as info:
            call()
        assert "\n" not in str(info.value)
    assert not out.exists()  # nothing written on error


def test_cli_handler(models, tmp_path, capsys):
    from wncc.quant.command import register
    ap = argparse.ArgumentParser(prog="wncc")
    register(ap.add_subparsers(dest="command", required=True))
    argv = ["quantize", str(models["tiny"]), "--dtype", "int16x8", "--calib", str(CLIP),
            "--calib-crops", "4", "--layer-dtype", "head*=int16", "-o", str(tmp_path / "q.onnx")]
    args = ap.parse_args(argv)
    assert args.func(args, argv) == 0
    text = capsys.readouterr().out
    assert "weights bytes before" in text and "124,752" in text
    assert (tmp_path / "q.onnx").exists()
    with pytest.raises(SystemExit):
        ap.parse_args(["quantize", str(models["tiny"]), "--dtype", "int3", "-o", "x.onnx"])
