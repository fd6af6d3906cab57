"""``flask --app tracker remind``: this week's digests (see tracker/reminders/digest.py).

Run it from cron or a systemd timer (README, "Reminders by e-mail"); the app runs no scheduler.
"""

from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import mail
from ..audit import trail


def _parse_day(_ctx, _param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD).") from None


@click.command("remind")
@click.option("--dry-run", is_flag=True, help="List who would get a digest and how many items; send nothing.")
@click.option("--today", callback=_parse_day, metavar="YYYY-MM-DD",
              help="Take this day as today (its ISO week, its late work). Default: today, or the TODAY setting.")
@with_appcontext
def remind_command(dry_run: bool, today: date | None):
    """Send each person the weekly digest of what needs their action (once per ISO week)."""
    from ..progress.weeks import current_date
    from .digest import run

    trail.set_actor(None, "cli")
    today = today or current_date()
    with mail.request_context():
        report = run(today, dry_run=dry_run, echo=click.echo)
    skipped = (f"skipped: {report.nothing_to_do} with nothing to do, {report.turned_off} turned off, "
               f"{report.already_sent} already sent for {report.week}")
    if dry_run:
        click.echo(f"Dry run for {report.week}: {len(report.digests)} digests would be sent; {skipped}.")
        return
    where = "sent" if mail.is_configured() else f"written to {mail.outbox_dir()} (mail is not configured)"
    click.echo(f"Digests for {report.week}: {report.count('sent') + report.count('written')} {where}, "
               f"{report.count('failed')} failed; {skipped}.")
    if report.count("failed"):
        current_app.logger.warning("%d digests could not be sent", report.count("failed"))
        raise SystemExit(1)


commands = [remind_command]
