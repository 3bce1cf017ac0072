"""QOperator graphs (ONNX Runtime's ``quant_format=QuantFormat.QOperator``) rewritten as QDQ.

Each QOperator op is its float op between DequantizeLinear and QuantizeLinear, so the QDQ
importer (frontend/qdq.py) maps it onto the same integer IR ops as ONNX Runtime's QDQ format:

    QLinearConv(x, xs, xz, w, ws, wz, ys, yz, B) == Q(Conv(DQ(x), DQ(w), DQ(B, xs * ws)), ys, yz)
    QLinearAdd(a, as, az, b, bs, bz, cs, cz)     == Q(Add(DQ(a), DQ(b)), cs, cz)   (Mul, MatMul)
    QLinearSigmoid(x, xs, xz, ys, yz)            == Q(Sigmoid(DQ(x)), ys, yz)      (LeakyRelu)

The int32 bias of QLinearConv has the implicit scale xs * ws (per output channel) and zero
point 0; the rewrite writes that scale as an initializer. Ops that move integers without
arithmetic (Gather of a quantized table, Transpose, Split, Resize, ...) keep their quantization:
each becomes DQ -> op -> Q with the parameters of its input, as ONNX Runtime's QDQ format writes
them. Tanh stays as ONNX Runtime writes it (DQ -> Tanh -> Q). The parameters of an integer tensor
come from the node that writes it (QuantizeLinear, a QOperator op) or reads it (DequantizeLinear,
a QOperator op) and carry through the data-movement ops. A graph without QOperator ops is
returned unchanged; a QOperator op with no float equivalent here is refused, naming the node.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import onnx
from onnx import helper, numpy_helper

from wncc.errors import WnccError


@dataclasses.dataclass(frozen=True)
class _Form:
    """Where a QOperator op's operands sit among its inputs."""

    op: str  # the float op (default domain)
    # (position of x, its DequantizeLinear axis) of each integer input; its scale, zp follow
    inputs: tuple[tuple[int, int], ...]
    output: int  # position of the output's scale; its zero point follows
    bias: int | None = None  # position of an int32 bias whose scale is x scale * w scale


FORMS = {
    "QLinearConv": _Form("Conv", ((0, 1), (3, 0)), 6, bias=8),
    "QLinearMatMul": _Form("MatMul", ((0, 1), (3, -1)), 6),
    "QLinearAdd": _Form("Add", ((0, 1), (3, 1)), 6),
    "QLinearMul": _Form("Mul", ((0, 1), (3, 1)), 6),
    "QLinearSigmoid": _Form("Sigmoid", ((0, 1),), 3),
    "QLinearLeakyRelu": _Form("LeakyRelu", ((0, 1),), 3),
}

# ops that only move integers: the positions of their data inputs (the rest are indices, sizes);
# Pad's constant value is an integer too (ONNX Runtime passes the zero point)
MOVES = {"Gather": (0,), "Transpose": (0,), "Split": (0,), "Resize": (0,), "Reshape": (0,),
         "Squeeze": (0,), "Unsqueeze": (0,), "Slice": (0,), "Identity": (0,), "Pad": (0, 2)}

_QDQ = ("QuantizeLinear", "DequantizeLinear")
Params = tuple[str, str]  # (scale, zero point) names of an integer tensor


def is_qoperator(node: onnx.NodeProto) -> bool:
    """An op of ONNX Runtime's QOperator format (integer in, integer out)."""
    op = node.op_type
    return op.startswith("QLinear") or op in ("QGemm", "QAttention") or op.endswith("Integer")


def to_qdq(model: onnx.ModelProto, path: str) -> onnx.ModelProto:
    """The model with every QOperator op written as DQ -> float op -> Q (see the module doc)."""
    nodes = list(model.graph.node)
    if not any(is_qoperator(n) for n in nodes):
        return model
    for node in nodes:
        if is_qoperator(node) and node.op_type not in FORMS:
            raise WnccError(f"QOperator op '{_domain(node)}{node.op_type}' has no QDQ form here "
                            f"(supported: {', '.join(FORMS)})", node=_name(node), path=path)
    rewrite = _Rewrite(model, path)
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.node[:]
    for node in nodes:
        out.graph.node.extend(rewrite.node(node))
    out.graph.initializer.extend(rewrite.initializers)
    return out


def _name(node: onnx.NodeProto) -> str:
    return node.name or f"{node.op_type}({', '.join(node.output)})"


def _domain(node: onnx.NodeProto) -> str:
    return f"{node.domain}." if node.domain not in ("", "ai.onnx") else ""


def _params(nodes: list[onnx.NodeProto]) -> dict[str, Params]:
    """The (scale, zero point) of every integer tensor (see the module doc)."""
    params: dict[str, Params] = {}
    for node in nodes:
        ins = list(node.input) + ["", ""]
        if node.op_type == "QuantizeLinear":
            params[node.output[0]] = (ins[1], ins[2])
        elif node.op_type == "DequantizeLinear":
            params[node.input[0]] = (ins[1], ins[2])
        elif node.op_type in FORMS:
            form = FORMS[node.op_type]
            for pos, _ in form.inputs:
                params[ins[pos]] = (ins[pos + 1], ins[pos + 2])
            params[node.output[0]] = (ins[form.output], ins[form.output + 1])
    changed = True
    while changed:  # through the data-movement ops, both ways (a Gather's table from its reader)
        changed = False
        for node in nodes:
            names = [n for n in _moved(node) + list(node.output) if n]
            known = next((params[n] for n in names if n in params), None)
            for n in names if known else []:
                if n not in params:
                    params[n] = known
                    changed = True
    return params


