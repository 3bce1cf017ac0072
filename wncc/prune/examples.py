"""The PyTorch side of pruning: examples/wavenet.py and examples/train.py imported by path, and
models loaded from a checkpoint, an ONNX export or a config name.

``examples/`` is not a package. ``train.py`` puts ``examples/`` on ``sys.path`` and imports
``wavenet`` as a top-level module, so the WaveNet class used here is ``train.wavenet.WaveNet``
(one module object for both scripts).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from wncc.errors import WnccError

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

_TRAIN: ModuleType | None = None


def train_module() -> ModuleType:
    """examples/train.py (imports examples/wavenet.py as ``wavenet``)."""
    global _TRAIN
    if _TRAIN is None:
        path = EXAMPLES / "train.py"
        if not path.exists():
            raise WnccError("examples/train.py not found (wncc prune needs a source checkout)")
        spec = importlib.util.spec_from_file_location("wncc_examples_train", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _TRAIN = module
    return _TRAIN


def wavenet_module() -> ModuleType:
    """examples/wavenet.py, the same module object train.py uses."""
    return train_module().wavenet


def _shapes(state: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items()}


def config_for(state: dict[str, Any], name: str | None = None, stored: dict | None = None):
    """The WaveNetConfig of a state_dict: ``name`` if given, else the config stored beside it
    (train.py checkpoints), else the unique entry of CONFIGS whose parameter shapes match."""
    wn = wavenet_module()
    if name is not None:
        if name not in wn.CONFIGS:
            raise WnccError(f"unknown config '{name}' (known: {', '.join(sorted(wn.CONFIGS))})")
        return wn.CONFIGS[name]
    if stored:
        return wn.WaveNetConfig(**stored)
    shapes = _shapes(state)
    hits = [k for k, cfg in wn.CONFIGS.items()
            if _shapes(wn.WaveNet(cfg).state_dict()) == shapes]
    if len(hits) != 1:
        raise WnccError("cannot tell the model's config from its parameter shapes "
                        f"({'ambiguous: ' + ', '.join(hits) if hits else 'no config matches'}): "
                        "pass --config")
    return wn.CONFIGS[hits[0]]


def load_model(source: str | Path, config: str | None = None, seed: int = 0):
    """(model, cfg, description) from a .pt checkpoint (a state_dict or train.py's
    ``{"model", "config", ...}``), an .onnx export of examples/wavenet.py (initializers named
    like the state_dict) or a config name (random weights from ``wavenet.build(name, seed)``)."""
    import torch

    wn = wavenet_module()
    text = str(source)
    path = Path(text)
    if not path.exists():
        if text in wn.CONFIGS and config in (None, text):
            return wn.build(text, seed), wn.CONFIGS[text], f"config {text} (random weights, seed {seed})"
        raise WnccError("not a checkpoint, ONNX file or config name "
                        f"(configs: {', '.join(sorted(wn.CONFIGS))})", path=text)
    if path.suffix == ".onnx":
        import onnx
        from onnx import numpy_helper

        try:
            proto = onnx.load(str(path))
        except Exception as exc:  # noqa: BLE001 - any parse failure is bad input
            raise WnccError(f"cannot read ONNX model: {exc}", path=text) from None
        inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
                 for i in proto.graph.initializer}
        probe = {k: v for k, v in inits.items()
                 if k.startswith(("embed.", "layers.", "head1.", "head2.", "upsample."))}
        cfg = config_for(probe, config)
        model = wn.build(cfg, seed)
        sd = model.state_dict()
        missing = [k for k in sd if k not in inits]
        if missing:
            raise WnccError(f"ONNX initializers do not name the WaveNet parameters (missing "
                            f"{missing[0]!r}); export with examples/wavenet.py", path=text)
        bad = [k for k in sd if tuple(inits[k].shape) != tuple(sd[k].shape)]
        if bad:
            raise WnccError(f"parameter {bad[0]!r} has shape {list(inits[bad[0]].shape)}, config "
                            f"expects {list(sd[bad[0]].shape)}", path=text)
        model.load_state_dict({k: inits[k] for k in sd})
        return model.eval(), cfg, f"{path.name} (ONNX initializers)"
    try:
        ck = torch.load(str(path), map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001
        raise WnccError(f"cannot read checkpoint: {exc}", path=text) from None
    if not isinstance(ck, dict):
        raise WnccError("checkpoint is not a state_dict or a dict with 'model'", path=text)
    state = ck.get("model", ck)
    if "sha256" in state:
        raise WnccError(f"this kept training checkpoint refers to its weights in "
                        f"{state.get('path')}: prune that file", path=text)
    cfg = config_for(state, config, ck.get("config") if "model" in ck else None)
    model = wn.build(cfg, seed)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise WnccError(f"checkpoint does not fit config: {' '.join(first[:2])}", path=text) from None
    step = ck.get("step") if "model" in ck else None
    return model.eval(), cfg, f"{path.name}" + (f" (step {step})" if step is not None else "")