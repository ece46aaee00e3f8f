"""Consumes job messages from SQS and records each job in DynamoDB.

Deployed by the queue_worker example. A message body is JSON with a
"jobId"; failed records are reported so that only they are retried.
"""

import json
import os
import time

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
KEEP_SECONDS = 30 * 24 * 3600


def handler(event, context):
    failures = []
    for record in event.get("Records", []):
        try:
            job = json.loads(record["body"])
            TABLE.put_item(
                Item={
                    "jobId": str(job["jobId"]),
                    "status": "DONE",
                    "expiresAt": int(time.time()) + KEEP_SECONDS,
                }
            )
        except Exception:  # noqa: BLE001 - report and let SQS retry
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
