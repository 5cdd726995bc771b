"""Schemathesis hooks for `make schemathesis`: keep generated cases cheap, not narrower.

Valid but slow inputs are not generated: a topic of thousands of partitions (each partition
is a directory, files and several fsyncs: minutes for the documented maximum of 10,000) and
long-poll waits over a second (the documented maximum is five minutes). Values outside the
documented ranges are still generated, so negative tests keep covering the limits.

The coverage phase builds its boundary cases (such as `{"partitions": 9999}`, for a create or
a growth) without the filter hooks, so `before_call` brings such a count down to the most
generated here, just before the call."""
import schemathesis

MAX_PARTITIONS = 16
MAX_WAIT_MS = 1000


@schemathesis.hook
def filter_body(ctx, body):
    if isinstance(body, dict):
        partitions = body.get("partitions")
        if isinstance(partitions, int) and not isinstance(partitions, bool) and MAX_PARTITIONS < partitions <= 10000:
            return False
    return True


@schemathesis.hook
def filter_query(ctx, query):
    if isinstance(query, dict):
        wait = query.get("wait_ms")
        if isinstance(wait, int) and not isinstance(wait, bool) and MAX_WAIT_MS < wait <= 300000:
            return False
        if isinstance(wait, str) and wait.isdigit() and MAX_WAIT_MS < int(wait) <= 300000:
            return False
    return True


@schemathesis.hook
def before_call(ctx, case, kwargs):
    body = case.body
    if isinstance(body, dict):
        partitions = body.get("partitions")
        if isinstance(partitions, int) and not isinstance(partitions, bool) and MAX_PARTITIONS < partitions <= 10000:
            body["partitions"] = MAX_PARTITIONS
