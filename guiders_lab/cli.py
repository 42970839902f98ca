"""The ``guiders-lab`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import signal
import sys
from collections.abc import Callable

from ._version import __version__
from .errors import GuidersLabError
from .record.journal import Journal
from .record.manifest import RecordingError

DIALECTS = ("ai-api", "guiders-v2")
DIALECT_HELP = "ai-api (the reference page, default) or guiders-v2 (the deployed backend)"

__all__ = ["main"]


def _speed(text: str) -> float:
    return math.inf if text in ("inf", "max") else float(text)


def _simulate(args: argparse.Namespace) -> int:
    from .sim.guiders_v2.server import GuidersV2Server
    from .sim.server import SimServer

    if args.dialect == "guiders-v2" and args.token is not None:
        print("error: --token is for ai-api; guiders-v2 logs in (see the printed account)",
              file=sys.stderr)  # fmt: skip
        return 2

    async def serve() -> None:
        common = {"seed": args.seed, "speed": args.speed, "host": args.host, "port": args.port}
        server: SimServer | GuidersV2Server
        if args.dialect == "guiders-v2":
            server = GuidersV2Server(args.scenario, **common)
        else:
            server = SimServer(args.scenario, tokens=args.token, **common)
        await server.start()
        print(
            f"Guiders simulator '{server.scenario.name}' (seed {server.seed}, "
            f"{server.speed:g}x, {args.dialect}) listening on {server.url}",
            flush=True,
        )
        print(f"token: {server.token}", flush=True)
        if isinstance(server, GuidersV2Server):  # the demo account: a simulator's, not yours
            print(f"api: {server.api_url}", flush=True)
            print(f"email: {server.email}", flush=True)
            print(f"password: {server.password}", flush=True)
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
    from .demo import compare_bots, run_demo

    if args.bots:
        asyncio.run(
            compare_bots(
                args.seconds,
                scenario=args.scenario or "busy_afternoon",
                seed=args.seed,
                speed=args.speed or 300.0,
                out=sys.stdout,  # the streams of now, not of when demo was imported
                progress=sys.stderr,
                dialect=args.dialect,
            )
        )
        return 0

    asyncio.run(
        run_demo(
            args.seconds,
            scenario=args.scenario or "demo",
            seed=args.seed,
            speed=args.speed or 120.0,
            report=args.report,
            out=sys.stdout,
            progress=sys.stderr,
            dialect=args.dialect,
        )
    )
    return 0


def _print_flushed(lines: int, last_seq: int | None) -> None:
    """Acknowledge journal lines handed to the OS: a SIGKILL can no longer lose them."""
    sys.stdout.write(f"flushed {lines} {last_seq or 0}\n")  # one write: no torn lines
    sys.stdout.flush()


def _record(args: argparse.Namespace) -> int:
    from .connect import connect
    from .summary import format_summary, summarize

    credentials: dict[str, str] = {}
    for flag, env in (("token", args.token_env), ("password", args.password_env)):
        if env is None:
            continue
        value = os.environ.get(env)
        if not value:
            print(f"error: environment variable {env} is not set", file=sys.stderr)
            return 2
        credentials[flag] = value
    if args.email is not None:
        if "password" not in credentials:
            print("error: --email needs --password-env", file=sys.stderr)
            return 2
        credentials["email"] = args.email
    elif "token" not in credentials:
        print("error: pass --token-env, or --email with --password-env", file=sys.stderr)
        return 2

    async def record() -> None:
        live = await connect(
            args.url,
            credentials.get("token"),
            dialect=args.dialect,
            email=credentials.get("email"),
            password=credentials.get("password"),
            record_to=args.out,
            overwrite=args.overwrite,
            redact_pii=args.redact_pii,
            api_url=args.api_url,
        )
        if args.progress:  # a flush before this is reported with the next one (counts add up)
            journal = live.store.journal
            assert isinstance(journal, Journal), "record_to= starts a journal"
            journal.on_flush = _print_flushed
        print(f"recording {live.source} to {args.out} (Ctrl-C to stop)", file=sys.stderr)
        stop = asyncio.Event()  # SIGTERM (docker stop, systemd) closes as cleanly as Ctrl-C
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(args.seconds or None):
                    await stop.wait()
        finally:
            await live.close()
            print(format_summary(summarize(live)))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(record())
    return 0


def _replay(args: argparse.Namespace) -> int:
    from .record import replay
    from .record.manifest import Manifest
    from .summary import format_summary, summarize

    if args.dialect is not None:
        made_in = Manifest.read(args.directory).dialect
        if made_in != args.dialect:
            print(
                f"error: {args.directory} was recorded in the {made_in} dialect, "
                f"not {args.dialect}",
                file=sys.stderr,
            )
            return 2

    async def play() -> None:
        session = replay(args.directory, speed=args.speed, progress=not args.quiet)
        await session.finished()
        await session.close()
        print(format_summary(summarize(session)))

    asyncio.run(play())
    return 0


def _sample(args: argparse.Namespace) -> int:
    from .sample import record_sample

    manifest = asyncio.run(
        record_sample(args.out, seed=args.seed, hours=args.hours, scenario=args.scenario)
    )
    print(f"wrote {manifest.n_events:,} events to {args.out}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from .record import load
    from .report import write_report

    path = write_report(load(args.directory), args.output, redact_pii=args.redact_pii)
    print(f"wrote {path}")
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
    sim.add_argument(
        "--token", default=None, help="ai-api: accept this token (default: a fresh one)"
    )
    sim.add_argument("--dialect", choices=DIALECTS, default="ai-api", help=DIALECT_HELP)
    sim.set_defaults(func=_simulate)

    demo = sub.add_parser("demo", help="simulator + live capture + summary")
    demo.add_argument("--seconds", type=float, default=20.0)
    demo.add_argument("--scenario", default=None, help="default: demo (busy_afternoon with --bots)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--speed",
        type=_speed,
        default=None,
        help="time compression (default: 120, 300 with --bots)",
    )
    demo.add_argument(
        "--bots", action="store_true", help="compare the page's bots: no bots vs shadow vs live"
    )
    demo.add_argument(
        "--report",
        default="guiders-lab-demo-report.html",
        help="where to write the HTML report ('' for none)",
    )
    demo.add_argument("--dialect", choices=DIALECTS, default="ai-api", help=DIALECT_HELP)
    demo.set_defaults(func=_demo)

    rec = sub.add_parser("record", help="capture a server's stream into a session directory")
    rec.add_argument("url")
    rec.add_argument(
        "--token-env", default=None, help="name of the environment variable holding the token"
    )
    rec.add_argument("--dialect", choices=DIALECTS, default="ai-api", help=DIALECT_HELP)
    rec.add_argument("--email", default=None, help="guiders-v2: log in with this e-mail")
    rec.add_argument(
        "--password-env",
        default=None,
        help="guiders-v2: name of the environment variable holding the password",
    )
    rec.add_argument("--api-url", default=None, help="guiders-v2: REST base (default URL/api)")
    rec.add_argument("--out", required=True, help="session directory to create")
    rec.add_argument("--seconds", type=float, default=None, help="stop after N seconds")
    rec.add_argument("--overwrite", action="store_true")
    rec.add_argument(
        "--redact-pii",
        action="store_true",
        help="mask e-mails, phone and card numbers in what is written to disk",
    )
    rec.add_argument(
        "--progress",
        action="store_true",
        help="print 'flushed LINES LAST_SEQ' on stdout each time journal lines reach the OS "
        "(what a kill can no longer lose)",
    )
    rec.set_defaults(func=_record)

    rep = sub.add_parser("replay", help="replay a recording and print its summary")
    rep.add_argument("directory")
    rep.add_argument(
        "--speed",
        type=_speed,
        default=math.inf,
        help="1 = original timing, 10 = ten times faster, inf (default)",
    )
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    rep.add_argument(
        "--dialect",
        choices=DIALECTS,
        default=None,
        help="refuse a recording made in another dialect (default: play any)",
    )
    rep.set_defaults(func=_replay)

    rpt = sub.add_parser("report", help="write a self-contained HTML report of a recording")
    rpt.add_argument("directory")
    rpt.add_argument("-o", "--output", default="report.html")
    rpt.add_argument(
        "--redact-pii", action="store_true", help="mask e-mails, phone and card numbers"
    )
    rpt.set_defaults(func=_report)

    smp = sub.add_parser("sample", help="record the committed sample session (deterministic)")
    smp.add_argument("out")
    smp.add_argument("--seed", type=int, default=7)
    smp.add_argument("--hours", type=float, default=3.0)
    smp.add_argument("--scenario", default="demo")
    smp.set_defaults(func=_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    command: Callable[[argparse.Namespace], int] = args.func  # set by each subparser
    try:
        return command(args)
    except (GuidersLabError, RecordingError, OSError) as exc:
        if args.verbose:
            raise
        print(f"error: {exc}", file=sys.stderr)  # what went wrong, not a traceback
        return 2


if __name__ == "__main__":
    sys.exit(main())
