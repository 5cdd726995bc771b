"""Reads a logd topic as consumer group over Server-Sent Events, resuming after any drop.

Uses only the standard library and one SSE package (sseclient-py). The group's position is
kept by the server (`?group=`): a consumer that restarts continues where the group stopped,
and within one run a dropped connection resumes from the last event id, so nothing is lost
or repeated.

    python3 consumer.py --url http://127.0.0.1:8080 --topic orders --group billing
"""
import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import sseclient


def events(url, topic, group, start, last_event_id=None):
    """Yields (cursor, type, data) for each record, forever, reconnecting as EventSource does."""
    retry = 2.0
    while True:
        query = {"group": group}
        if last_event_id is None:
            query["from"] = start
        request = urllib.request.Request(
            "%s/v1/topics/%s/events?%s" % (url, urllib.parse.quote(topic, safe=""), urllib.parse.urlencode(query)),
            headers={"Accept": "text/event-stream", **({"Last-Event-ID": last_event_id} if last_event_id else {})})
        try:
            response = urllib.request.urlopen(request, timeout=60)
            for event in sseclient.SSEClient(response).events():
                if event.retry:
                    retry = event.retry / 1000
                if event.event in ("gap", "reset"):
                    print("notice:", event.event, event.data, file=sys.stderr)
                elif event.id:
                    last_event_id = event.id
                    if event.data:
                        yield event.id, (event.event if event.event != "message" else None), event.data
            print("stream ended; reconnecting in %.1fs" % retry, file=sys.stderr)
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise SystemExit("logd refused: %s %s" % (error.code, error.read().decode(errors="replace")))
        except (OSError, ValueError) as error:  # a dropped connection, a server restart
            print("reconnecting in %.1fs (%s)" % (retry, error), file=sys.stderr)
        time.sleep(retry)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--from", dest="start", default="earliest", help="where a group without a commit starts")
    parser.add_argument("--count", type=int, help="stop after this many records")
    args = parser.parse_args()
    for n, (cursor, kind, data) in enumerate(events(args.url, args.topic, args.group, args.start), 1):
        try:
            value = json.loads(data)
        except ValueError:
            value = data
        print(json.dumps({"cursor": cursor, "type": kind, "value": value}), flush=True)
        if args.count and n >= args.count:
            break


if __name__ == "__main__":
    main()
