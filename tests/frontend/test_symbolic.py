"""Shape arithmetic on the time length (frontend/symbolic.py): affine lengths through the ops
exporters emit for `x[:, :, :residual.size(-1)]`, refused where a length stops being affine."""

from __future__ import annotations

import numpy as np
from onnx import helper

from wncc.frontend.symbolic import evaluate, is_symbolic
from wncc.ir import Len

T = Len("sample", 1, 0)


def _node(op: str, **attrs):
    return helper.make_node(op, ["a", "b"], ["y"], **attrs)


def test_len_arithmetic():
    assert T + 3 - 1 == Len("sample", 1, 2)
    assert 2 * (T - 4) == Len("sample", 2, -8)
    assert (T + 5) - T == Len("sample", 0, 5)
    assert Len("frame", 16, -64).text() == "16*F-64"
    assert (T - 1).scaled(4) == Len("sample", 4, -4)


def test_shape_gather_unsqueeze_slice_chain():
    shape = np.array([1, 32, T], dtype=object)
    (last,) = evaluate(helper.make_node("Gather", ["s", "i"], ["y"], axis=0),
                       [shape, np.array(2)])
    assert last == T
    (ends,) = evaluate(helper.make_node("Unsqueeze", ["a", "b"], ["y"]), [last, np.array([0])])
    assert is_symbolic(ends) and list(ends) == [T]
    (sub,) = evaluate(_node("Sub"), [ends, np.array([2])])
    assert list(sub) == [T - 2]


def test_division_must_stay_affine():
    assert evaluate(_node("Div"), [np.array([Len("frame", 16, 32)], dtype=object),
                                   np.array([16])])[0][0] == Len("frame", 1, 2)
    assert evaluate(_node("Div"), [np.array([T], dtype=object), np.array([2])]) is None


def test_unknown_op_is_not_folded():
    assert evaluate(helper.make_node("Range", ["a", "b", "c"], ["y"]),
                    [np.array([T], dtype=object), np.array(0), np.array(1)]) is None
