"""Mutation fuzzing of the importer, bounded: byte-level and structure-level mutations of the
shipped tiny model (names, attributes, shapes, dtypes, opsets, deleted nodes, external-data paths
that point outside the model's folder). Every input either compiles or exits 2 with one line on
stderr; nothing is left behind, and nothing outside the model's and the output's folders changes.
The seeds are fixed, so a failure reproduces."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto

from wncc.cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "models" / "tiny.onnx"


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*")}


def _compile_once(model: Path, work: Path, capsys) -> tuple[int, str]:
    """Compile and check the outcome: a complete project, or exit 2 with one line, no leftovers."""
    out = work / "out"
    before = _snapshot(work)
    rc = main(["compile", str(model), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc in (0, 2), err
    if rc == 2:
        assert err.startswith("wncc: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err
        assert not out.exists()
    else:
        assert (out / "report.json").exists() and (out / "wn_model.c").exists()
    after = {k: v for k, v in _snapshot(work).items() if not k.startswith("out")}
    assert after == before, "files outside the output folder changed"
    if out.exists():
        shutil.rmtree(out)
    return rc, err


def _byte_mutants(rng: np.random.Generator, data: bytes, n: int):
    for _ in range(n):
        b = bytearray(data)
        kind = rng.integers(4)
        if kind == 0:  # flip bytes
            for i in rng.integers(0, len(b), rng.integers(1, 9)):
                b[i] ^= int(rng.integers(1, 256))
        elif kind == 1:  # truncate
            del b[int(rng.integers(1, len(b))):]
        elif kind == 2:  # insert junk
            at = int(rng.integers(0, len(b)))
            b[at:at] = rng.integers(0, 256, int(rng.integers(1, 64))).astype(np.uint8).tobytes()
        else:  # overwrite a run near the start (the graph structure lives there)
            at = int(rng.integers(0, min(len(b), 4096)))
            b[at:at + 8] = rng.integers(0, 256, 8).astype(np.uint8).tobytes()
        yield bytes(b)


WEIRD_INTS = [0, -1, 1, 2, 3, 7, 1 << 31, -(1 << 40), 10 ** 12]
WEIRD_NAMES = ["", "x", "*/#error", "\n", "a" * 5000, "../../etc/passwd", "é\u202e"]


def _structure_mutant(rng: np.random.Generator, base: onnx.ModelProto) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(base)
    g = m.graph
    kind = int(rng.integers(9))
    node = g.node[int(rng.integers(len(g.node)))]
    if kind == 0:
        node.name = WEIRD_NAMES[int(rng.integers(len(WEIRD_NAMES)))]
    elif kind == 1 and node.attribute:
        attr = node.attribute[int(rng.integers(len(node.attribute)))]
        if attr.ints:
            attr.ints[int(rng.integers(len(attr.ints)))] = WEIRD_INTS[int(rng.integers(len(WEIRD_INTS)))]
        elif attr.type == onnx.AttributeProto.INT:
            attr.i = WEIRD_INTS[int(rng.integers(len(WEIRD_INTS)))]
        else:
            attr.name = "bogus"
    elif kind == 2:
        inp = g.input[int(rng.integers(len(g.input)))]
        dims = inp.type.tensor_type.shape.dim
        if dims:
            dims[int(rng.integers(len(dims)))].dim_value = WEIRD_INTS[int(rng.integers(len(WEIRD_INTS)))] % (1 << 31)
    elif kind == 3:
        init = g.initializer[int(rng.integers(len(g.initializer)))]
        init.data_type = int(rng.choice([TensorProto.INT8, TensorProto.DOUBLE, TensorProto.STRING, 99]))
    elif kind == 4:
        init = g.initializer[int(rng.integers(len(g.initializer)))]
        if init.raw_data:
            init.raw_data = init.raw_data[: len(init.raw_data) // 2]
        else:
            init.dims.append(3)
    elif kind == 5:
        m.opset_import[0].version = int(rng.choice([1, 7, 12, 99, 1000]))
    elif kind == 6:
        del g.node[int(rng.integers(len(g.node)))]
    elif kind == 7 and len(node.input) > 1:
        node.input[0], node.input[1] = node.input[1], node.input[0]
    else:
        node.op_type = str(rng.choice(["Mod", "Loop", "ConvTranspose", "Softmax", ""]))
    return m


@pytest.mark.parametrize("seed", [0, 1])
def test_byte_mutations(tmp_path, capsys, seed):
    rng = np.random.default_rng(seed)
    data = TINY.read_bytes()
    outcomes = []
    for i, blob in enumerate(_byte_mutants(rng, data, 40)):
        model = tmp_path / f"m{i}.onnx"
        model.write_bytes(blob)
        outcomes.append(_compile_once(model, tmp_path, capsys)[0])
    assert 2 in outcomes  # the mutations reached the checks


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_structure_mutations(tmp_path, capsys, seed):
    rng = np.random.default_rng(100 + seed)
    base = onnx.load(str(TINY))
    outcomes = []
    for i in range(40):
        model = tmp_path / f"s{i}.onnx"
        model.write_bytes(_structure_mutant(rng, base).SerializeToString())
        outcomes.append(_compile_once(model, tmp_path, capsys)[0])
    assert outcomes.count(2) >= 10


@pytest.mark.parametrize("location", ["../outside.bin", "/etc/hostname", "sub/../../outside.bin",
                                      "link.bin", "missing.bin", ""])
def test_external_data_stays_in_the_model_folder(tmp_path, capsys, location):
    folder = tmp_path / "model"
    folder.mkdir()
    secret = tmp_path / "outside.bin"
    secret.write_bytes(np.zeros(64 * 64, np.float32).tobytes())
    os.symlink(secret, folder / "link.bin")
    m = onnx.load(str(TINY))
    init = max(m.graph.initializer, key=lambda t: len(t.raw_data))
    init.ClearField("raw_data")
    init.data_location = TensorProto.EXTERNAL
    del init.external_data[:]
    init.external_data.add(key="location", value=location)
    model = folder / "ext.onnx"
    model.write_bytes(m.SerializeToString())
    rc, err = _compile_once(model, folder, capsys)
    assert rc == 2
    if location != "missing.bin":  # refused before anything is read
        assert "is outside the model's folder" in err
