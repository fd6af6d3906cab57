"""Command-line commands: ``flask --app tracker <command>``.

demo                     load the demo project once (--reset reloads it)
user create|grant|list|set-password|deactivate
audit verify             walk the audit hash chain
Areas add their own groups (evidence verify, backup, restore) through ``AREA_COMMANDS``.

Commands change data through the same services as the pages (``tracker.accounts.services``),
committed once by ``htmx.commit_once``; a refusal is the command's error message.
"""

import importlib
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from .audit import trail
from .extensions import db
from .htmx import commit_once
from .validation import InputError

# Modules that expose ``commands``: a list of click commands or groups to add to the CLI.
AREA_COMMANDS = ("tracker.evidence.cli", "tracker.maintenance", "tracker.deploy", "tracker.reminders.cli")


def _read_password_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.ClickException("No password on standard input.")
    return password


def _apply(change):
    """Run ``change`` (service calls) as the CLI, committed once; an InputError is the command's error."""
    trail.set_actor(None, "cli")
    try:
        return commit_once(change)
    except InputError as error:
        raise click.ClickException(str(error)) from None


def _echo_demo_accounts(heading: str) -> None:
    from .demo.data import DEMO_ACCOUNTS

    click.echo(heading)
    for email, _name, password, role in DEMO_ACCOUNTS:
        click.echo(f"  {role or 'admin':8}  {email:22}  password: {password}")


@click.command("demo")
@with_appcontext
@click.option("--reset", is_flag=True, help="Delete the demo project and load it again.")
def demo_command(reset: bool):
    """Load the demo project (a second run changes nothing)."""
    from .demo.loader import load_demo

    project, loaded = load_demo(reset=reset)
    db.session.commit()
    if loaded:
        click.echo(f"Loaded the demo project {project.code}: {project.title}")
    else:
        click.echo(f"The demo project {project.code} is already loaded; nothing changed.")
    if current_app.config.get("DEMO_ACCOUNTS", True):
        _echo_demo_accounts("Demo accounts (turn off with TRACKER_DEMO_ACCOUNTS=0):")


@click.command("load-demo-if-empty", hidden=True)
@with_appcontext
@click.pass_context
def load_demo_if_empty(ctx):
    """Load the demo only when the database holds no project yet (used by `make run`)."""
    from .models import Project

    if db.session.execute(select(Project.id).limit(1)).first() is None:
        ctx.invoke(demo_command, reset=False)
    else:
        click.echo("The database holds projects already; the demo was not loaded again.")
        from .demo.loader import demo_project

        if demo_project() is not None and current_app.config.get("DEMO_ACCOUNTS", True):
            _echo_demo_accounts("Demo accounts:")


user_cli = AppGroup("user", help="Manage users and their roles.")


@user_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's name.")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
def user_create(email, name, admin, password_stdin):
    """Create a user; the password is read from standard input, never an argument."""
    from .accounts import services

    password = _read_password_stdin()
    user = _apply(lambda: services.create_user(email, name, password, is_admin=admin))
    click.echo(f"Created {user.email}{' (admin)' if admin else ''}.")


@user_cli.command("grant")
@click.argument("email")
@click.argument("project")
@click.argument("role")
def user_grant(email, project, role):
    """Give EMAIL the ROLE (manager, officer, liaison, auditor) on PROJECT (code or id)."""
    from .accounts import services

    membership = _apply(lambda: services.grant(services.find_user(email), services.find_project(project), role))
    click.echo(f"{membership.user.email} is {role} on {membership.project.code}.")


@user_cli.command("list")
def user_list():
    """List users with their roles."""
    from .accounts import services

    roles = services.roles_by_user()
    for user in services.all_users():
        flags = ("admin " if user.is_admin else "") + ("" if user.active else "deactivated ")
        held = ", ".join(f"{role}@{code}" for code, role in roles.get(user.id, []))
        click.echo(f"{user.email:30} {user.name:35} {flags}{held}".rstrip())


@user_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
def user_set_password(email, password_stdin):
    """Set a user's password, read from standard input."""
    from .accounts import services

    password = _read_password_stdin()
    user = _apply(lambda: services.set_password(services.find_user(email), password))
    click.echo(f"Password changed for {user.email}.")


@user_cli.command("deactivate")
@click.argument("email")
def user_deactivate(email):
    """Stop a user from logging in (their history stays)."""
    from .accounts import services

    user = _apply(lambda: services.set_active(services.find_user(email), False))
    click.echo(f"{user.email} is deactivated.")


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option("--anchor", metavar="ID:HASH", help="What an earlier clean run printed: that event must still be "
              "in the chain with that hash (detects removal of the newest events, and a rewritten tail).")
def audit_verify(anchor):
    """Recompute the audit hash chain and its key signatures; exit non-zero at the first broken event."""
    report = trail.verify_chain(db.session, anchor=anchor)
    if report.ok:
        click.echo(f"Audit trail intact: {report.checked} events checked"
                   + (f" ({report.unkeyed} from before the audit key, covered by a keyed checkpoint)."
                      if report.unkeyed else "."))
        if report.last_id is not None:
            click.echo(f"Newest event {report.last_id}, anchor {report.anchor} "
                       "(keep it outside the database and pass it as --anchor next time).")
        return
    if report.anchor_missing:
        click.echo(f"Audit trail BROKEN: {report.reason}. {report.checked} events checked.", err=True)
    else:
        click.echo(f"Audit trail BROKEN at event {report.broken_id}: {report.reason}. "
                   f"{report.checked} events before it are intact.", err=True)
    sys.exit(1)


def register(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(load_demo_if_empty)
    app.cli.add_command(user_cli)
    app.cli.add_command(audit_cli)
    for module_name in AREA_COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        for command in getattr(module, "commands", []):
            app.cli.add_command(command)
