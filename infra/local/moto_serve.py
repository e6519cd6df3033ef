"""moto's server with DynamoDB transactions made atomic, as DynamoDB's are, and costing what
they write rather than the size of their tables; SQS receives no longer a pass over the whole
queue per message.

moto (5.2.5) runs a TransactWriteItems by deep-copying the tables it touches, applying the
items, and on any failed condition putting the copies back, without a lock, while its server
answers requests on several threads. A write another request made in between (a fetcher
finishing a job while another fetcher's transaction fails its condition) is silently undone:
seen here as a completed job back to a fresh `pending` item with its group's counter rolled
back too, and its message already consumed. Real DynamoDB isolates a transaction from every
other write. This takes one re-entrant lock around moto's DynamoDB reads and writes, so a
transaction and its rollback are never interleaved with another request
(`tests/tests/emulator.rs` fails without it).

Two costs of that backup are moto's, not DynamoDB's:
- It copies the whole table once per item of the transaction: a job's finish (the job, its
  group's counters and each completed job's holding, up to 21 items for a batch of 10) took
  about 1 s on a 4,000-item jobs table, under the lock every other request waits on.
- moto keeps every model object it ever creates (`BaseModel.__new__` appends each to its
  class's `instances_tracked`, for the dashboard's /moto-api/data.json), copies included, so
  each transaction leaked its copies: about 10 MB each at 2,000 items, 18 GB resident after
  1,650 jobs of the chaos run, whose server then stopped answering.
Here a transaction backs up the items it writes (a copy of each as it was, or its absence) and
puts them back if it fails; moto's copy of a table becomes the table itself, so its own
rollback is a no-op. Under the lock nothing else writes meanwhile, so this restores exactly what
moto's copy did. DynamoDB's objects are not tracked; nothing reads them (the dashboard is
unused; S3's tracked keys, which its reset closes, stay tracked).

SQS, likewise: moto reads a queue's retention period for each message it hands out by computing
every attribute of the queue, three times over, each approximate count a pass over all its
messages: 59 % of the server's time in the chaos run, 2,000 messages deep. It is read from the
queue here. Its messages, and the copy of each it hands out, are not tracked either.

Usage: python moto_serve.py [moto_server arguments]
"""

import copy
import functools
import sys
import threading

import moto.core.models as moto_core_models
import moto.dynamodb.models as dynamodb_models
import moto.moto_api._internal.models as moto_api_models
from moto.core.model_instances import model_data
from moto.core.utils import unix_time
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.server import main
from moto.sqs.models import SQSBackend

_LOCK = threading.RLock()


class _TablesByReference:
    """The `copy` moto's DynamoDB backend sees: a table is not copied, anything else is."""

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


dynamodb_models.copy = _TablesByReference


def _written_items(backend, transact_items):
    """Each item a transaction may write, with a copy of it as it is now (None if absent)."""
    backup = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        key = op.get("Item") if op_type == "Put" else op.get("Key")
        if table is None or op_type == "ConditionCheck" or not isinstance(key, dict):
            continue
        if table.hash_key_attr not in key:
            continue  # moto refuses the transaction before writing anything
        if table.range_key_attr is not None and table.range_key_attr not in key:
            continue
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = (
            DynamoType(key[table.range_key_attr]) if table.range_key_attr is not None else None
        )
        current = table.get_item(hash_value, range_value)
        backup.append((table, hash_value, range_value, copy.deepcopy(current)))
    return backup


def _put_back(backup):
    # Reversed, so an item named twice ends as it was before the first write.
    for table, hash_value, range_value, item in reversed(backup):
        if range_value is not None:
            partition = table.items[hash_value]
            if item is None:
                partition.pop(range_value, None)
            else:
                partition[range_value] = item
        elif item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item


_transact_write_items = DynamoDBBackend.transact_write_items


@functools.wraps(_transact_write_items)
def transact_write_items(self, transact_items):
    backup = _written_items(self, transact_items)
    try:
        return _transact_write_items(self, transact_items)
    except BaseException:
        _put_back(backup)
        raise


DynamoDBBackend.transact_write_items = transact_write_items

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


def _within_retention(self, queue_name, message):
    retention = float(self.get_queue(queue_name).message_retention_period)
    return retention + message.sent_timestamp / 1000 > unix_time()


SQSBackend.is_message_valid_based_on_retention_period = _within_retention


class _Forgotten(list):
    """A tracking list that keeps nothing."""

    def append(self, _instance):
        pass


def _forget_models():
    for service in ("dynamodb", "sqs"):
        for model in model_data[service].values():
            model.instances_tracked = _Forgotten()


def _reset_model_data(reset=moto_core_models.reset_model_data):
    # moto's reset (a mock starting, /moto-api/reset) hands every model a fresh list.
    reset()
    _forget_models()


_forget_models()
moto_core_models.reset_model_data = _reset_model_data
moto_api_models.reset_model_data = _reset_model_data

if __name__ == "__main__":
    sys.exit(main())
