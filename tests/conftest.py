"""Shared fixtures: small example models exported on the fly (deterministic weights) and their
compiled projects, built once per session."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

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
def tiny_project(tmp_path_factory, models):
    from wncc.compiler import compile_model

    graph, project = compile_model(models["tiny"], tmp_path_factory.mktemp("c") / "tiny")
    return graph, project
