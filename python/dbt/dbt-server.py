"""A warm dbt process: runs dbt invocations one after another through dbt's programmatic
API (dbtRunner), so Python's start, dbt's imports and the project parse are paid once
per process instead of once per invocation. Driven by lib/dbt/warm.ts.

Protocol, one JSON object per line:
  in:   {"args": [...] | null, "parseArgs": [...], "env": {...}, "manifestKey": "..."}
  out:  dbt's own log lines as it prints them, then one line
        "\\u0000aiwb-dbt-done " + {"success": bool, "error": str | null, "parsed": bool}
`parseArgs` is the `dbt parse` that makes the manifest for `args`. The parsed manifest is
kept and reused while `manifestKey` stays the same (the caller's hash of the project
files, vars, target and environment); another key parses again (dbt's partial parsing
applies then). `args` null only parses (ahead of the invocations that will reuse the
manifest). An exception drops the manifest.

Two ways to be driven:
- stdin/stdout (the default): one client, the parent process. The process ends with
  its stdin.
- `--listen PATH`: a Unix socket, for a parent that starts dbt ahead of the process
  that will run the invocations (the main job starts it before its deployment's
  provider process exists). Prints "listening" once bound; then serves one connection
  at a time, in order, each a client of the protocol above, first told this process's
  id ("\\u0000aiwb-dbt-hello " + {"pid": N}, so that it can stop an invocation). Only
  connections of this process's own user are served (the socket is also created 0600
  in a directory the parent made 0700). The process ends when its stdin closes, after
  the invocation in flight, and then removes its socket; killed, it leaves the socket,
  which the next process at that path replaces. A client gone during its invocation
  ends it too.
Either way it ends when its parent process is gone (a parent killed by SIGKILL closes
no pipe before this process has finished what it is doing).
"""

import gc
import json
import os
import select
import socket
import struct
import sys
import threading
import time
import traceback

DONE = "\u0000aiwb-dbt-done "
HELLO = "\u0000aiwb-dbt-hello "


def exit_with_parent():
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def spare_repeated_work():
    """Work every dbt invocation repeats that a long-lived process can do once or faster
    (about 0.06 s per invocation, measured on a stage's `dbt build`). Each patch keeps
    dbt's result byte for byte, and is skipped when this dbt lacks what it replaces.

    - Plugin discovery: each invocation lists every installed module to find `dbt_*`
      plugins (pkgutil.iter_modules, about 0.04 s). The installed modules do not change
      while this process lives (a new venv is a new dbt path, so a new process).
    - Artifact writing: `json.dump` to a file runs Python's pure encoder; `json.dumps`
      with the same encoder class and options runs the C one and writes the same text
      (manifest.json: 0.011 s instead of 0.032 s).
    """
    import functools

    try:
        from dbt.plugins.manager import PluginManager

        discover = PluginManager.__dict__["get_prefixed_modules"].__func__
        PluginManager.get_prefixed_modules = classmethod(functools.lru_cache(maxsize=None)(discover))
    except (ImportError, KeyError, AttributeError):
        pass

    try:
        import dbt.artifacts.schemas.base as artifacts
        import dbt.artifacts.schemas.run.v5.run as run_results
        import dbt_common.clients.system as system
        import dbt_common.utils.encoding as encoding

        def write_json(path, data):
            path = system.convert_path(path)
            system.make_directory(os.path.dirname(path))
            with open(path, "w", encoding="utf-8") as file:
                file.write(json.dumps(data, cls=encoding.JSONEncoder))
            return True

        # Each module that imported it by name (manifest.json; run_results.json).
        for module in (artifacts, run_results):
            if getattr(module, "write_json", None) is system.write_json:
                module.write_json = write_json
    except (ImportError, AttributeError):
        pass


