"""The `ticketline` command: serve, demo, database and user administration."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, TypeVar

import typer
import uvicorn
import uvloop
from rich.console import Console

from ticketline.admin.permissions import Role
from ticketline.admin.schemas import StaffCreate
from ticketline.admin.security import SYSTEM
from ticketline.app import Application, build_application, configure_logging
from ticketline.config import Settings
from ticketline.core.clock import Clock
from ticketline.core.errors import TicketlineError
from ticketline.db import migrate
from ticketline.ivr.cli import build_cli as build_ivr_cli
from ticketline.ivr.engine import IvrDeps

cli = typer.Typer(help="Ticketline call center.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
user_cli = typer.Typer(help="Staff accounts.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(user_cli, name="user")


@contextlib.asynccontextmanager
async def _ivr_deps(clock: Clock) -> AsyncIterator[IvrDeps]:
    """The IVR's real dependencies (actions on the database, the prompt cache)."""
    app = build_application(Settings(), clock)
    try:
        yield app.ivr.deps(clock)
    finally:
        await app.close()


cli.add_typer(build_ivr_cli(_ivr_deps), name="ivr")
console = Console()
T = TypeVar("T")


def _run(work: Callable[[Application], Awaitable[T]]) -> T:
    async def runner() -> T:
        app = build_application(Settings())
        try:
            return await work(app)
        finally:
            await app.close()

    try:
        return asyncio.run(runner())
    except TicketlineError as exc:
        console.print(f"[red]error[/red] {exc.code}: {exc.message}")
        raise typer.Exit(1) from exc


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""

    async def work(app: Application) -> set[str]:
        await migrate.upgrade(app.db)
        return await migrate.current_heads(app.db)

    heads = _run(work)
    console.print(f"database at {', '.join(sorted(heads))}")


@user_cli.command("create")
def user_create(
    username: str,
    name: Annotated[str, typer.Option(help="Display name")],
    role: Annotated[list[Role], typer.Option(help="Role (repeat for several)")],
    password: Annotated[str | None, typer.Option(help="Asked for when omitted")] = None,
) -> None:
    """Create a staff account."""
    secret = password or getpass.getpass("Password: ")
    data = StaffCreate(username=username, display_name=name, password=secret, roles=role)

    async def work(app: Application) -> None:
        await app.admin.create_staff(SYSTEM, data)

    _run(work)
    console.print(f"created {username}")


@user_cli.command("passwd")
def user_passwd(
    username: str,
    password: Annotated[str | None, typer.Option(help="Asked for when omitted")] = None,
) -> None:
    """Set a staff member's password (and lift a lockout)."""
    secret = password or getpass.getpass("New password: ")

    async def work(app: Application) -> None:
        staff = await app.admin.find_staff(username)
        await app.admin.set_password(SYSTEM, staff.id, secret)

    _run(work)
    console.print(f"password changed for {username}")


@cli.command("demo")
def demo() -> None:
    """Migrate the database and load the demo data."""
    from ticketline.demo import seed_demo, seed_history

    async def work(app: Application) -> None:
        await migrate.upgrade(app.db)
        await seed_demo(app)
        customers, orders = await seed_history(app)
        if customers or orders:
            console.print(f"{customers} customers, {orders} work orders")

    _run(work)
    console.print("demo data ready")


@cli.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Web bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Web port")] = None,
) -> None:
    """Run the web server (and, as they arrive, the telephony side)."""
    configure_logging()
    settings = Settings()
    app = build_application(settings)
    config = uvicorn.Config(
        app.web_app(),
        host=host or settings.web_host,
        port=port or settings.web_port,
        log_level="info",
    )
    # uvloop: about three times the UDP packet rate of the default loop (media plane).
    uvloop.install()
    asyncio.run(_serve(app, uvicorn.Server(config)))


async def _serve(app: Application, server: uvicorn.Server) -> None:
    await app.start_workers()
    try:
        await server.serve()
    finally:
        await app.stop_workers()
        await app.close()


def main() -> None:
    cli()
