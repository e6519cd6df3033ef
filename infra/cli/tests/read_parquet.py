"""Reads a Parquet file with pyarrow (a reader independent of the one that wrote it) and prints
{"schema": {column: type}, "rows": [...]} as JSON. Usage: read_parquet.py FILE"""
import json
import sys

import pyarrow.parquet as pq

table = pq.read_table(sys.argv[1])
print(json.dumps({
    "schema": {field.name: str(field.type) for field in table.schema},
    "rows": table.to_pylist(),
}))
