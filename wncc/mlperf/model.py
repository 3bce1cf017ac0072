"""The model a benchmark runs: the ONNX file (quantized on the way to an integer dtype with
``--calib``, as ``wncc compile`` does) and, for the C backend, its compiled project."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from wncc.errors import WnccError

FLOAT_DTYPES = ("fp32", "fp16", "bf16")


@dataclass(frozen=True)
class Model:
    """``onnx``: what ONNX Runtime runs and the C is compiled from (None for a project folder);
    ``source``: the file or folder given."""

    source: Path
    onnx: Path | None
    dtype: str

    def describe(self) -> dict:
        info = {"name": self.source.name, "dtype": self.dtype,
                "onnx_run": self.onnx.name if self.onnx else None}
        if self.source.is_file():
            info["sha256"] = hashlib.sha256(self.source.read_bytes()).hexdigest()
        return info


def prepare(source: str | Path, dtype: str, calib: str | Path | None, work: Path) -> Model:
    """The model at ``dtype`` ("auto": the model's own); quantized into ``work`` when a float
    model meets an integer dtype (which needs ``calib``)."""
    from wncc.fidelity.evaluate import model_dtype

    src = Path(source)
    if not src.exists():
        raise WnccError("model not found", path=str(src))
    if src.is_dir():
        if not (src / "wn_model.h").exists():
            raise WnccError("not a wncc project folder (no wn_model.h)", path=str(src))
        return Model(src, None, "as compiled" if dtype == "auto" else dtype)
    own = model_dtype(src)
    dtype = own if dtype == "auto" else dtype
    if own != "fp32" or dtype in FLOAT_DTYPES:
        if own != "fp32" and dtype != own:
            raise WnccError(f"the model is already {own}; it cannot run as {dtype}", path=str(src))
        return Model(src, src, dtype)
    if not calib:
        raise WnccError(f"a float model needs --calib AUDIO to run as {dtype}", path=str(src))
    from wncc.quant.quantize import quantize

    work.mkdir(parents=True, exist_ok=True)
    return Model(src, quantize(src, dtype, calib, work / f"{src.stem}.{dtype}.onnx"), dtype)


def compile_c(model: Model, out: Path) -> Path:
    """The C project of ``model`` in ``out`` (a project folder is used as it is)."""
    from wncc.compiler import compile_model

    if model.onnx is None:
        return model.source
    _, project = compile_model(model.onnx, out, dtype=model.dtype,
                               command=f"wncc mlperf {model.source.name} --dtype {model.dtype}")
    return project
