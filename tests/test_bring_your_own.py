"""Bring your own WaveNet: the families of examples/families.py (their structure, our code)
compile to C and `wncc verify` passes: the C within float32 tolerance of ONNX Runtime, equal to
the golden model, seeded generation identical, the flushed tail included.

The default suite verifies one dynamic export of each family with the dynamo exporter; the
legacy and static exports of every family run with -m long."""

from __future__ import annotations

import pytest

from conftest import load_example
from wncc.pipeline import load
from wncc.verify import verify

fam = load_example("families")

COMPILED = ["nv-wavenet"]  # the families whose whole graph wncc compiles today
CATEGORICAL = ["nv-wavenet"]  # of those, the ones int8 verifies (a categorical head)


def _cases() -> list:
    cases = []
    for family in COMPILED:
        for exporter in fam.EXPORTERS:
            for dynamic in (True, False):
                default = exporter == "dynamo" and dynamic
                cases.append(pytest.param(family, exporter, dynamic,
                                          marks=[] if default else [pytest.mark.long],
                                          id=f"{family}-{exporter}-{'dynamic' if dynamic else 'static'}"))
    return cases


@pytest.mark.parametrize("family,exporter,dynamic", _cases())
def test_family_verifies_in_fp32(tmp_path, family, exporter, dynamic):
    model = fam.build(family, seed=4)
    path = tmp_path / f"{family}.onnx"
    fam.export(model, path, exporter, dynamic=dynamic, output_name=fam.FAMILIES[family].output_name)
    report = verify(path, dtype="fp32", seconds=0.1, golden_samples=400, stream_samples=96)
    failed = [f"{c.name}: {c.value}" for c in report.checks if not c.passed]
    assert not failed, failed
    assert {c.name for c in report.checks} >= {"logits_vs_onnxruntime", "logits_vs_golden",
                                               "samples_vs_golden", "streaming_golden_vs_c"}


@pytest.mark.parametrize("family", CATEGORICAL)
def test_family_verifies_in_int8(tmp_path, family):
    """Quantized by ONNX Runtime's quantize_static (QDQ, int8, per-channel) on the family's own
    inputs: C == golden exactly, ONNX Runtime within one step."""
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    model = fam.build(family, seed=4)
    path = tmp_path / f"{family}.onnx"
    fam.export(model, path, "dynamo", dynamic=True, output_name=fam.FAMILIES[family].output_name)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            examples = [model.example_inputs(8, seed) for seed in range(3)]
            self.items = iter([{"x": x.numpy(), "mel": mel.numpy()} for x, mel in examples])

        def get_next(self):
            return next(self.items, None)

    q = tmp_path / f"{family}-int8.onnx"
    quantize_static(str(path), str(q), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    per_channel=True)
    report = verify(q, dtype="int8", seconds=0.1, stream_samples=96)
    assert report.passed, [f"{c.name}: {c.value}" for c in report.checks if not c.passed]


def test_overlapping_upsampling_keeps_history_not_lookahead(tmp_path):
    """nv-wavenet's ConvTranspose1d (kernel 4 x stride) cut to the samples: each frame's samples
    read that frame and the three before it, none after."""
    path = tmp_path / "nv.onnx"
    fam.export(fam.build("nv-wavenet", seed=1), path, "dynamo", dynamic=True,
               output_name=fam.FAMILIES["nv-wavenet"].output_name)
    time = load(path).time
    assert (time.lookahead, time.history, time.frames_delta) == (0, 3, 0)
