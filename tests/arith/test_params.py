"""The typed parameter blocks and the C structs they initialize agree field by field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wncc.arith import params

HEADER = Path(__file__).resolve().parents[2] / "runtime_c" / "include" / "wn_runtime.h"
STRUCTS = [params.AddQ, params.MulQ, params.RescaleQ, params.Act16Q]


def c_struct_fields(text: str, name: str) -> list[str]:
    """Field names of ``typedef struct { ... } name;`` in declaration order."""
    m = re.search(r"typedef struct \{([^}]*)\}\s*" + re.escape(name) + r";", text)
    assert m, name
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    fields = []
    for decl in body.split(";"):
        decl = decl.strip()
        if decl:
            names = decl.split(None, 1)[1] if decl.startswith("int32_t") else decl.rsplit(None, 1)[1]
            fields += [n.strip().lstrip("*") for n in names.split(",")]
    return fields


@pytest.mark.parametrize("cls", STRUCTS, ids=lambda c: c.C_NAME)
def test_dataclass_fields_are_the_c_struct_fields(cls):
    import dataclasses
    assert [f.name for f in dataclasses.fields(cls)] == c_struct_fields(HEADER.read_text(),
                                                                         cls.C_NAME)


def test_a_reordered_struct_is_caught():
    text = "typedef struct {\n    int32_t shift, mult, zp_in, zp_out;\n} wn_rescale_q;\n"
    assert c_struct_fields(text, "wn_rescale_q") != ["mult", "shift", "zp_in", "zp_out"]


def test_c_values_follow_the_field_order():
    q = params.MulQ(mult=7, shift=-3, zp_a=1, zp_b=2, zp_out=-5)
    assert q.c_values().tolist() == [7, -3, 1, 2, -5, 1]
