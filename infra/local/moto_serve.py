"""moto's server with DynamoDB transactions made atomic, as DynamoDB's are.

moto (5.2.5) runs a TransactWriteItems by deep-copying the tables it touches, applying the
items, and on any failed condition putting the copies back, without a lock, while its server
answers requests on several threads. A write another request made in between (a fetcher
finishing a job while another fetcher's transaction fails its condition) is silently undone:
seen here as a completed job back to a fresh `pending` item with its group's counter rolled
back too, and its message already consumed. Real DynamoDB isolates a transaction from every
other write. This takes one re-entrant lock around moto's DynamoDB reads and writes, so a
transaction and its rollback are never interleaved with another request
(`tests/tests/emulator.rs` fails without it).

Usage: python moto_serve.py [moto_server arguments]
"""

import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_LOCK = threading.RLock()

for name in (
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "transact_write_items",
):
    original = getattr(DynamoDBBackend, name)

    @functools.wraps(original)
    def locked(self, *args, __original=original, **kwargs):
        with _LOCK:
            return __original(self, *args, **kwargs)

    setattr(DynamoDBBackend, name, locked)

if __name__ == "__main__":
    sys.exit(main())
