"""The ``guiders-lab`` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys

from ._version import __version__

__all__ = ["main"]


def _speed(text: str) -> float:
    return math.inf if text in ("inf", "max") else float(text)


def _simulate(args: argparse.Namespace) -> int:
    from .sim.server import SimServer

    async def serve() -> None:
        server = SimServer(
            args.scenario,
            seed=args.seed,
            speed=args.speed,
            host=args.host,
            port=args.port,
            tokens=args.token,
        )
        await server.start()
        print(
            f"Guiders simulator '{server.scenario.name}' (seed {server.seed}, "
            f"{server.speed:g}x) listening on {server.url}",
            flush=True,
        )
        print(f"token: {server.token}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    asyncio.run(run_demo(args.seconds, scenario=args.scenario, seed=args.seed, speed=args.speed))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guiders-lab", description=__doc__)
    parser.add_argument("--version", action="version", version=f"guiders-lab {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="run the simulated Guiders backend")
    sim.add_argument("--scenario", default="demo")
    sim.add_argument("--seed", type=int, default=7)
    sim.add_argument(
        "--speed",
        type=_speed,
        default=None,
        help="time compression (default: the scenario's; 'inf' = flat out)",
    )
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=0, help="0 picks a free port")
    sim.add_argument("--token", default=None, help="accept this token (default: a fresh one)")
    sim.set_defaults(func=_simulate)

    demo = sub.add_parser("demo", help="simulator + live capture + summary")
    demo.add_argument("--seconds", type=float, default=20.0)
    demo.add_argument("--scenario", default="demo")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--speed", type=_speed, default=120.0)
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
