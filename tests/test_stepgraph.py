"""wncc/stepgraph.py and `wncc export-step`: the streaming one-step ONNX graph computes, one
sample per ONNX Runtime call, the logits of the model's own full-sequence graph (the reference
for its meaning) and of the golden model, for the shipped models and every WaveNet family."""

from __future__ import annotations

import json
import os
import re
import stat

import numpy as np
import onnx
import pytest

from conftest import ROOT
from wncc import ops, stepgraph
from wncc.cli import main
from wncc.errors import WnccError
from wncc.golden.model import GoldenModel
from wncc.ir import Node
from wncc.pipeline import load
from wncc.verify import inputs, onnxruntime_logits

TINY = ROOT / "examples" / "models" / "tiny.onnx"


def _step_vs_model(path, frames: int = 2, seed: int = 1) -> tuple[float, float, float]:
    """(max |step - ORT full model|, max |step - golden|, max |logit|) over `frames` frames."""
    graph = load(path)
    model, info = stepgraph.build(graph)
    x, mel = inputs(graph, frames, seed, None)
    got = stepgraph.teacher_forced(stepgraph.OrtStep(model, info), graph, x, mel)
    want = onnxruntime_logits(path, x, mel, graph=graph)
    golden = GoldenModel(graph).teacher_forced(x, mel)
    assert got.shape == want.shape == (x.size, graph.classes)
    return (float(np.abs(got - want).max()), float(np.abs(got - golden).max()),
            float(np.abs(want).max()))


def test_tiny_steps_compute_the_model():
    vs_ort, vs_golden, scale = _step_vs_model(TINY)
    assert vs_ort <= 1e-5 * scale and vs_golden <= 1e-5 * scale


@pytest.mark.xdist_group("families")  # the worker that exports the families once a session
@pytest.mark.parametrize("family", [
    "kan-bayashi", "r9y9-mol",  # one-hot input with a gate; scalar input with a mixture head
    *(pytest.param(f, marks=pytest.mark.long) for f in ("nv-wavenet", "r9y9-mulaw",
                                                         "r9y9-gaussian"))])
def test_every_family_steps_like_its_model(family_export, family):
    _, path = family_export(family)
    vs_ort, vs_golden, scale = _step_vs_model(path, frames=1)
    assert vs_ort <= 1e-5 * scale and vs_golden <= 1e-5 * scale


def test_states_hold_each_dilated_convolutions_history():
    graph = load(TINY)
    model, info = stepgraph.build(graph)
    rings = {n.attrs["ring"]: n for n in graph.ops("conv_ring")}
    assert len(info.states) == len(rings) > 0
    for s in info.states:
        node = rings[int(s["input"][len("state"):])]
        assert s["shape"] == [1, graph.tensors[node.inputs[0]].channels,
                              (node.attrs["kernel"] - 1) * node.attrs["dilation"]]
    # after T steps, each state is the layer's last inputs, oldest first (the golden trace)
    x, mel = inputs(graph, 1, 3, None)
    runner = stepgraph.OrtStep(model, info)
    stepgraph.teacher_forced(runner, graph, x, mel)
    trace: dict[str, np.ndarray] = {}
    GoldenModel(graph).teacher_forced(x, mel, trace)
    for s in info.states:
        node = rings[int(s["input"][len("state"):])]
        history = s["shape"][2]
        want = trace[node.inputs[0]][:, -history:]
        np.testing.assert_allclose(runner.states[s["input"]][0], want, atol=1e-5)


def test_metadata_names_the_conditioning_tensors():
    graph = load(TINY)
    model, info = stepgraph.build(graph)
    meta = json.loads({p.key: p.value for p in model.metadata_props}["wncc.step"])
    assert meta["hop"] == graph.hop and meta["classes"] == graph.classes
    assert meta["input_kind"] == "class" and meta["head"] == "categorical"
    for c in meta["cond"]:
        t = graph.tensors[c["tensor"]]
        assert c["channels"] == t.channels and c["rate"] in ("frame", "table")
    names = [i.name for i in model.graph.input]
    assert names == ["x", *(c["input"] for c in meta["cond"]), *(s["input"] for s in meta["states"])]


def test_an_op_without_a_step_form_is_named():
    node = Node("quantize", "the/node", ["a"], ["b"])
    with pytest.raises(WnccError, match="node .the/node.: quantize has no one-step ONNX form"):
        ops.of(node).step(node, ["a"], stepgraph.StepBuilder(), None)


def test_cli_writes_a_checked_graph(tmp_path, capsys):
    out = tmp_path / "deep" / "step.onnx"
    assert main(["export-step", str(TINY), "-o", str(out)]) == 0
    said = re.search(r"checked against ONNX Runtime on the model: max abs err (\S+) over "
                     r"(\d+) samples", capsys.readouterr().out)
    assert said and float(said[1]) < 1e-4 and int(said[2]) == 2 * load(TINY).hop
    onnx.checker.check_model(onnx.load(str(out)))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in out.parent.iterdir()] == ["step.onnx"]  # no temporary file left


def test_cli_writes_nothing_when_the_graph_differs(tmp_path, capsys, monkeypatch):
    """A step graph whose adds subtract fails the check against the model: exit 1, no file."""
    from wncc.ops.add import Add

    monkeypatch.setattr(Add, "step", lambda self, node, ins, b, graph: b.node("Sub", ins))
    out = tmp_path / "step.onnx"
    assert main(["export-step", str(TINY), "-o", str(out)]) == 1
    assert "logits differ" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_cli_refuses_an_integer_model(shipped_quantized, tmp_path, capsys):
    out = tmp_path / "step.onnx"
    assert main(["export-step", str(shipped_quantized("int8")), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wncc: error: export-step writes float32 graphs") and "\n" not in err
    assert not out.exists()
