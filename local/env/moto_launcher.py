"""Start moto_server with the fixes the local stack needs (see ../shared/notes/moto.md).

moto 5.2.1 has two SQS bugs that break `terraform plan` after an apply:
  * SetQueueAttributes without `Policy` wipes the queue policy (models.py `_set_attributes`);
  * RedrivePolicy is returned with spaces, so the provider sees a perpetual whitespace diff.
one SQS slowness that makes a backlog stall the whole emulator:
  * ReceiveMessage computes every queue attribute (each an O(backlog) count) once per message
    it returns, only to read the retention period, and SendMessage computes them all once; each
    count reads the clock twice per queued message: 0.3 s per receive at 500 queued messages.
    Here the retention check reads one attribute and the counts read the clock once;
and one DynamoDB bug that loses writes:
  * TransactWriteItems deep-copies every table it touches and, when the transaction is
    cancelled, puts the copies back: every write another request made meanwhile is lost (and
    copying a table of 20,000 items per transaction is slow). Here a transaction snapshots only
    the items it touches and restores only those, and all writes are serialised with it.
and one cost of werkzeug's development server, which moto runs on:
  * every answer says `Connection: close`, so every request opens a new TCP connection (AWS keeps
    them open, and the SDK reuses them), because werkzeug cannot tell whether the application
    read the whole request body. Here the body is read before the application sees it, so the
    next request on the connection starts where it should, and connections are kept open.
All are patched here before the server starts. Remove a patch when moto fixes the bug.

Usage: python3 moto_launcher.py --port 5000 [--host 127.0.0.1]
"""

import copy
import io
import json
import os
import selectors
import socket
import sys
import threading
import types

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.table import Table
from moto.core.utils import unix_time, unix_time_millis
from moto.sqs import models as sqs_models
from werkzeug import serving

_original_set_attributes = sqs_models.Queue._set_attributes
_original_attributes = sqs_models.Queue.attributes.fget


def _set_attributes_keeping_policy(self, attributes, now=None):
    kept_policy = getattr(self, "_policy_json", None)
    _original_set_attributes(self, attributes, now)
    if "Policy" not in attributes and kept_policy is not None:
        self._policy_json = kept_policy


def _attributes_with_compact_redrive(self):
    result = _original_attributes(self)
    if self.redrive_policy:
        result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
    return result


def _within_retention_period(self, queue_name, message):
    queue = self.get_queue(queue_name)
    retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000
    return retain_until > unix_time()


sqs_models.Queue._set_attributes = _set_attributes_keeping_policy
sqs_models.Queue.attributes = property(_attributes_with_compact_redrive)
sqs_models.SQSBackend.is_message_valid_based_on_retention_period = _within_retention_period


def _visible_messages(self):
    now = unix_time_millis()
    return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]


def _count_delayed(self):
    now = unix_time_millis()
    return sum(1 for m in self._messages if now < m.delayed_until)


def _count_not_visible(self):
    now = unix_time_millis()
    return sum(1 for m in self._messages if not now > m.visible_at)


sqs_models.Queue.messages = property(_visible_messages)
sqs_models.Queue.approximate_number_of_messages_delayed = property(_count_delayed)
sqs_models.Queue.approximate_number_of_messages_not_visible = property(_count_not_visible)

_WRITE_LOCK = threading.RLock()
_Backend = dynamodb_models.DynamoDBBackend


class _CopyWithoutTables:
    """Stands in for `copy` in moto's DynamoDB backend: tables are not copied (see above)."""

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


dynamodb_models.copy = _CopyWithoutTables


def _serialised(method):
    def wrapper(self, *args, **kwargs):
        with _WRITE_LOCK:
            return method(self, *args, **kwargs)

    return wrapper


def _touched_items(backend, transact_items):
    snapshots = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        current = backend.get_item(op["TableName"], key)
        attributes = copy.deepcopy(current.to_json()["Attributes"]) if current else None
        snapshots.append((op["TableName"], key, attributes))
    return snapshots


_original_transact = _Backend.transact_write_items


def _transact_restoring_touched_items(self, transact_items):
    with _WRITE_LOCK:
        try:
            snapshots = _touched_items(self, transact_items)
        except Exception:
            snapshots = []  # the transaction itself reports the problem
        try:
            return _original_transact(self, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(snapshots):
                if attributes is None:
                    if self.get_item(table_name, key) is not None:
                        _Backend.delete_item(self, table_name, key)
                else:
                    _Backend.put_item(self, table_name, attributes)
            raise


for _name in ("put_item", "update_item", "delete_item"):
    setattr(_Backend, _name, _serialised(getattr(_Backend, _name)))
_Backend.transact_write_items = _transact_restoring_touched_items


_original_make_environ = serving.WSGIRequestHandler.make_environ
_original_send_header = serving.WSGIRequestHandler.send_header


def _environ_with_body_read(self):
    environ = _original_make_environ(self)
    if environ.get("wsgi.input_terminated"):  # chunked: read up to its last chunk
        body = environ["wsgi.input"].read()
    else:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = self.rfile.read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return environ


def _send_header_keeping_alive(self, keyword, value):
    # werkzeug's unconditional close; a close it means (an error mid-answer) sets close_connection.
    if keyword.lower() == "connection" and value.lower() == "close":
        return
    _original_send_header(self, keyword, value)


class _NothingToDrain:
    """After each answer werkzeug reads whatever the client sent on (safe only on a connection it
    closes): the body is read up front here, and on a kept connection that read would take, and
    wait on, the next request. The drain is werkzeug's only use of `selectors`."""

    def register(self, *args, **kwargs):
        pass

    def select(self, timeout=None):
        return []

    def close(self):
        pass


_original_setup = serving.WSGIRequestHandler.setup


def _setup_without_nagle(self):
    _original_setup(self)
    # The status line, the headers and the body go out in separate writes: on a kept connection
    # Nagle's algorithm would hold each answer's last write for the client's delayed ACK (40 ms).
    self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


serving.WSGIRequestHandler.setup = _setup_without_nagle
serving.WSGIRequestHandler.make_environ = _environ_with_body_read
serving.WSGIRequestHandler.send_header = _send_header_keeping_alive
serving.selectors = types.SimpleNamespace(DefaultSelector=_NothingToDrain, EVENT_READ=selectors.EVENT_READ)


def main(argv):
    port = "5000"
    for i, arg in enumerate(argv):
        if arg in ("-p", "--port") and i + 1 < len(argv):
            port = argv[i + 1]
    # Some moto backends build URLs from MOTO_PORT.
    os.environ.setdefault("MOTO_PORT", port)
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