def _moved(node: onnx.NodeProto) -> list[str]:
    """The data inputs of a data-movement op (none for other ops)."""
    return [node.input[i] for i in MOVES.get(node.op_type, ()) if i < len(node.input)]


def _pads_integer_zero(node: onnx.NodeProto) -> bool:
    """A constant-mode Pad without a value: it pads integer 0, no real zero on an integer tensor."""
    mode = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "mode"),
                b"constant")
    return mode in (b"constant", "constant") and (len(node.input) < 3 or not node.input[2])


class _Rewrite:
    """Node by node: the QDQ nodes that stand for one node of the QOperator graph."""

    def __init__(self, model: onnx.ModelProto, path: str) -> None:
        self.path = path
        self.params = _params(list(model.graph.node))
        self.inits = {i.name: i for i in model.graph.initializer}
        self.initializers: list[onnx.TensorProto] = []
        self.taken = ({n for node in model.graph.node for n in [*node.input, *node.output]}
                      | set(self.inits) | {i.name for i in model.graph.input})

    def fresh(self, base: str) -> str:
        """A name no tensor or node of the graph has: base, base_2, base_3, ..."""
        candidates = itertools.chain([base], (f"{base}_{i}" for i in itertools.count(2)))
        name = next(n for n in candidates if n not in self.taken)
        self.taken.add(name)
        return name

    def node(self, node: onnx.NodeProto) -> list[onnx.NodeProto]:
        if node.op_type in FORMS:
            return self.qlinear(node, FORMS[node.op_type])
        if node.op_type in _QDQ:
            return [node]
        moved = [n for n in _moved(node) if n in self.params]
        stray = [n for n in node.input if n in self.params and n not in moved]
        if stray:
            raise WnccError(f"'{_domain(node)}{node.op_type}' reads the integer tensor "
                            f"'{stray[0]}' of a QOperator graph; only QOperator ops, "
                            f"DequantizeLinear and {', '.join(MOVES)} may", node=_name(node),
                            path=self.path)
        return self.move(node) if moved else [node]

    def dequantize(self, node: onnx.NodeProto, x: str, params: Params, axis: int = 1
                   ) -> tuple[onnx.NodeProto, str]:
        out = self.fresh(f"{x}_dequantized")
        dq = helper.make_node("DequantizeLinear", [x, *params], [out],
                              name=self.fresh(f"{_name(node)}_dq"), axis=axis)
        return dq, out

    def quantize(self, node: onnx.NodeProto, real: str, out: str) -> onnx.NodeProto:
        return helper.make_node("QuantizeLinear", [real, *self.params[out]], [out],
                                name=self.fresh(f"{_name(node)}_q"))

    def qlinear(self, node: onnx.NodeProto, form: _Form) -> list[onnx.NodeProto]:
        ins = list(node.input) + [""] * 9
        nodes, reals = [], []
        for pos, axis in form.inputs:
            dq, real = self.dequantize(node, ins[pos], (ins[pos + 1], ins[pos + 2]), axis)
            nodes.append(dq)
            reals.append(real)
        if form.bias is not None and ins[form.bias]:
            dq, real = self.dequantize(node, ins[form.bias], (self.bias_scale(node, ins), ""), 0)
            nodes.append(dq)
            reals.append(real)
        real_out = self.fresh(f"{node.output[0]}_real")
        nodes.append(helper.make_node(form.op, reals, [real_out], name=node.name,
                                      **{a.name: helper.get_attribute_value(a)
                                         for a in node.attribute}))
        nodes.append(self.quantize(node, real_out, node.output[0]))
        return nodes

    def bias_scale(self, node: onnx.NodeProto, ins: list[str]) -> str:
        """An initializer holding QLinearConv's implicit bias scale, x scale * w scale."""
        missing = [n for n in (ins[1], ins[4]) if n not in self.inits]
        if missing:
            raise WnccError(f"QLinearConv with a bias needs constant input and weight scales; "
                            f"'{missing[0]}' is not an initializer", node=_name(node),
                            path=self.path)
        xs, ws = (numpy_helper.to_array(self.inits[n]).astype(np.float32) for n in (ins[1], ins[4]))
        name = self.fresh(f"{ins[8]}_scale")
        scale = xs * ws
        self.initializers.append(numpy_helper.from_array(
            scale.reshape(-1) if scale.size > 1 else scale.reshape(()), name))
        return name

    def move(self, node: onnx.NodeProto) -> list[onnx.NodeProto]:
        """A data-movement op on integers: DQ its data inputs, Q its outputs."""
        nodes, ins = [], list(node.input)
        if node.op_type == "Pad" and _pads_integer_zero(node):
            raise WnccError("Pad of an integer tensor without a constant value pads integer 0, "
                            "which is no real zero; give the zero point as the value",
                            node=_name(node), path=self.path)
        for i, name in enumerate(ins):
            if name in self.params and name in _moved(node):
                dq, ins[i] = self.dequantize(node, name, self.params[name])
                nodes.append(dq)
        reals = [self.fresh(f"{o}_real") if o else "" for o in node.output]
        op = onnx.NodeProto()
        op.CopyFrom(node)
        del op.input[:], op.output[:]
        op.input.extend(ins)
        op.output.extend(reals)
        nodes.append(op)
        nodes.extend(self.quantize(node, real, out)
                     for real, out in zip(reals, node.output) if out)
        return nodes
