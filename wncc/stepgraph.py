"""The streaming one-step graph: `wncc export-step MODEL -o step.onnx`.

wncc's sample program (the ops that run once per audio sample, after streaming lowering) written
as an ONNX graph that computes one sample per call, for users who serve the model with ONNX
Runtime and for `wncc bench`'s peers. Every tensor is [1, C, 1] (NCL, one time step).

Inputs:

* ``x``: the previous sample: a class index (int64 [1]) for class and one-hot models, its value
  (float [1, 1, 1]) for a scalar input;
* ``cond0`` ... : the conditioning rows this sample reads, float [1, C, 1], one per frame-rate
  tensor the sample program reads (row ``phase`` of a table, or the frame's row): the frame
  program's outputs, which the C computes once per frame;
* ``state0`` ... : one per dilated convolution, float [1, Cin, (K - 1) * d]: its last inputs,
  oldest first; all zero before the first sample.

Outputs: ``logits`` (float [1, classes]: the head's parameters) and ``state0_out`` ... (the next
call's states). The model's metadata (``wncc.step``) says which tensor each conditioning input
is, its rate, the hop and the head; the names come from the model file and are data only.

Each op writes its own ONNX nodes (``Op.step`` in wncc/ops/, with the builder of
wncc/ops/step.py); this module assembles the graph and runs it. Float models only: the C of an integer model is checked against the golden model,
and its meaning against the model's own QDQ graph.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import TensorProto, helper

from wncc import ops
from wncc.errors import WnccError
from wncc.ir import Graph, Rate, is_integer
from wncc.ops.step import StepBuilder
from wncc.passes import lowered

if TYPE_CHECKING:
    from wncc.verify import Check

OPSET = 17


@dataclasses.dataclass(frozen=True)
class StepInfo:
    """What the step graph's inputs are (its ``wncc.step`` metadata)."""

    hop: int
    input_kind: str
    head: str
    classes: int
    cond: list[dict]  # {"input", "tensor", "rate": "frame" | "table", "channels"}
    states: list[dict]  # {"input", "shape"}

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def build(graph: Graph) -> tuple[onnx.ModelProto, StepInfo]:
    """The one-step ONNX graph of a float graph's sample program."""
    if is_integer(graph) or graph.dtype != "fp32":
        raise WnccError(f"export-step writes float32 graphs; {graph.source or 'the model'} is "
                        f"{graph.dtype}: export its fp32 model")
    low = lowered.of(graph)
    b = StepBuilder()
    env: dict[str, str] = {}
    if graph.input_kind == "scalar":
        env[graph.class_input] = b.input("x", TensorProto.FLOAT, [1, 1, 1])
    else:
        env[graph.class_input] = b.input("x", TensorProto.INT64, [1])
    cond = []
    for node in low.programs.sample:
        for tensor in node.inputs:
            if tensor in env or tensor not in low.time.rows:
                continue
            t = graph.tensors[tensor]
            name = f"cond{len(cond)}"
            env[tensor] = b.input(name, TensorProto.FLOAT, [1, t.channels, 1])
            cond.append({"input": name, "tensor": tensor, "channels": t.channels,
                         "rate": "table" if t.rate == Rate.TABLE else "frame"})
    for node in low.programs.sample:
        ins = [env[t] for t in node.inputs]
        env[node.outputs[0]] = ops.of(node).step(node, ins, b, graph)
    logits = b.node("Reshape", [env[graph.output], b.const(np.array([1, -1], np.int64))])
    b.output("logits", logits, [1, graph.classes])
    states = [{"input": v.name, "shape": [d.dim_value for d in v.type.tensor_type.shape.dim]}
              for v in b.inputs if v.name.startswith("state")]
    info = StepInfo(graph.hop, graph.input_kind, graph.head.kind, graph.classes, cond, states)
    onnx_graph = helper.make_graph(b.nodes, "wncc_step", b.inputs, b.outputs, b.constants)
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="wncc")
    model.ir_version = 8
    helper.set_model_props(model, {"wncc.step": info.to_json()})
    onnx.checker.check_model(model)
    return model, info


class OrtStep:
    """ONNX Runtime stepping a one-step graph, one sample per ``session.run``, states fed back."""

    def __init__(self, model: onnx.ModelProto, info: StepInfo, threads: int = 1) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(model.SerializeToString(), opts,
                                            providers=["CPUExecutionProvider"])
        self.info = info
        self.state_outputs = [s["input"] + "_out" for s in info.states]
        self.reset()

    def reset(self) -> None:
        self.states = {s["input"]: np.zeros(s["shape"], np.float32) for s in self.info.states}

    def step(self, x: object, cond: dict[str, np.ndarray]) -> np.ndarray:
        """Logits [classes] for sample input x (a class or a value) and the conditioning rows
        (input name -> [C] values)."""
        if self.info.input_kind == "scalar":
            feed_x = np.full((1, 1, 1), x, np.float32)
        else:
            feed_x = np.array([x], np.int64)
        feeds = {"x": feed_x, **self.states,
                 **{name: v.reshape(1, -1, 1) for name, v in cond.items()}}
        logits, *states = self.session.run(["logits", *self.state_outputs], feeds)
        self.states = dict(zip((s["input"] for s in self.info.states), states))
        return logits[0]

    def run(self, x: np.ndarray, rows: list[dict[str, np.ndarray]]) -> np.ndarray:
        """Logits [T, classes] over sample inputs x [T] and each sample's conditioning rows
        (cond_rows), from a fresh state."""
        self.reset()
        return np.stack([self.step(v, row) for v, row in zip(x.tolist(), rows)])


def cond_rows(graph: Graph, info: StepInfo, mel: np.ndarray, samples: int
              ) -> list[dict[str, np.ndarray]]:
    """Each sample's conditioning inputs (input name -> [C] float32) for mel frames [F, n_mels]:
    the rows the golden model (and the C) read at each sample."""
    from wncc.golden.model import GoldenModel

    columns = GoldenModel(graph).sample_conditioning(mel, samples)
    by_input = {c["input"]: columns[c["tensor"]] for c in info.cond}
    return [{name: np.ascontiguousarray(col[:, i], np.float32) for name, col in by_input.items()}
            for i in range(samples)]


def teacher_forced(runner: OrtStep, graph: Graph, x: np.ndarray, mel: np.ndarray) -> np.ndarray:
    """Logits [T, classes] of the step graph over sample inputs x [T] from a fresh state: what
    GoldenModel.teacher_forced computes, one ONNX Runtime call per sample."""
    return runner.run(x, cond_rows(graph, runner.info, mel, x.size))


def check(model: Path, graph: Graph, runner: OrtStep, x: np.ndarray, mel: np.ndarray) -> Check:
    """The step graph's teacher-forced logits against ONNX Runtime's full-sequence pass of the
    model it came from: verify's fp32 contract (logits_vs_onnxruntime)."""
    from wncc.verify import onnxruntime_check

    return onnxruntime_check(model, graph, "fp32", x, mel, teacher_forced(runner, graph, x, mel))
