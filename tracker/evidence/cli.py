"""``flask --app tracker evidence verify``: re-hash every stored evidence file.
``flask --app tracker evidence thumbnails``: make the missing thumbnails of stored images.

Exits 0 when every file is present and matches its SHA-256; otherwise lists the missing and
altered files (with the evidence items that use them) and exits 1. Files in the upload
folder that no row refers to (left by a failed request) are listed but are not an error.
"""

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import EvidenceItem, StoredFile
from . import storage, thumbnails

evidence_cli = AppGroup("evidence", help="Evidence files.")


def _items_using(file_id: int) -> str:
    rows = db.session.execute(
        select(EvidenceItem.id, EvidenceItem.project_id, EvidenceItem.file_name)
        .where(EvidenceItem.file_id == file_id)).all()
    if not rows:
        return "no evidence item"
    return "; ".join(f"item {r.id} in project {r.project_id} ({r.file_name})" for r in rows)


@evidence_cli.command("verify")
def verify():
    """Re-hash every stored file; exit non-zero when one is missing or altered."""
    report = storage.verify_files()
    for stored in report.missing:
        click.echo(f"MISSING  {stored.sha256}  used by {_items_using(stored.id)}", err=True)
    for stored, actual in report.altered:
        click.echo(f"ALTERED  {stored.sha256}  now hashes to {actual}; used by {_items_using(stored.id)}",
                   err=True)
    for path in report.strays:
        click.echo(f"unreferenced file (not an error): {path.name}")
    if report.ok:
        click.echo(f"Evidence files intact: {report.checked} checked in {storage.upload_dir()}.")
        return
    click.echo(f"Evidence files DAMAGED: {len(report.missing)} missing, {len(report.altered)} altered, "
               f"of {report.checked} checked.", err=True)
    sys.exit(1)


@evidence_cli.command("thumbnails")
def make_thumbnails():
    """Make the thumbnail of every stored image that has none (images stored before thumbnails
    existed; the pages also make one on its first request)."""
    made = present = failed = 0
    for stored in db.session.execute(select(StoredFile).order_by(StoredFile.id)).scalars():
        if not thumbnails.is_image(stored.content_type):
            continue
        original = storage.path_for(stored.sha256)
        if thumbnails.path_for(original).is_file():
            present += 1
        elif thumbnails.ensure(original) is not None:
            made += 1
        else:
            failed += 1
            click.echo(f"no thumbnail (missing, damaged or too large): {stored.sha256}", err=True)
    click.echo(f"Thumbnails: {made} made, {present} already there, {failed} not possible.")


commands = [evidence_cli]
