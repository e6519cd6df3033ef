"""Fetches what runs the arm64 release binaries on this x86_64 machine, for the init-time bench:
Debian's qemu-user-static (user-mode emulation) and Debian's arm64 C library (the binaries'
dynamic loader and libc, as `-L` sysroot), both from Debian's package registry, unpacked under
target/tools/arm64 (nothing installed system-wide). Prints the emulator's path.

Emulated init times are not Graviton's: every instruction is translated, so they are an upper
bound, read beside the x86_64 figures of the same build (README, "Release artifacts")."""

import lzma
import pathlib
import shutil
import subprocess
import sys
import tempfile
import urllib.request

MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
ROOT = pathlib.Path("target/tools/arm64")
QEMU = ROOT / "usr/bin/qemu-aarch64-static"
SYSROOT = ROOT / "sysroot"


def package_file(arch: str, name: str) -> str:
    """The pool path of `name` for `arch` in the suite's package index."""
    index = f"{MIRROR}/dists/{SUITE}/main/binary-{arch}/Packages.xz"
    with urllib.request.urlopen(index, timeout=120) as r:
        text = lzma.decompress(r.read()).decode("utf-8", "replace")
    for stanza in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line.startswith(" ")
        )
        if fields.get("Package") == name:
            return fields["Filename"]
    sys.exit(f"{name} ({arch}) is not in {index}")


def unpack(arch: str, name: str, into: pathlib.Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        deb = pathlib.Path(tmp) / f"{name}.deb"
        with urllib.request.urlopen(f"{MIRROR}/{package_file(arch, name)}", timeout=300) as r:
            deb.write_bytes(r.read())
        into.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(into)], check=True)


def main() -> None:
    if not (QEMU.exists() and (SYSROOT / "lib/ld-linux-aarch64.so.1").exists()):
        shutil.rmtree(ROOT, ignore_errors=True)
        unpack("amd64", "qemu-user-static", ROOT)
        unpack("arm64", "libc6", SYSROOT)
    print(QEMU.resolve())


main()
