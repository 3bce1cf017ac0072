"""The time-axis analysis (passes/timeaxis.py) on conditioning networks built the way real
vocoders build them: what each frame needs of the mel, proven from the ops, and the C that
streams them with lookahead and a flush equal to the golden model and ONNX Runtime."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from wncc.errors import WnccError
from wncc.pipeline import load
from wncc.verify import verify

N_MELS, RES, HOP = 8, 8, 16


class Conditioned(nn.Module):
    """A small class-input WaveNet whose conditioning is one of: a valid kernel-5 conv over the
    mel frames and two (stretch x4, Conv2d (1, 9)) stages ("staged"); an overlapping
    ConvTranspose1d cut to the samples around its centre ("centred"); the same cut at its start
    ("causal"); a ConvTranspose2d (1, hop) on [1, 1, C, T] ("depthwise"); a frame-rate conv
    then repeat_interleave to the samples ("interleave")."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.kind = kind
        self.emb = nn.Embedding(256, RES)
        if kind == "staged":
            self.conv_in = nn.Conv1d(N_MELS, N_MELS, 5, bias=False)
            self.stages = nn.ModuleList(nn.Conv2d(1, 1, (1, 9), padding=(0, 4), bias=False)
                                        for _ in range(2))
        elif kind == "depthwise":
            self.up = nn.ConvTranspose2d(1, 1, (1, HOP), stride=(1, HOP))
        elif kind == "interleave":
            self.up = nn.Conv1d(N_MELS, N_MELS, 3, padding=1)
        else:
            self.up = nn.ConvTranspose1d(N_MELS, N_MELS, 4 * HOP, stride=HOP)
        self.convs = nn.ModuleList(nn.Conv1d(RES, 2 * RES, 3, padding=2 * d, dilation=d)
                                   for d in (1, 2))
        self.conds = nn.ModuleList(nn.Conv1d(N_MELS, 2 * RES, 1) for _ in range(2))
        self.res = nn.ModuleList(nn.Conv1d(RES, RES, 1) for _ in range(2))
        self.head = nn.Conv1d(RES, 256, 1)

    def upsample(self, c: torch.Tensor, samples: int) -> torch.Tensor:
        if self.kind == "staged":
            c = self.conv_in(c).unsqueeze(1)
            for stage in self.stages:
                c = stage(F.interpolate(c, scale_factor=(1, 4), mode="nearest"))
            return c.squeeze(1)
        if self.kind == "depthwise":
            return self.up(c.unsqueeze(1)).squeeze(1)
        if self.kind == "interleave":
            return self.up(c).repeat_interleave(HOP, dim=2)
        start = 2 * HOP if self.kind == "centred" else 0
        return self.up(c)[:, :, start:start + samples]

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        samples = x.shape[1]
        c = self.upsample(c, samples)
        h = self.emb(x).transpose(1, 2)
        for conv, cond, res in zip(self.convs, self.conds, self.res):
            a = conv(h)[:, :, :samples] + cond(c)  # symmetric padding, the future sliced off
            t, s = a.split(RES, dim=1)
            h = (h + res(torch.tanh(t) * torch.sigmoid(s))) * math.sqrt(0.5)
        return self.head(torch.relu(h))


def _export(tmp_path, kind: str, dynamo: bool = True):
    model = Conditioned(kind).eval()
    extra = 4 if kind == "staged" else 0
    x, c = torch.randint(0, 256, (1, 6 * HOP)), torch.randn(1, N_MELS, 6 + extra)
    path = tmp_path / f"{kind}.onnx"
    with torch.no_grad():
        if dynamo:
            torch.onnx.export(model, (x, c), str(path), dynamo=True, input_names=["x", "mel"],
                              output_names=["logits"],
                              dynamic_shapes=({1: torch.export.Dim("T")},
                                              {2: torch.export.Dim("F")}))
        else:
            torch.onnx.export(model, (x, c), str(path), dynamo=False, input_names=["x", "mel"],
                              output_names=["logits"],
                              dynamic_axes={"x": {1: "T"}, "mel": {2: "F"}, "logits": {2: "T"}})
    return path