class Session:
    """The dbt runner and the manifest kept between invocations (and between clients)."""

    def __init__(self, lock):
        from dbt.cli.main import dbtRunner

        # Held while an invocation runs: a stop waits for it.
        self.lock = lock
        spare_repeated_work()
        self.runner = dbtRunner
        self.manifest = None
        self.manifest_key = None
        self.base_env = dict(os.environ)

    def keep_manifest(self):
        """The parsed project (the manifest, the macros' templates) lives as long as the
        process: moved out of the garbage collector's reach (gc.freeze), a collection
        during an invocation no longer walks it (up to 0.13 s at the end of an invocation
        before; measured on a stage's `dbt build`). Garbage first, so none is kept."""
        gc.collect()
        gc.freeze()

    def drop_manifest(self):
        """The kept manifest goes: back in the collector's reach, so that it is freed."""
        self.manifest, self.manifest_key = None, None
        gc.unfreeze()

    def invoke(self, request):
        """Runs one request (dbt prints to sys.stdout meanwhile); returns its outcome."""
        args = request["args"]
        os.environ.clear()
        os.environ.update(self.base_env)
        os.environ.update(request.get("env") or {})
        key = request.get("manifestKey")
        parsed = False
        error = None
        success = False
        try:
            if key is None or key != self.manifest_key or self.manifest is None:
                self.drop_manifest()
                parse = self.runner().invoke(request["parseArgs"])
                if not parse.success or parse.result is None:
                    raise RuntimeError(f"dbt parse failed: {parse.exception or 'see the lines above'}")
                self.manifest, self.manifest_key, parsed = parse.result, key, True
                self.keep_manifest()
            if args is None:
                success = True
            else:
                result = self.runner(manifest=self.manifest).invoke(args)
                success = bool(result.success)
                if result.exception is not None:
                    error = str(result.exception)
        except BaseException as exception:  # noqa: BLE001 - reported to the caller, then the next request
            if isinstance(exception, KeyboardInterrupt):
                raise
            error = "".join(traceback.format_exception_only(type(exception), exception)).strip()
            self.drop_manifest()
        finally:
            # No client's environment (its password) stays behind it.
            os.environ.clear()
            os.environ.update(self.base_env)
        return {"success": success, "error": error, "parsed": parsed}

    def serve(self, lines, out):
        """Answers each request line of `lines`, writing dbt's lines and the outcome to `out`."""
        for raw in lines:
            if not raw.strip():
                continue
            request = json.loads(raw)
            # The outcome is written before a stop may end the process.
            with self.lock:
                outcome = self.invoke(request)
                sys.stdout.flush()
                sys.stderr.flush()
                out.write(DONE + json.dumps(outcome) + "\n")
                out.flush()


def same_user(connection):
    """Whether the peer of a Unix socket connection runs as this process's user (Linux)."""
    try:
        _pid, uid, _gid = struct.unpack("iII", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    except (AttributeError, OSError):
        return False
    return uid == os.getuid()


def end_with_client(connection, busy):
    """A client gone while its invocation runs (its process killed) ends this process, as
    a parent gone ends a process of its own: dbt stops, and PostgreSQL rolls back what
    the invocation had not committed. Between invocations a client may go (it holds this
    process only while an invocation runs)."""

    def watch():
        while True:
            try:
                readable, _, _ = select.select([connection], [], [], 0.5)
                if readable and connection.recv(1, socket.MSG_PEEK) == b"":
                    # Still running a moment later: not the end of an answered invocation.
                    if busy.locked():
                        time.sleep(0.2)
                        if busy.locked():
                            os._exit(1)
                    return
                if readable:
                    time.sleep(0.5)  # a request not read yet: the serving loop takes it
            except (OSError, ValueError):
                return

    threading.Thread(target=watch, daemon=True).start()


def listen(path):
    if os.path.exists(path):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
            print(f"in use: {path} (another warm dbt process serves it)", flush=True)
            return
        except OSError:
            os.unlink(path)  # left by a process that died
        finally:
            probe.close()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)
    try:
        server.bind(path)
    finally:
        os.umask(previous)
    server.listen(8)
    stopping = threading.Event()
    busy = threading.Lock()

    def stop_with_stdin():
        sys.stdin.read()
        stopping.set()
        # The invocation in flight finishes first; then nothing else is accepted.
        with busy:
            try:
                os.unlink(path)
            except OSError:
                pass
            os._exit(0)

    threading.Thread(target=stop_with_stdin, daemon=True).start()
    print("listening", flush=True)
    session = Session(busy)
    real_stdout, real_stderr = sys.stdout, sys.stderr
    while not stopping.is_set():
        connection, _ = server.accept()
        with connection:
            if stopping.is_set() or not same_user(connection):
                continue
            end_with_client(connection, busy)
            stream = connection.makefile("rw", encoding="utf-8", newline="\n", buffering=1)
            # dbt prints to sys.stdout, bound again by each invocation: to this client now.
            sys.stdout = sys.stderr = stream
            try:
                stream.write(HELLO + json.dumps({"pid": os.getpid()}) + "\n")
                stream.flush()
                session.serve(stream, stream)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                sys.stdout, sys.stderr = real_stdout, real_stderr


def main():
    exit_with_parent()
    if len(sys.argv) == 3 and sys.argv[1] == "--listen":
        listen(sys.argv[2])
        return
    # dbt's imports (about 1.5 s) after the watch has started.
    Session(threading.Lock()).serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
