"""Shared fixtures: small example models exported on the fly (deterministic weights) and their
compiled projects, built once per session."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from wncc.frontend.onnx import import_model
from wncc.golden.model import GoldenModel
from wncc.pipeline import load

ROOT = Path(__file__).resolve().parent.parent


def load_example(name: str):
    """Import a script from examples/ (not a package) as a module."""
    spec = importlib.util.spec_from_file_location(f"examples_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def wavenet():
    return load_example("wavenet")


@pytest.fixture(scope="session")
def models(tmp_path_factory, wavenet) -> dict[str, Path]:
    """tiny (dynamo and legacy export of the same weights) and tiny-transpose."""
    d = tmp_path_factory.mktemp("models")
    out = {}
    for config in ("tiny", "tiny-transpose"):
        model = wavenet.build(config, seed=1)
        out[config] = d / f"{config}.onnx"
        wavenet.export(model, out[config], dynamo=True)
        out[f"{config}-legacy"] = d / f"{config}-legacy.onnx"
        wavenet.export(model, out[f"{config}-legacy"], dynamo=False)
    return out


@pytest.fixture(scope="session")
def ends_model(tmp_path_factory, wavenet):
    """tiny with other ends of the sample loop (examples/wavenet.py's ``input`` and ``head``),
    exported once per session and arguments: ``ends_model("onehot_scatter", dynamo=False)``,
    ``ends_model("scalar", "mol")``; keyword arguments go to the config (input_kernel, ...)
    and to the export (static_frames, names)."""
    import dataclasses

    d = tmp_path_factory.mktemp("ends")
    cache: dict[tuple, Path] = {}
    export_keys = ("static_frames", "names")

    def get(input: str, head: str = "categorical", dynamo: bool = True, **kw) -> Path:
        key = (input, head, dynamo, tuple(sorted(kw.items())))
        if key not in cache:
            cfg = dataclasses.replace(wavenet.CONFIGS["tiny"], input=input, head=head,
                                      **{k: v for k, v in kw.items() if k not in export_keys})
            path = d / f"{'-'.join(map(str, key[:3]))}-{len(cache)}.onnx"
            wavenet.export(wavenet.build(cfg, seed=1), path, dynamo=dynamo,
                           **{k: v for k, v in kw.items() if k in export_keys})
            cache[key] = path
        return cache[key]
    return get


@pytest.fixture(scope="session")
def family_export(tmp_path_factory):
    """A family of examples/families.py (seed 3) exported once per session and arguments:
    ``family_export("kan-bayashi", "dynamo", dynamic=True)`` -> (torch model, ONNX path)."""
    fam = load_example("families")
    folder = tmp_path_factory.mktemp("families")
    cache: dict[tuple[str, str, bool], tuple[object, Path]] = {}

    def get(family: str, exporter: str = "dynamo", dynamic: bool = True) -> tuple[object, Path]:
        key = (family, exporter, dynamic)
        if key not in cache:
            model = fam.build(family, seed=3)
            path = folder / f"{family}-{exporter}-{'dynamic' if dynamic else 'static'}.onnx"
            fam.export(model, path, exporter, dynamic=dynamic,
                       output_name=fam.FAMILIES[family].output_name)
            cache[key] = model, path
        return cache[key]
    return get


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory, models):
    from wncc.compiler import compile_model

    graph, project = compile_model(models["tiny"], tmp_path_factory.mktemp("c") / "tiny")
    return graph, project


SHIPPED_TINY = ROOT / "examples" / "models" / "tiny.onnx"
CLIP = ROOT / "examples" / "data" / "test_clip.wav"


@pytest.fixture(scope="session")
def shipped_quantized(tmp_path_factory):
    """The shipped tiny quantized to a dtype (one ONNX Runtime calibration per dtype, options
    and session): ``shipped_quantized("int8")`` -> path; keyword options go to
    ``wncc.quant.quantize`` (``activation_type="QUInt8"``, ``quant_format="qoperator"``, ...)."""
    from wncc.quant.quantize import quantize
    d = tmp_path_factory.mktemp("shipped-q")
    cache: dict[tuple, Path] = {}

    def get(dtype: str, **options) -> Path:
        key = (dtype, *sorted(options.items()))
        if key not in cache:
            stem = "-".join([f"tiny-{dtype}", *(f"{k}={v}" for k, v in key[1:])])
            cache[key] = quantize(SHIPPED_TINY, dtype, CLIP, d / f"{stem}.onnx", **options)
        return cache[key]
    return get


@pytest.fixture(scope="session")
def pruned(tmp_path_factory) -> dict[str, Path]:
    """The trained tiny with 90% of each conv's weights zeroed (4x4 blocks) and 90% of its
    embedding table's entries, then quantized."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    from wncc.quant.quantize import quantize
    d = tmp_path_factory.mktemp("pruned")
    m = onnx.load(str(SHIPPED_TINY))
    rng = np.random.default_rng(0)
    for init in m.graph.initializer:
        a = numpy_helper.to_array(init)
        if init.name.endswith("weight") and a.ndim == 3 and "upsample" not in init.name:
            mat = np.transpose(a, (0, 2, 1)).reshape(a.shape[0], -1)
            keep = np.kron(rng.random((mat.shape[0] // 4, mat.shape[1] // 4)) > 0.9,
                           np.ones((4, 4), bool))
            mat = mat * keep
            a = np.transpose(mat.reshape(a.shape[0], a.shape[2], a.shape[1]), (0, 2, 1))
            init.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(a, np.float32), init.name))
        elif init.name == "embed.weight":
            a = a * (rng.random(a.shape) > 0.9)
            init.CopyFrom(numpy_helper.from_array(a.astype(np.float32), init.name))
    out = {"fp32": d / "p.onnx"}
    onnx.save(m, str(out["fp32"]))
    for dtype in ("int8", "int4", "int16x8"):
        out[dtype] = quantize(out["fp32"], dtype, CLIP, d / f"p-{dtype}.onnx")
    return out


# -- two quantized models that must import to the same integer graph (frontend tests)

def _integer_graph(path: Path) -> Counter:
    """(op, dtype and quantization of each output) of every node (the formats order their
    nodes differently)."""
    graph = import_model(path)
    return Counter((n.op, *((graph.tensors[o].dtype, graph.tensors[o].quant) for o in n.outputs))
                   for n in graph.nodes)


def _teacher_forced(path: Path) -> np.ndarray:
    rng = np.random.default_rng(5)
    mel = rng.standard_normal((3, 80)).astype(np.float32)
    return GoldenModel(load(path)).teacher_forced(rng.integers(0, 256, 600), mel)


@pytest.fixture
def assert_same_integer_model() -> Callable[[Path, Path], None]:
    """Two models written differently import to the same ops, integer types, scales and zero
    points, and compute the same logits."""
    def check(a: Path, b: Path) -> None:
        assert _integer_graph(a) == _integer_graph(b)
        np.testing.assert_array_equal(_teacher_forced(a), _teacher_forced(b))
    return check
