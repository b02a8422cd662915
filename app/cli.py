"""The `tunedesk` command (also `python -m app`)."""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import get_settings
from app.datasets.quality.command import register as register_check

if TYPE_CHECKING:
    from app.supervisor import Child


def cmd_migrate(_args: argparse.Namespace) -> int:
    from app.migrate import upgrade_head

    upgrade_head()
    print("Database is up to date.")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    import app.all_models  # noqa: F401  (the audit event refers to projects: map every table)
    from app.auth import service
    from app.db import task_session
    from app.errors import ValidationFailed

    password = (
        args.password
        or os.environ.get("TUNEDESK_ADMIN_PASSWORD")
        or getpass.getpass("Password (at least 10 characters): ")
    )
    try:
        with task_session() as session:
            user = service.create_user(
                session,
                actor=None,
                email=args.email,
                name=args.name,
                password=password,
                is_admin=True,
            )
            print(f"Administrator {user.email} created.")
    except ValidationFailed as error:
        for field, message in error.errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 2
    return 0


def _celery(*args: str) -> int:
    from app.worker import celery_app

    celery_app.start(argv=list(args))
    return 0


def cmd_run_worker(args: argparse.Namespace) -> int:
    from app.wiring import wire

    wire()  # the worker sends e-mails and notifications: it needs every domain's texts
    return _celery(
        "worker",
        "--loglevel",
        args.loglevel,
        "--concurrency",
        str(args.concurrency),
        "-Q",
        get_settings().task_queue,
        *(["--pool", args.pool] if args.pool else []),
    )


def cmd_run_beat(args: argparse.Namespace) -> int:
    return _celery("beat", "--loglevel", args.loglevel)


def cmd_run_web(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        proxy_headers=True,
        log_config=None,
        workers=args.workers,
    )
    return 0


def run_children(host: str, port: int, gemini_mode: str) -> list[Child]:
    """What ``tunedesk run`` supervises; the emulator first, so it answers before anyone asks."""
    from app.supervisor import Child, python_module

    children = [
        Child("web", python_module("app", "run-web", "--host", host, "--port", str(port))),
        Child("worker", python_module("app", "run-worker", "--concurrency", "2")),
        Child("beat", python_module("app", "run-beat")),
    ]
    if gemini_mode == "emulator":
        children.insert(0, Child("emulator", python_module("app", "emulator")))
    return children


def port_problem(host: str, port: int, *, emulator_port: int | None) -> str | None:
    """Why the web server could not listen on ``port``, said before anything starts (a clash
    found later would stop every process with a bare "address already in use")."""
    if emulator_port is not None and port == emulator_port:
        return (
            f"Port {port} is the local emulator's port (TUNEDESK_EMULATOR_PORT). "
            "Choose another one for the web server, e.g. PORT=9000 make run."
        )
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return (
                f"Port {port} on {host} is already in use (is TuneDesk already running?). "
                "Stop the other program or choose another port, e.g. PORT=9000 make run."
            )
    return None


def cmd_run(args: argparse.Namespace) -> int:
    """Migrate, then supervise (emulator +) web + worker + beat until Ctrl-C."""
    from app.genai.connection import current_config
    from app.migrate import upgrade_head
    from app.supervisor import supervise

    settings = get_settings()
    upgrade_head()
    mode = current_config().mode  # an administrator may have switched it on the Connection page
    emulator_port = settings.emulator_port if mode == "emulator" else None
    problem = port_problem(args.host, args.port, emulator_port=emulator_port)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    children = run_children(args.host, args.port, mode)
    database = "SQLite" if not settings.database_url else "PostgreSQL"
    broker = "embedded (SQLite)" if settings.uses_embedded_broker else "Redis"
    gemini = (
        f"emulator (http://{settings.emulator_host}:{settings.emulator_port}, state in "
        f"{emulator_state_dir()})"
        if mode == "emulator"
        else "Vertex AI"
    )
    banner = (
        f"\n  TuneDesk is starting at  http://{args.host}:{args.port}\n"
        f"  database: {database} · task queue: {broker} · Gemini: {gemini}\n"
        "  Press Ctrl-C to stop.\n"
    )
    return supervise(children, banner=banner)


def emulator_state_dir() -> Path:
    return get_settings().var_dir / "emulator"


def cmd_emulator(args: argparse.Namespace) -> int:
    """Serve the local Vertex AI emulator until Ctrl-C."""
    from app.emulator.server import run

    settings = get_settings()
    run(
        host=args.host or settings.emulator_host,
        port=args.port or settings.emulator_port,
        state_dir=Path(args.state_dir) if args.state_dir else emulator_state_dir(),
        time_scale=args.time_scale or settings.emulator_time_scale,
    )
    return 0


def cmd_compile_translations(_args: argparse.Namespace) -> int:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from app.i18n import LOCALE_DIR

    for po_path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        with po_path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)
        print(f"compiled {po_path.relative_to(LOCALE_DIR)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tunedesk", description="TuneDesk command line")
    commands = parser.add_subparsers(dest="command", required=True)

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    add("migrate", cmd_migrate, "Apply database migrations.")
    admin = add("create-admin", cmd_create_admin, "Create an administrator account.")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument("--password", help="or TUNEDESK_ADMIN_PASSWORD, or asked interactively")

    run = add("run", cmd_run, "Migrate, then run web server, worker and beat together.")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    web = add("run-web", cmd_run_web, "Run the web server only.")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    web.add_argument("--workers", type=int, default=1)

    worker = add("run-worker", cmd_run_worker, "Run a Celery worker.")
    worker.add_argument("--loglevel", default="INFO")
    worker.add_argument("--concurrency", type=int, default=2)
    worker.add_argument("--pool", default="", help="prefork (default), solo or threads")

    beat = add("run-beat", cmd_run_beat, "Run the Celery beat scheduler.")
    beat.add_argument("--loglevel", default="INFO")

    emulator = add(
        "emulator", cmd_emulator, "Run the local Vertex AI emulator (state in <var_dir>/emulator/)."
    )
    emulator.add_argument("--host", default="", help="default: TUNEDESK_EMULATOR_HOST")
    emulator.add_argument("--port", type=int, default=0, help="default: TUNEDESK_EMULATOR_PORT")
    emulator.add_argument(
        "--time-scale",
        type=float,
        default=0.0,
        help="emulated seconds per second (default: TUNEDESK_EMULATOR_TIME_SCALE)",
    )
    emulator.add_argument("--state-dir", default="", help="default: <var_dir>/emulator")

    add("compile-translations", cmd_compile_translations, "Compile .po catalogs to .mo files.")
    register_check(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
