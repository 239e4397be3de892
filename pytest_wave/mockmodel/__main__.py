"""``python -m pytest_wave.mockmodel``: run the loopback model by hand (to drive a CLI manually)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from pytest_wave.mockmodel.scenario import PLAIN_SCRIPT, Scenario
from pytest_wave.mockmodel.server import MockModelServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_wave.mockmodel", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (0 = any free port)")
    parser.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    parser.add_argument("--scenario", type=Path, help="scenario JSON (default: Wave agents write deliverables)")
    parser.add_argument("--plain", action="store_true", help="without a scenario: write wave-proof.txt, then answer")
    parser.add_argument("--log", type=Path, help="append one JSON line per request here")
    parser.add_argument("--log-bodies", action="store_true", help="include request bodies in the log")
    args = parser.parse_args(argv)
    if args.scenario:
        scenario = Scenario.model_validate_json(args.scenario.read_text(encoding="utf-8"))
    else:
        scenario = Scenario(default=PLAIN_SCRIPT) if args.plain else Scenario()
    try:
        server = MockModelServer(
            scenario, host=args.host, port=args.port, log_path=args.log, keep_bodies=args.log_bodies
        ).start()
    except ValueError as exc:
        parser.error(str(exc))
    if args.port_file:
        tmp = args.port_file.with_name(args.port_file.name + ".tmp")
        tmp.write_text(str(server.port))
        os.replace(tmp, args.port_file)
    print(f"mock model listening on {server.url}", file=sys.stderr, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