@pytest.mark.parametrize("kind,lookahead,history,delta", [
    ("staged", 6, 2, -4),  # conv_in: 4 frames ahead, 4 dropped; each stage's +-4 rows: 1 more
    ("centred", 2, 1, 0),
    ("causal", 0, 3, 0),
    ("interleave", 1, 1, 0),
])
def test_lookahead_and_history_are_proven_from_the_ops(tmp_path, kind, lookahead, history,
                                                       delta):
    time = load(_export(tmp_path, kind, dynamo=False)).time
    assert (time.lookahead, time.history, time.frames_delta) == (lookahead, history, delta)
    assert time.windowed


def test_staged_windows(tmp_path):
    """Frame g's 16 sample rows need rows [-4, 20) of the second stretch (its conv's +-4) and
    mel frames g-2 .. g+6 (the window of the valid conv_in over the first stage's needs)."""
    time = load(_export(tmp_path, "staged", dynamo=False)).time
    windows = sorted(time.windows.values())
    assert (-4, 20) in windows and (0, 16) in windows
    assert time.windows["mel"] == (-2, 7)


@pytest.mark.parametrize("kind", [pytest.param("staged", marks=pytest.mark.long), "centred",
                                  "interleave"])
def test_lookahead_models_verify(tmp_path, kind):
    """The C streams with WN_LOOKAHEAD_FRAMES and makes the last frames on wn_flush; every
    sample, the flushed tail included, equals the golden model and ONNX Runtime."""
    report = verify(_export(tmp_path, kind), dtype="fp32", seconds=0.1, golden_samples=400,
                    stream_samples=96)
    assert report.passed, [f"{c.name}: {c.value}" for c in report.checks if not c.passed]


def test_project_reports_the_lookahead(tmp_path):
    from wncc.compiler import compile_model
    import json
    _, out = compile_model(_export(tmp_path, "staged"), tmp_path / "proj")
    report = json.loads((out / "report.json").read_text())
    assert report["lookahead_frames"] == 6
    assert report["conditioning"]["output_frames"] == "F-4"
    assert "#define WN_LOOKAHEAD_FRAMES 6" in (out / "wn_model.h").read_text()


def test_sample_path_looking_ahead_is_refused(tmp_path):
    """A symmetric conv on the sample path whose future is not sliced off: one line naming it."""
    class Ahead(Conditioned):
        def forward(self, x, c):
            samples = x.shape[1]
            h = self.emb(x).transpose(1, 2)
            a = self.convs[0](h)[:, :, 2:2 + samples] + self.conds[0](self.upsample(c, samples))
            return self.head(torch.relu(a[:, :RES]))
    model = Ahead("causal").eval()
    path = tmp_path / "ahead.onnx"
    with torch.no_grad():
        torch.onnx.export(model, (torch.randint(0, 256, (1, 96)), torch.randn(1, N_MELS, 6)),
                          str(path), dynamo=False, input_names=["x", "mel"],
                          output_names=["logits"])
    with pytest.raises(WnccError) as info:
        load(path)
    assert "future" in str(info.value) and info.value.node and "\n" not in str(info.value)


def _quantized(tmp_path, path, kind: str):
    """The model quantized by ONNX Runtime's quantize_static (QDQ, int8, per-channel),
    calibrated on random inputs, as a user's own flow would."""
    import numpy as np
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    extra = 4 if kind == "staged" else 0

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            rng = np.random.default_rng(0)
            self.items = iter([{"x": rng.integers(0, 256, (1, 6 * HOP)).astype(np.int64),
                                "mel": rng.standard_normal((1, N_MELS, 6 + extra))
                                .astype(np.float32)} for _ in range(4)])

        def get_next(self):
            return next(self.items, None)

    q = tmp_path / f"{kind}-int8.onnx"
    quantize_static(str(path), str(q), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    per_channel=True)
    return q


@pytest.mark.parametrize("kind", [pytest.param("staged", marks=pytest.mark.long), "centred",
                                  pytest.param("depthwise", marks=pytest.mark.long)])
def test_conditioning_in_int8(tmp_path, kind):
    """Valid convs, stretches, (1, k) stages, overlapping and depthwise transposed
    convolutions run in integers in the frame program's windows; C == golden exactly, ONNX
    Runtime within a step."""
    q = _quantized(tmp_path, _export(tmp_path, kind), kind)
    report = verify(q, dtype="int8", seconds=0.1, stream_samples=96)
    assert report.passed, [f"{c.name}: {c.value}" for c in report.checks if not c.passed]
    frame_ops = {n.op for n in load(q).nodes if "q" in n.attrs}
    assert frame_ops & {"dwconv", "convt", "dwconvt"}


