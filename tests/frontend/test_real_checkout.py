"""The originals themselves: WaveNet vocoder classes imported from real checkouts, exported to
ONNX the way examples/families.py exports its twins, and run under ONNX Runtime.

Each test skips unless an environment variable names a checkout (like the CMSIS-NN tests):

    WNCC_R9Y9_WAVENET=/path/to/wavenet_vocoder              (github.com/r9y9/wavenet_vocoder)
    WNCC_KANBAYASHI_WAVENET=/path/to/PytorchWaveNetVocoder  (github.com/kan-bayashi/...)
    WNCC_NV_WAVENET=/path/to/nv-wavenet                     (github.com/NVIDIA/nv-wavenet)

What the imports need: only torch and numpy. r9y9's model is ``wavenet_vocoder.WaveNet``
(``wavenet_vocoder/{__init__,version,wavenet,modules,conv,upsample,mixture}.py``), built here
with the keyword arguments its ``train.py:build_model`` takes from hparams, so neither
``hparams.py`` nor train.py's dependencies (nnmnkwii, librosa, docopt, tensorboardX) are
imported. kan-bayashi's is ``wavenet_vocoder.nets.WaveNet`` (``nets/wavenet.py``: torch, numpy).
nv-wavenet's is ``pytorch/wavenet.py`` (``import wavenet``; torch only), whose forward takes one
``(features, samples)`` tuple, so a two-argument wrapper exports it. Both r9y9 and kan-bayashi
call their package ``wavenet_vocoder``: each import happens with its checkout first on sys.path
and leaves sys.path and sys.modules as it found them.

Beyond "ONNX Runtime runs it and matches torch", every test loads the original's state_dict into
its twin in examples/families.py (strict: same parameter names and shapes), checks that both
compute the same output, and that both exports hold the same ops, node for node by type; and
``wncc verify`` compiles the original's own export (fp32: C vs ONNX Runtime, C == golden).
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from wncc.verify import verify

from conftest import load_example

fam = load_example("families")

R9Y9 = os.environ.get("WNCC_R9Y9_WAVENET")
KANBAYASHI = os.environ.get("WNCC_KANBAYASHI_WAVENET")
NV = os.environ.get("WNCC_NV_WAVENET")


@contextlib.contextmanager
def _imported_from(path: Path, *packages: str):
    """Import ``packages`` from ``path`` only for the body; leave sys.path and sys.modules be."""
    if not path.is_dir():
        pytest.fail(f"{path} is not a directory (set by the environment)")
    saved_path = list(sys.path)
    saved = {k: sys.modules.pop(k) for k in list(sys.modules)
             if any(k == p or k.startswith(p + ".") for p in packages)}
    sys.path.insert(0, str(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated torch APIs they call (weight_norm, ...)
            yield [importlib.import_module(p) for p in packages]
    finally:
        sys.path[:] = saved_path
        for k in [k for k in sys.modules if any(k == p or k.startswith(p + ".") for p in packages)]:
            del sys.modules[k]
        sys.modules.update(saved)


def _compare(tmp_path, theirs: torch.nn.Module, twin: torch.nn.Module, state: dict,
             exporter: str, output_name: str, compiles: bool = True) -> None:
    """twin takes theirs' weights and computes the same; both export to the same ops; ORT runs
    their export (dynamic time axis) and matches torch at a length it was not traced with."""
    theirs.eval()
    twin.load_state_dict(state, strict=True)
    x, mel = twin.example_inputs(5, seed=1)
    with torch.no_grad():
        want = theirs(x, mel).numpy()
        assert np.array_equal(twin(x, mel).numpy(), want)

    paths = {}
    for who, model in (("theirs", theirs), ("twin", twin)):
        paths[who] = tmp_path / f"{who}-{exporter}.onnx"
        fam.export(model, paths[who], exporter, dynamic=True, output_name=output_name, twin=twin)
    ops = {who: collections.Counter(n.op_type for n in onnx.load(str(p)).graph.node)
           for who, p in paths.items()}
    assert ops["theirs"] == ops["twin"]

    sess = ort.InferenceSession(str(paths["theirs"]), providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {"x": x.numpy(), "mel": mel.numpy()})
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-5 * max(float(np.abs(want).max()), 1.0)

    if not compiles:
        return
    # and wncc compiles the original's own export: the C equals the golden model and ONNX Runtime
    report = verify(paths["theirs"], dtype="fp32", seconds=0.1, golden_samples=400,
                    stream_samples=96)
    assert report.passed, [f"{c.name}: {c.value}" for c in report.checks if not c.passed]


# ---------------------------------------------------------------------------------------------
# r9y9/wavenet_vocoder
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(not R9Y9, reason="WNCC_R9Y9_WAVENET names no r9y9/wavenet_vocoder checkout")
@pytest.mark.parametrize("exporter", fam.EXPORTERS)
@pytest.mark.parametrize("family", ["r9y9-mulaw", "r9y9-mol", "r9y9-gaussian"])
def test_r9y9_checkout(tmp_path, family, exporter):
    cfg = fam.config(family)
    with _imported_from(Path(R9Y9), "wavenet_vocoder") as (wv,):
        torch.manual_seed(0)
        # the arguments train.py's build_model passes from an egs/*/conf/*.json
        theirs = wv.WaveNet(
            out_channels=cfg.out_channels, layers=cfg.layers, stacks=cfg.stacks,
            residual_channels=cfg.residual_channels, gate_channels=cfg.gate_channels,
            skip_out_channels=cfg.skip_out_channels, cin_channels=cfg.cin_channels,
            gin_channels=-1, n_speakers=None, dropout=cfg.dropout, kernel_size=cfg.kernel_size,
            cin_pad=cfg.cin_pad, upsample_conditional_features=True,
            upsample_net="ConvInUpsampleNetwork",
            upsample_params={"upsample_scales": list(cfg.upsample_scales),
                             "cin_channels": cfg.cin_channels, "cin_pad": cfg.cin_pad},
            scalar_input=cfg.scalar_input, use_speaker_embedding=False,
            output_distribution="Normal" if cfg.out_channels == 2 else "Logistic")
        with torch.no_grad():  # gains unlike |v|, so a twin that ignored g would differ
            for name, p in theirs.named_parameters():
                if name.endswith("weight_g"):
                    p.mul_(torch.linspace(0.8, 1.2, p.numel()).reshape(p.shape))
        _compare(tmp_path, theirs, fam.build(family), theirs.state_dict(), exporter,
                 fam.FAMILIES[family].output_name)


# ---------------------------------------------------------------------------------------------
# kan-bayashi/PytorchWaveNetVocoder
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(not KANBAYASHI,
                    reason="WNCC_KANBAYASHI_WAVENET names no PytorchWaveNetVocoder checkout")
@pytest.mark.parametrize("exporter", fam.EXPORTERS)
def test_kan_bayashi_checkout(tmp_path, exporter):
    cfg = fam.config("kan-bayashi", time_major_output=True)  # theirs returns [B, T, C]
    with _imported_from(Path(KANBAYASHI), "wavenet_vocoder", "wavenet_vocoder.nets") as (_, nets):
        torch.manual_seed(0)
        theirs = nets.WaveNet(
            n_quantize=cfg.n_quantize, n_aux=cfg.n_aux, n_resch=cfg.n_resch,
            n_skipch=cfg.n_skipch, dilation_depth=cfg.dilation_depth,
            dilation_repeat=cfg.dilation_repeat, kernel_size=cfg.kernel_size,
            upsampling_factor=cfg.upsampling_factor)
        theirs.apply(nets.initialize)
        with torch.no_grad():  # initialize() makes the upsampling all ones: give it an order
            w = theirs.upsampling.conv.weight
            w.copy_(torch.linspace(0.5, 1.5, w.numel()).reshape(w.shape))
        _compare(tmp_path, theirs, fam.build("kan-bayashi", time_major_output=True),
                 theirs.state_dict(), exporter, "logits")


# ---------------------------------------------------------------------------------------------
# NVIDIA/nv-wavenet (pytorch/)
# ---------------------------------------------------------------------------------------------


class _Pair(torch.nn.Module):
    """nv-wavenet's forward takes one (features, samples) tuple; export wants (x, mel)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
        return self.model((mel, x))


@pytest.mark.skipif(not NV, reason="WNCC_NV_WAVENET names no nv-wavenet checkout")
@pytest.mark.parametrize("exporter", fam.EXPORTERS)
def test_nv_wavenet_checkout(tmp_path, exporter):
    cfg = fam.config("nv-wavenet", shift_output=True)  # their training forward shifts one step
    with _imported_from(Path(NV) / "pytorch", "wavenet") as (nv,):
        torch.manual_seed(0)
        theirs = nv.WaveNet(
            n_in_channels=cfg.n_in_channels, n_layers=cfg.n_layers,
            max_dilation=cfg.max_dilation, n_residual_channels=cfg.n_residual_channels,
            n_skip_channels=cfg.n_skip_channels, n_out_channels=cfg.n_out_channels,
            n_cond_channels=cfg.n_cond_channels, upsamp_window=cfg.upsamp_window,
            upsamp_stride=cfg.upsamp_stride)
        # their training forward shifts the output one step (a zeroed column concatenated in
        # front), which a generator does not export: its twin without the shift compiles
        # (tests/test_bring_your_own.py)
        _compare(tmp_path, _Pair(theirs), fam.build("nv-wavenet", shift_output=True),
                 theirs.state_dict(), exporter, "logits", compiles=False)
