"""A warm dbt process: runs dbt invocations one after another through dbt's programmatic
API (dbtRunner), so Python's start, dbt's imports and the project parse are paid once
per process instead of once per invocation. Driven by lib/dbt/cli.ts.

Protocol, one JSON object per line:
  stdin:  {"args": [...], "parseArgs": [...], "env": {...}, "manifestKey": "..."}
  stdout: dbt's own log lines as it prints them, then one line
          "\\u0000aiwb-dbt-done " + {"success": bool, "error": str | null, "parsed": bool}
`parseArgs` is the `dbt parse` that makes the manifest for `args`. The parsed manifest is
kept and reused while `manifestKey` stays the same (the caller's hash of the project
files, vars, target and environment); another key parses again (dbt's partial parsing
applies then). An exception drops the manifest. The process ends with its stdin.
"""

import json
import os
import sys
import traceback

from dbt.cli.main import dbtRunner

DONE = "\u0000aiwb-dbt-done "
def main():
    manifest = None
    manifest_key = None
    base_env = dict(os.environ)
    for raw in sys.stdin:
        if not raw.strip():
            continue
        request = json.loads(raw)
        args = request["args"]
        os.environ.clear()
        os.environ.update(base_env)
        os.environ.update(request.get("env") or {})
        key = request.get("manifestKey")
        parsed = False
        error = None
        success = False
        try:
            if key is None or key != manifest_key or manifest is None:
                manifest, manifest_key = None, None
                parse = dbtRunner().invoke(request["parseArgs"])
                if not parse.success or parse.result is None:
                    raise RuntimeError(f"dbt parse failed: {parse.exception or 'see the lines above'}")
                manifest, manifest_key, parsed = parse.result, key, True
            result = dbtRunner(manifest=manifest).invoke(args)
            success = bool(result.success)
            if result.exception is not None:
                error = str(result.exception)
        except BaseException as exception:  # noqa: BLE001 - reported to the caller, then the next request
            if isinstance(exception, KeyboardInterrupt):
                raise
            error = "".join(traceback.format_exception_only(type(exception), exception)).strip()
            manifest, manifest_key = None, None
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout.write(DONE + json.dumps({"success": success, "error": error, "parsed": parsed}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