@pytest.mark.emulation
@pytest.mark.parametrize("target", ["cortex-m4", "cortex-a53"])
def test_lookahead_streams_on_boards(tmp_path, target):
    """The windows, the lookahead and the flush on emulated cores: the staged conditioning in
    fp32 equals the golden model bit for bit there too."""
    report = verify(_export(tmp_path, "staged"), target=target, dtype="fp32",
                    logit_samples=480, golden_samples=320)
    assert report.passed, [f"{c.name}: {c.value}" for c in report.checks if not c.passed]


@pytest.mark.parametrize("kind,dtype", [("staged", "int8"),
                                        pytest.param("centred", "fp32", marks=pytest.mark.long),
                                        pytest.param("depthwise", "int8", marks=pytest.mark.long)])
def test_windowed_c_is_clean(tmp_path, kind, dtype):
    """The windows' C (row loops, gathers, copies of int8 rows) builds warning-free with gcc
    and clang and runs clean under AddressSanitizer and UBSan, the flush included; its PCM is
    the golden model's."""
    import shutil
    import subprocess

    import numpy as np

    from wncc.compiler import compile_model
    from wncc.golden.model import GoldenModel

    path = _export(tmp_path, kind)
    if dtype == "int8":
        path = _quantized(tmp_path, path, kind)
    graph, out = compile_model(path, tmp_path / "proj", dtype=dtype)
    strict = ("-O2 -Werror -pedantic -Wshadow -Wconversion -Wno-sign-conversion "
              "-Wstrict-prototypes")
    for cc in [c for c in ("gcc", "clang") if shutil.which(c)]:
        proc = subprocess.run(["make", "-s", "-C", str(out), "clean", "wn_vocode", f"CC={cc}",
                               f"CFLAGS={strict}"], capture_output=True, text=True)
        assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    flags = "-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all"
    proc = subprocess.run(["make", "-s", "-C", str(out), "clean", "wn_vocode", "CC=gcc",
                           f"CFLAGS={flags}", f"LDFLAGS={flags}"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    mel = np.random.default_rng(2).standard_normal((12, N_MELS)).astype(np.float32)
    mel.tofile(out / "mel.f32")
    run = subprocess.run([str(out / "wn_vocode"), "mel.f32", "out.pcm", "5", "1"], cwd=out,
                         capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip().endswith("PASS"), run.stderr
    _, pcm = GoldenModel(graph).vocode(mel, seed=5)
    np.testing.assert_array_equal(np.fromfile(out / "out.pcm", np.int16), pcm)


def test_sixteen_bit_floats(tmp_path):
    """fp16/bf16: a windowed frame-rate conv verifies (16-bit weights, rounding after every
    op); the row kernels of (1, k) stages and transposed convolutions take float32 or int8
    weights only, a one-line error naming the node."""
    report = verify(_export(tmp_path, "interleave"), dtype="fp16", seconds=0.1,
                    golden_samples=400, stream_samples=96)
    assert report.passed, [f"{c.name}: {c.value}" for c in report.checks if not c.passed]
    with pytest.raises(WnccError, match="not supported in bf16") as info:
        verify(_export(tmp_path, "staged"), dtype="bf16", seconds=0.1)
    assert info.value.node


def test_golden_stepping_equals_whole_sequence(tmp_path):
    """The golden model's streaming API (push_frame until the lookahead is covered, then flush)
    generates what its whole-sequence vocode does, the last frames included."""
    import numpy as np

    from wncc.golden.model import GoldenModel

    gm = GoldenModel(load(_export(tmp_path, "staged")))
    mel = np.random.default_rng(3).standard_normal((11, N_MELS)).astype(np.float32)
    want, _ = gm.vocode(mel, seed=2)
    gm.reset(seed=2)
    got = []
    for frame in mel:
        gm.push_frame(frame)
        if gm.phase == 0:
            got.append(gm.generate(HOP)[0])
    assert len(got) == 11 - 6  # the lookahead: frames 0..4 made while pushing
    while gm.flush():
        got.append(gm.generate(HOP)[0])
    np.testing.assert_array_equal(np.concatenate(got), want)
    assert want.size == (11 - 4) * HOP
