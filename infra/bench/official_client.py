"""The official J-Quants Python client (PyPI `jquants-api-client`) pointed at the local
sandbox: its V2 daily-bars range helper over the dates given, as a user would call it.
Prints one line of JSON: whether it finished, rows or the error, seconds taken.

Usage: official_client.py BASE_URL API_KEY FROM TO
"""

import json
import sys
import time

import jquantsapi


def main() -> None:
    base, key, start, end = sys.argv[1:5]

    class Local(jquantsapi.ClientV2):
        # The only change: the sandbox instead of https://api.jquants.com/v2.
        JQUANTS_API_BASE = base

    client = Local(api_key=key)
    began = time.monotonic()
    try:
        frame = client.get_eq_bars_daily_range(start_dt=start, end_dt=end)
        out = {"finished": True, "rows": len(frame)}
    except Exception as e:  # the helper aborts on the first failed day
        out = {"finished": False, "error": f"{type(e).__name__}: {str(e)[:120]}"}
    out["seconds"] = round(time.monotonic() - began, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
