"""Start moto_server with the fixes the local stack needs (see ../shared/notes/moto.md).

moto 5.2.1 has two SQS bugs that break `terraform plan` after an apply:
  * SetQueueAttributes without `Policy` wipes the queue policy (models.py `_set_attributes`);
  * RedrivePolicy is returned with spaces, so the provider sees a perpetual whitespace diff.
Both are patched here before the server starts. Remove a patch when moto fixes the bug.

Usage: python3 moto_launcher.py --port 5000 [--host 127.0.0.1]
"""

import json
import os
import sys

from moto.sqs import models as sqs_models

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


sqs_models.Queue._set_attributes = _set_attributes_keeping_policy
sqs_models.Queue.attributes = property(_attributes_with_compact_redrive)


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
