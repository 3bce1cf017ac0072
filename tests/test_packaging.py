"""`pip install .` gives a working tool: a wheel built from the checkout, installed into a fresh
virtualenv outside the repository, compiles and verifies tiny with only its own files (templates,
runtime_c and targets travel as package data)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def _source_copy(dst: Path) -> Path:
    """The checkout's files as git sees them (tracked and untracked-not-ignored; links kept as
    links), so the build neither writes into the checkout nor picks up its leftovers."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        src, out = ROOT / rel, dst / rel
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            out.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, out)
    return dst


def test_wheel_installs_a_working_tool(tmp_path):
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    source = _source_copy(tmp_path / "src")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q",
                  "-w", tmp_path / "dist", source], cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("wncc-*.whl"))
    env = tmp_path / "env"
    venv.create(env, with_pip=False)
    py = env / "bin" / "python"
    site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp_path).stdout.strip())
    # the wheel alone, with no dependencies fetched: they come from this interpreter's
    # site-packages, placed after the new environment's own (so its wncc wins)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                      "--target", site, wheel], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    where = _run([py, "-c", "import wncc, wncc.resources as r; print(wncc.__file__); "
                  "print(r.TEMPLATES.is_dir() and r.RUNTIME.is_dir() and r.TARGETS.is_dir())"],
                 cwd=tmp_path)
    assert where.stdout.split() == [str(site / "wncc" / "__init__.py"), "True"], where.stderr
    work = tmp_path / "work"
    work.mkdir()
    model = ROOT / "examples" / "models" / "tiny.onnx"
    wncc = [py, "-m", "wncc.cli"]
    compiled = _run([*wncc, "compile", model, "--target", "cortex-m4", "-o", "proj"], cwd=work)
    assert compiled.returncode == 0, compiled.stderr
    assert (work / "proj" / "wn_model.c").exists() and (work / "proj" / "wn_startup_cm.c").exists()
    verified = _run([*wncc, "verify", model, "--seconds", "0.25", "--samples", "400"], cwd=work)
    assert verified.returncode == 0 and "verify: PASS" in verified.stdout, \
        verified.stdout[-2000:] + verified.stderr[-2000:]
