"""Every kernel the emitted C can call exists as text in runtime_c/: the typed kernels generated
from their templates (runtime_c/tools/expand_kernels.py) are checked in and current, and the
calls of emitted projects name functions defined there."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from wncc.compiler import compile_model

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime_c"
TOOLS = RUNTIME / "tools"
sys.path.insert(0, str(TOOLS))

import expand_kernels  # noqa: E402

CALL = re.compile(r"\b(wn_\w+)\s*\(")
# a definition or declaration at the start of a line: return type(s), then the name and '('
DEFINED = re.compile(r"^(?:static\s+)?(?:inline\s+)?(?:const\s+)?\w+[\s*]+(wn_\w+)\s*\(", re.M)


def _definitions(files: list[Path]) -> set[str]:
    return {name for f in files for name in DEFINED.findall(f.read_text())
            if re.search(rf"\b{name}\s*\([^;]*?\)\s*\{{", f.read_text(), re.S)}


def test_checked_in_kernels_equal_their_expansion():
    done = subprocess.run([sys.executable, TOOLS / "expand_kernels.py", "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    generated = [path.name for path in expand_kernels.outputs()]
    assert "wn_conv_s8.c" in generated and "wn_sparse_s8s16.c" in generated
    for name in generated:
        assert "##" not in (RUNTIME / "ref" / name).read_text()


def test_expansion_pastes_nests_and_leaves_comments():
    text, macros = expand_kernels._defines(
        "#define CAT2(a, b) a##_##b\n#define CAT(a, b) CAT2(a, b)\n#define SFX s8\n"
        "#define DOT(w, first, x, n) \\\n    dot_s8((w) + (first), x, n)\n"
        "/* CAT(f, SFX) stays */ int CAT(f, SFX)(void) { return DOT(w, o * (k + 1), x, n); }")
    assert expand_kernels.expand(text, macros) == (
        "/* CAT(f, SFX) stays */ int f_s8(void) { return dot_s8((w) + (o * (k + 1)), x, n); }")
    assert "OTHER" in expand_kernels.expand("OTHER(SFX)", macros)  # undefined: left alone


def test_no_token_pasting_left_in_runtime_kernels():
    pasted = [f.relative_to(RUNTIME) for folder in RUNTIME.iterdir()
              if folder.is_dir() and folder.name != "tools"
              for f in folder.iterdir() if "##" in f.read_text()]
    assert pasted == []


@pytest.fixture(scope="module")
def projects(tiny_project, shipped_quantized, pruned, tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("text")
    out = [tiny_project[1]]
    out.append(compile_model(ROOT / "examples" / "models" / "tiny.onnx", d / "bf16",
                             dtype="bf16")[1])
    for dtype in ("int8", "int16x8", "int4", "int16"):
        out.append(compile_model(shipped_quantized(dtype), d / dtype, dtype=dtype)[1])
    for dtype, fmt in (("fp32", "csr"), ("int8", "bsr:4x4"), ("int4", "bitmask"),
                       ("int16x8", "csr")):
        out.append(compile_model(pruned[dtype], d / f"sparse-{dtype}", dtype=dtype,
                                 sparse=[fmt])[1])
    return out


def test_emitted_calls_are_defined_as_text_in_runtime_c(projects):
    runtime = sorted(p for p in RUNTIME.rglob("*") if p.suffix in (".c", ".h"))
    defined = _definitions(runtime)
    names = {p.name for p in runtime}
    assert {"wn_conv_ring_s8", "wn_spmv_csr_s8", "wn_conv_s8s16", "wn_dequantize_s8"} <= defined
    for project in projects:
        emitted = [f for f in project.iterdir() if f.suffix in (".c", ".h") and f.name not in names]
        own = _definitions(emitted)
        calls = {name for f in emitted for name in CALL.findall(f.read_text())}
        missing = sorted(calls - own - defined)
        assert missing == [], f"{project.name}: {missing}"
