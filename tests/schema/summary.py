"""Prints how often each operation answered each status in a schemathesis NDJSON report.

    python3 tests/schema/summary.py target/schema/report/ndjson-*.ndjson

run.sh prints it after every run, so a log shows at a glance whether the
handlers behind authentication and the 404 of unknown ids were reached
(2xx, 206, 409, 416 ... next to the 401s and 404s).
"""

from __future__ import annotations

import collections
import json
import re
import sys

ID_ROUTES = [
    (re.compile(r"^/internal/jobs/(?!claim$)[^/]+"), "/internal/jobs/{id}"),
    (re.compile(r"^/jobs/[^/]+"), "/jobs/{id}"),
    (re.compile(r"^/users/[^/]+"), "/users/{id}"),
]


def interactions(value):
    """Every recorded request/response pair in one NDJSON event."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            request = item.get("request")
            if isinstance(request, dict) and "uri" in request and "response" in item:
                yield request, item["response"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def route(uri: str) -> str:
    path = re.sub(r"^[a-z]+://[^/]+", "", uri).split("?", 1)[0]
    for pattern, template in ID_ROUTES:
        path = pattern.sub(template, path)
    return path


def main(paths: list[str]) -> None:
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for path in paths:
        with open(path, encoding="utf-8") as file:
            for line in file:
                for request, response in interactions(json.loads(line)):
                    status = response.get("status_code") if isinstance(response, dict) else None
                    counts[f"{request['method']} {route(request['uri'])}"][status or "no response"] += 1
    total = sum(sum(c.values()) for c in counts.values())
    # Methods the spec does not list get one probe each (405 expected): one line for all of them.
    probes = [op for op, c in counts.items() if set(c) == {405} and sum(c.values()) == 1]
    print(f"schema test: {total} requests; {len(probes)} probes of unlisted methods answered 405; the rest:")
    for operation in sorted(set(counts) - set(probes), key=lambda op: (op.split(" ", 1)[1], op)):
        answers = "  ".join(f"{status}×{n}" for status, n in sorted(counts[operation].items(), key=lambda x: str(x[0])))
        print(f"  {operation:40} {answers}")


if __name__ == "__main__":
    main(sys.argv[1:])
