"""The official J-Quants Python client (PyPI `jquants-api-client`) turning one V2 daily-bars
page into its DataFrame, offline: the page's bytes come from a file (fetched once from the
sandbox), handed to the client's own `EqBarsDailyApiV2.execute` through a stand-in for its
HTTP layer, so what is timed is `resp.json()` plus the client's DataFrame building.
Prints one line of JSON: rows, each run's seconds, best and median.

Usage: official_parse.py PAGE_FILE REPEATS
"""

import json
import statistics
import sys
import time

from jquantsapi.apis.v2.equities import EqBarsDailyApiV2


class OfflinePage:
    """What `ClientV2._get_paginated` returns, from bytes already in memory."""

    JQUANTS_API_BASE = ""
    RAW_ENCODING = "utf-8"

    def __init__(self, body: bytes) -> None:
        self.body = body

    def _get_paginated(self, path, params=None, data_key="data"):
        return json.loads(self.body).get(data_key, [])


def main() -> None:
    path, repeats = sys.argv[1], int(sys.argv[2])
    with open(path, "rb") as f:
        client = OfflinePage(f.read())
    api = EqBarsDailyApiV2()
    times, rows = [], 0
    for _ in range(repeats):
        began = time.perf_counter()
        frame = api.execute(client, code="72030")
        times.append(time.perf_counter() - began)
        rows = len(frame)
    print(json.dumps({"rows": rows, "times_s": times, "best_s": min(times),
                      "median_s": statistics.median(times)}))


if __name__ == "__main__":
    main()
