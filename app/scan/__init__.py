"""The scan path: what happens between a phone opening /Q/<code> and the page it sees, in one package.

- scans: looks a code up (stamp, run, batch, product, listing) and records the scan; the one writer of scans.
- hot_query: one read-only SELECT compiled once and run straight on a DBAPI connection, for the scan page.
- scan_log: scans written behind, in one transaction per worker every SCAN_WRITE_DELAY seconds.
- verdict: judge() turns what was found into what the page says first: headline, tone, stamp state.
- rendered: the page's parts, rendered once per listing revision, verdict, day and language and kept in an
  LRU cache per worker; only the stamp's own code is filled in per scan.
- fast_path: answers a plain GET /Q/<code> from the rendered cache, without Flask's request machinery.

The public blueprint (app/public/) routes /Q/ and the GS1 Digital Link forms to these; the JSON API's
stamp check (app/api/v1/stamps.py) asks the same scans.look() and judge().
"""
