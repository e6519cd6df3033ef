"""Reads a `moomoo data sync` directory with DuckDB, as an analyst would, and prints
{"count": N, "checksum": "<sha256>", "columns": [[name, type], ...]} as JSON.

The checksum is over the rows sorted by Code then Date, one line each, `Date,Code,C` with C as
the hex of its IEEE 754 bits (or `null`), so it compares exactly, without float formatting.
Usage: duckdb_sync.py DIR"""
import hashlib
import json
import struct
import sys

import duckdb

files = sys.argv[1].replace("'", "''") + "/**/*.parquet"
source = f"read_parquet('{files}', hive_partitioning = true)"
con = duckdb.connect()
columns = [[name, kind] for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
rows = con.execute(f"SELECT Date, Code, C FROM {source} ORDER BY Code, Date").fetchall()


def bits(c):
    return "null" if c is None else struct.pack(">d", c).hex()


text = "\n".join(f"{date.isoformat()},{code},{bits(c)}" for date, code, c in rows)
print(json.dumps({
    "count": len(rows),
    "checksum": hashlib.sha256(text.encode()).hexdigest(),
    "columns": columns,
}))
