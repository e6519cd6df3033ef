"""Prints each function's release zip (target/lambda/<function>/bootstrap.zip): its
architecture read from the ELF header, its size zipped and unzipped. Fails when a zip is
missing or not an arm64 executable (the template deploys arm64)."""

import struct
import sys
import zipfile

MACHINES = {0x3E: "x86_64", 0xB7: "arm64 (aarch64)"}

failed = False
for function in ("api", "fetcher", "scheduler"):
    path = f"target/lambda/{function}/bootstrap.zip"
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("bootstrap")
        header = z.open("bootstrap").read(20)
    machine = struct.unpack_from("<H", header, 18)[0]
    arch = MACHINES.get(machine, hex(machine))
    zipped = sum(i.compress_size for i in zipfile.ZipFile(path).infolist())
    print(f"{function:10} {arch:16} {zipped / 1e6:6.2f} MB zipped  {info.file_size / 1e6:6.2f} MB unzipped")
    failed |= machine != 0xB7
sys.exit(1 if failed else 0)
