"""moto_serve.py's changes to moto, held to what DynamoDB and SQS do: a failed transaction
leaves every item it named as it was, a successful one applies every write, and transactions
neither copy nor keep copies of the tables they touch; a queue hands out its messages within
their retention period, and not the older ones, without computing its attributes for each. Run by `make test` (unittest, the venv's
moto in-process)."""

import gc
import os
import sys
import unittest

import boto3
from moto import mock_aws

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moto_serve  # noqa: E402,F401  (patches moto on import)
from moto.dynamodb.models.dynamo_type import Item  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402
from moto.sqs.models import Queue, sqs_backends  # noqa: E402


def _one(n):
    return {"N": str(n)}


class Transactions(unittest.TestCase):
    def setUp(self):
        self.mock = mock_aws()
        self.mock.start()
        self.db = boto3.client("dynamodb", region_name="us-east-1")
        self.db.create_table(
            TableName="jobs",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        self.db.create_table(
            TableName="limits",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.put("jobs", {"pk": {"S": "G"}, "sk": {"S": "1"}, "v": _one(1), "l": {"L": [_one(1)]}})
        self.put("jobs", {"pk": {"S": "G"}, "sk": {"S": "2"}, "v": _one(1)})
        self.put("limits", {"id": {"S": "x"}, "v": _one(1)})

    def tearDown(self):
        self.mock.stop()

    def put(self, table, item):
        self.db.put_item(TableName=table, Item=item)

    def everything(self):
        return sorted(
            str(sorted(i.items())) for t in ("jobs", "limits") for i in self.db.scan(TableName=t)["Items"]
        )

    def writes(self):
        add = "ADD v :one"
        return [
            {"Update": {"TableName": "jobs", "Key": {"pk": {"S": "G"}, "sk": {"S": "1"}},
                        "UpdateExpression": add + " SET l = list_append(l, :l)",
                        "ExpressionAttributeValues": {":one": _one(1), ":l": {"L": [_one(2)]}}}},
            {"Put": {"TableName": "jobs", "Item": {"pk": {"S": "G"}, "sk": {"S": "3"}}}},
            {"Delete": {"TableName": "jobs", "Key": {"pk": {"S": "G"}, "sk": {"S": "2"}}}},
            {"Update": {"TableName": "limits", "Key": {"id": {"S": "x"}}, "UpdateExpression": add,
                        "ExpressionAttributeValues": {":one": _one(1)}}},
            {"Put": {"TableName": "limits", "Item": {"id": {"S": "y"}}}},
        ]

    def test_a_failed_condition_leaves_every_item_as_it_was(self):
        before = self.everything()
        failing = {"ConditionCheck": {"TableName": "limits", "Key": {"id": {"S": "z"}},
                                      "ConditionExpression": "attribute_exists(id)"}}
        with self.assertRaises(self.db.exceptions.TransactionCanceledException) as e:
            self.db.transact_write_items(TransactItems=self.writes() + [failing])
        reasons = [r["Code"] for r in e.exception.response["CancellationReasons"]]
        self.assertEqual(reasons, ["None"] * 5 + ["ConditionalCheckFailed"])
        self.assertEqual(self.everything(), before)

    def test_a_write_failing_its_own_condition_undoes_the_ones_before_it(self):
        before = self.everything()
        writes = self.writes()
        writes[3]["Update"]["ConditionExpression"] = "v > :one"
        with self.assertRaises(self.db.exceptions.TransactionCanceledException):
            self.db.transact_write_items(TransactItems=writes)
        self.assertEqual(self.everything(), before)

    def test_a_successful_transaction_applies_every_write(self):
        self.db.transact_write_items(TransactItems=self.writes())
        got = self.db.get_item(TableName="jobs", Key={"pk": {"S": "G"}, "sk": {"S": "1"}})["Item"]
        self.assertEqual(got["v"], _one(2))
        self.assertEqual(got["l"], {"L": [_one(1), _one(2)]})
        self.assertNotIn("Item", self.db.get_item(TableName="jobs", Key={"pk": {"S": "G"}, "sk": {"S": "2"}}))
        self.assertIn("Item", self.db.get_item(TableName="jobs", Key={"pk": {"S": "G"}, "sk": {"S": "3"}}))
        self.assertEqual(self.db.get_item(TableName="limits", Key={"id": {"S": "x"}})["Item"]["v"], _one(2))
        self.assertIn("Item", self.db.get_item(TableName="limits", Key={"id": {"S": "y"}}))

    def test_transactions_neither_copy_nor_keep_tables(self):
        for i in range(200):
            self.put("jobs", {"pk": {"S": "B"}, "sk": {"S": str(i)}, "v": _one(0)})
        for n in range(20):
            ops = [{"Update": {"TableName": "jobs", "Key": {"pk": {"S": "B"}, "sk": {"S": str(k)}},
                               "UpdateExpression": "ADD v :one",
                               "ExpressionAttributeValues": {":one": _one(1)}}} for k in range(5)]
            if n % 2:
                ops.append({"ConditionCheck": {"TableName": "limits", "Key": {"id": {"S": "z"}},
                                               "ConditionExpression": "attribute_exists(id)"}})
            try:
                self.db.transact_write_items(TransactItems=ops)
            except self.db.exceptions.TransactionCanceledException:
                pass
        gc.collect()
        tables = [o for o in gc.get_objects() if isinstance(o, Table)]
        self.assertEqual(len(tables), 2, "a table was copied and kept")
        self.assertEqual(len(Item.instances_tracked), 0)
        got = self.db.get_item(TableName="jobs", Key={"pk": {"S": "B"}, "sk": {"S": "0"}})["Item"]
        self.assertEqual(got["v"], _one(10))


class Queues(unittest.TestCase):
    def setUp(self):
        self.mock = mock_aws()
        self.mock.start()
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.url = self.sqs.create_queue(
            QueueName="jobs", Attributes={"MessageRetentionPeriod": "600"}
        )["QueueUrl"]
        self.queue = sqs_backends["123456789012"]["us-east-1"].get_queue("jobs")

    def tearDown(self):
        self.mock.stop()

    def test_messages_past_their_retention_are_not_handed_out(self):
        for n in range(4):
            self.sqs.send_message(QueueUrl=self.url, MessageBody=str(n))
        self.queue._messages[-1].sent_timestamp -= 601 * 1000
        got = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual(sorted(m["Body"] for m in got), ["0", "1", "2"])

    def test_handing_out_messages_does_not_compute_the_queues_attributes(self):
        for n in range(50):
            self.sqs.send_message(QueueUrl=self.url, MessageBody=str(n))
        computed = []
        attributes = Queue.attributes

        def counted(queue):
            computed.append(queue.name)
            return attributes.fget(queue)

        Queue.attributes = property(counted)
        try:
            got = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10)
        finally:
            Queue.attributes = attributes
        self.assertEqual(len(got["Messages"]), 10)
        self.assertEqual(computed, [])


if __name__ == "__main__":
    unittest.main()
