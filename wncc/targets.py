"""Targets are data: one TOML file per target in targets/ (schema in targets/README.md)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from wncc.errors import WnccError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TARGETS_DIR = Path(__file__).resolve().parent.parent / "targets"
ALIASES: dict[str, str] = {}


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    description: str
    cc: str
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    arch: str
    features: tuple[str, ...]
    kernels: tuple[str, ...]  # runtime_c/ folders searched for each kernel source, in order
    flash_bytes: int
    ram_bytes: int
    clock_hz: int
    emulator: str
    path: Path


def available() -> list[str]:
    return sorted(p.stem for p in TARGETS_DIR.glob("*.toml"))


def load(name: str) -> Target:
    """A target by name, alias, or path to a TOML file."""
    path = Path(name) if name.endswith(".toml") else TARGETS_DIR / f"{ALIASES.get(name, name)}.toml"
    if not path.exists():
        raise WnccError(f"unknown target '{name}' (available: {', '.join(available())})")
    try:
        data = tomllib.loads(path.read_text())
        tc, isa, mem = data["toolchain"], data.get("isa", {}), data.get("memory", {})
        return Target(
            name=data["name"], description=data.get("description", ""), cc=tc["cc"],
            cflags=tuple(tc.get("cflags", [])), ldflags=tuple(tc.get("ldflags", [])),
            arch=isa.get("arch", "native"), features=tuple(isa.get("features", [])),
            kernels=tuple(isa.get("kernels", [])) + ("ref",),
            flash_bytes=int(mem.get("flash_bytes", 0)), ram_bytes=int(mem.get("ram_bytes", 0)),
            clock_hz=int(data.get("clock", {}).get("hz", 0)),
            emulator=data.get("emulator", {}).get("kind", "native"), path=path)
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise WnccError(f"malformed target file: {exc}", path=str(path)) from None
