"""A model's strings are data, never code: node, initializer, value and graph names, doc strings,
producer fields and metadata full of comment terminators, newlines, preprocessor lines, quotes,
backslashes, trigraphs and non-ASCII reach the emitted C, Makefile and CMake files only as inert
comment text; report.json stays valid JSON with the exact names; errors stay one line."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest

from wncc.cli import main
from wncc.compiler import compile_model
from wncc.harness import CModel

HOSTILE = [
    'x */ #error injected\n#include "/etc/passwd"\n/* ',
    "back\\\n#error spliced",
    "tri??/\n#error trigraph",
    "quote\"'`$(touch pwned)",
    "//line\n#define WN_HOP 1",
    "ünïcødé\u202e\x1b[31m",
    "#[[ cmake bracket\n]]",
]
MARKERS = ("injected", "passwd", "spliced", "trigraph", "pwned", "WN_HOP 1", "cmake bracket")


def _hostile_copy(src: Path, dst: Path) -> dict[str, str]:
    """src with every name replaced by a hostile string (unique by a suffix); returns the map."""
    m = onnx.load(str(src))
    g = m.graph
    names = sorted({n for node in g.node for n in [*node.input, *node.output] if n}
                   | {i.name for i in g.initializer} | {i.name for i in g.input}
                   | {o.name for o in g.output})
    rename = {n: f"{HOSTILE[i % len(HOSTILE)]}#{i}" for i, n in enumerate(names)}
    for i, node in enumerate(g.node):
        node.name = f"{HOSTILE[i % len(HOSTILE)]}@{i}"
        node.doc_string = HOSTILE[0]
        node.input[:] = [rename.get(n, n) for n in node.input]
        node.output[:] = [rename.get(n, n) for n in node.output]
    for coll in (g.initializer, g.input, g.output, g.value_info):
        for item in coll:
            item.name = rename.get(item.name, item.name)
    g.name, g.doc_string = HOSTILE[0], HOSTILE[1]
    m.producer_name, m.producer_version, m.doc_string = HOSTILE[2], HOSTILE[3], HOSTILE[4]
    onnx.helper.set_model_props(m, {HOSTILE[5]: HOSTILE[0]})
    onnx.save(m, str(dst))
    return rename


@pytest.fixture(scope="module")
def hostile(models, tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    path = d / "evil *?? name\n#error injected.onnx"
    _hostile_copy(models["tiny"], path)
    graph, project = compile_model(path, d / "project",
                                   command=f"wncc compile '{path.name}' --target host")
    return path, project


def _code_without_comments(path: Path) -> str:
    """The file as the C compiler sees it once comments are gone (no includes, no macros run)."""
    proc = subprocess.run(["gcc", "-fpreprocessed", "-dD", "-E", "-P", "-x", "c", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_names_reach_the_c_only_as_comment_text(hostile):
    _, project = hostile
    sources = sorted(project.glob("*.[ch]"))
    assert len(sources) > 5
    mentioned = 0
    for src in sources:
        text = src.read_text()
        assert text.isascii(), src.name
        mentioned += any(m in text for m in MARKERS)
        code = _code_without_comments(src)
        for marker in MARKERS:
            assert marker not in code, (src.name, marker)
    assert mentioned >= 3  # the names are there, as comments (model, weights, API header)


def test_build_files_hold_names_in_comment_lines_only(hostile):
    _, project = hostile
    for name in ("Makefile", "CMakeLists.txt"):
        lines = (project / name).read_text().splitlines()
        hits = [line for line in lines if any(m in line for m in MARKERS)]
        assert hits, name
        assert all(line.startswith("# ") and not line.endswith("\\") for line in hits), name


def test_project_builds_strictly_and_computes_the_same_model(hostile, tiny_project, tmp_path):
    _, project = hostile
    work = tmp_path / "build"
    shutil.copytree(project, work)
    proc = subprocess.run(["make", "-C", str(work), "CC=gcc", "CFLAGS=-O1 -Werror"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rng = np.random.default_rng(3)
    mel = rng.standard_normal((2, 80)).astype(np.float32)
    x = rng.integers(0, 256, 400)
    got = CModel(project).teacher_forced(x, mel)
    np.testing.assert_array_equal(got, CModel(tiny_project[1]).teacher_forced(x, mel))


def test_report_keeps_the_exact_names(hostile):
    path, project = hostile
    report = json.loads((project / "report.json").read_text())
    assert report["source"] == path.name
    labels = {layer["label"] for layer in report["layers"]}
    assert any(label.startswith(HOSTILE[0]) or "\n" in label for label in labels)


def test_step_graph_names_only_its_own_values(hostile, tmp_path):
    """export-step: the graph's inputs, outputs, nodes and values are wncc's names; the IR's
    tensor names (made from the model's) appear only in the metadata, as JSON data."""
    from wncc.pipeline import load
    from wncc.stepgraph import build

    path, _ = hostile
    graph = load(path)
    model, info = build(graph)
    g = model.graph
    names = ([v.name for v in [*g.input, *g.output]] + [n.name for n in g.node]
             + [v for n in g.node for v in [*n.input, *n.output]] + [t.name for t in g.initializer])
    assert all(name.isascii() and name.isalnum() or name.endswith("_out") for name in names)
    meta = json.loads({p.key: p.value for p in model.metadata_props}["wncc.step"])
    assert meta["cond"] == info.cond and all(c["tensor"] in graph.tensors for c in meta["cond"])


def test_errors_name_hostile_nodes_on_one_line(models, tmp_path, capsys):
    path = tmp_path / "bad.onnx"
    _hostile_copy(models["tiny"], path)
    m = onnx.load(str(path))
    conv = next(n for n in m.graph.node if n.op_type == "Conv")
    conv.op_type = "ConvInteger\n#error op"
    onnx.save(m, str(path))
    out = tmp_path / "never"
    assert main(["compile", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("wncc: error: ") and "\x1b" not in err
    assert not out.exists() and not list(tmp_path.glob(".never*"))
