"""Gate fusion: slice -> tanh, slice -> sigmoid, mul  ==>  one gate op reading the conv output."""

from __future__ import annotations

from wncc.ir import Graph, Node


def _single_use(graph: Graph, tensor: str) -> bool:
    return len(graph.consumers(tensor)) == 1 and tensor != graph.output


def _match(graph: Graph, mul: Node) -> tuple[Node, Node, Node, Node] | None:
    prods = [graph.producer(t) for t in mul.inputs]
    if any(p is None for p in prods):
        return None
    by_op = {p.op: p for p in prods}
    if set(by_op) != {"tanh", "sigmoid"}:
        return None
    tanh, sig = by_op["tanh"], by_op["sigmoid"]
    st, ss = graph.producer(tanh.inputs[0]), graph.producer(sig.inputs[0])
    if st is None or ss is None or st.op != "slice" or ss.op != "slice":
        return None
    if st.inputs[0] != ss.inputs[0]:
        return None
    if (st.attrs["stop"] - st.attrs["start"]) != (ss.attrs["stop"] - ss.attrs["start"]):
        return None
    inner = [tanh.outputs[0], sig.outputs[0], st.outputs[0], ss.outputs[0]]
    if not all(_single_use(graph, t) for t in inner):
        return None
    return tanh, sig, st, ss


def fuse(graph: Graph) -> Graph:
    for mul in list(graph.ops("mul")):
        m = _match(graph, mul)
        if m is None:
            continue
        tanh, sig, st, ss = m
        gate = Node("gate", mul.name, [st.inputs[0]], list(mul.outputs),
                    attrs={"half": st.attrs["stop"] - st.attrs["start"],
                           "tanh_at": st.attrs["start"], "sigmoid_at": ss.attrs["start"],
                           "tanh_quant": graph.tensors[tanh.outputs[0]].quant,
                           "sigmoid_quant": graph.tensors[sig.outputs[0]].quant})
        dead = {id(n) for n in (tanh, sig, st, ss)}
        graph.nodes = [gate if n is mul else n for n in graph.nodes if id(n) not in dead]
        for t in (tanh.outputs[0], sig.outputs[0], st.outputs[0], ss.outputs[0]):
            graph.tensors.pop(t, None)
    return graph
