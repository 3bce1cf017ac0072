"""Targets are data: one TOML file per target in targets/ (schema in targets/README.md)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from wncc.errors import WnccError
from wncc.ops.layout import LAYOUTS
from wncc.resources import TARGETS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# family names -> the representative target
ALIASES: dict[str, str] = {"cortex-m": "cortex-m7", "cortex-a": "cortex-a53"}


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
    emulator: str  # "native", "qemu-system" (a board) or "qemu-user" (a CPU)
    path: Path
    ar: str = "ar"
    size: str = "size"
    objdump: str = "objdump"
    clock_note: str = ""
    # [board]: bare metal; files in runtime_c/boards/ copied into the project
    board: str | None = None  # qemu machine the startup and linker script are written for
    startup: tuple[str, ...] = ()  # C sources linked into wn_vocode
    linker_script: str | None = None
    linker_includes: tuple[str, ...] = ()  # scripts the linker script INCLUDEs
    # [emulator]
    emulator_binary: str | None = None  # qemu-system-arm, qemu-aarch64, qemu-arm
    emulator_machine: str | None = None  # qemu-system: -M
    emulator_cpu: str | None = None  # qemu-user: -cpu
    cpu_flags: tuple[str, ...] = ()  # native: /proc/cpuinfo flags the build machine needs
    # [isa] packed: the weight layout of the target's packed int8 convolutions (wncc/ops/layout.py
    # LAYOUTS: "vnni", "dsp4", "mve4", "sdot"), or None (wncc/passes/packing.py)
    packed: str | None = None

    @property
    def bare_metal(self) -> bool:
        return self.linker_script is not None

    @property
    def is_host(self) -> bool:
        """The portable host build (verified in-process through cffi)."""
        return self.name == "host"


def _tool(cc: str, tool: str) -> str:
    """binutils beside a cross compiler: arm-none-eabi-gcc -> arm-none-eabi-ar; cc -> ar."""
    return cc[:-3] + tool if cc.endswith("-gcc") else tool


def available() -> list[str]:
    return sorted(p.stem for p in TARGETS.glob("*.toml"))


def load(name: str) -> Target:
    """A target by name, alias, or path to a TOML file."""
    path = Path(name) if name.endswith(".toml") else TARGETS / f"{ALIASES.get(name, name)}.toml"
    if not path.exists():
        aliases = ", ".join(f"{a} = {t}" for a, t in sorted(ALIASES.items()))
        raise WnccError(f"unknown target '{name}' (available: {', '.join(available())}; "
                        f"aliases: {aliases}; or a path to a target .toml)")
    try:
        data = tomllib.loads(path.read_text())
        tc, isa, mem = data["toolchain"], data.get("isa", {}), data.get("memory", {})
        board, emu = data.get("board", {}), data.get("emulator", {})
        target = Target(
            name=data["name"], description=data.get("description", ""), cc=tc["cc"],
            cflags=tuple(tc.get("cflags", [])), ldflags=tuple(tc.get("ldflags", [])),
            arch=isa.get("arch", "native"), features=tuple(isa.get("features", [])),
            kernels=tuple(isa.get("kernels", [])) + ("ref",),
            flash_bytes=int(mem.get("flash_bytes", 0)), ram_bytes=int(mem.get("ram_bytes", 0)),
            clock_hz=int(data.get("clock", {}).get("hz", 0)),
            emulator=emu.get("kind", "native"), path=path,
            ar=tc.get("ar", _tool(tc["cc"], "ar")), size=tc.get("size", _tool(tc["cc"], "size")),
            objdump=tc.get("objdump", _tool(tc["cc"], "objdump")),
            clock_note=data.get("clock", {}).get("note", ""),
            board=board.get("machine"), startup=tuple(board.get("startup", [])),
            linker_script=board.get("linker_script"),
            linker_includes=tuple(board.get("linker_includes", [])),
            emulator_binary=emu.get("binary"), emulator_machine=emu.get("machine"),
            emulator_cpu=emu.get("cpu"), cpu_flags=tuple(emu.get("cpu_flags", [])),
            packed=isa.get("packed"))
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise WnccError(f"malformed target file: {exc}", path=str(path)) from None
    if target.packed is not None and target.packed not in LAYOUTS:
        raise WnccError(f"malformed target file: packed layout '{target.packed}' is not one of "
                        f"{', '.join(LAYOUTS)}", path=str(path))
    if target.emulator not in ("native", "qemu-system", "qemu-user"):
        raise WnccError(f"malformed target file: emulator kind '{target.emulator}' is not native, "
                        "qemu-system or qemu-user", path=str(path))
    if target.emulator == "qemu-system" and not (target.emulator_machine and target.bare_metal):
        raise WnccError("malformed target file: a qemu-system target needs [emulator] machine "
                        "and [board] linker_script", path=str(path))
    if target.emulator == "qemu-user" and not (target.emulator_binary and target.emulator_cpu):
        raise WnccError("malformed target file: a qemu-user target needs [emulator] binary and "
                        "cpu", path=str(path))
    return target
