"""Command-line tasks: `flask --app wsgi users create …`, `flask --app wsgi demo`."""
import secrets
import shutil
import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import Batch, Role
from app.services import accounts, demo, label_runs, label_sheets, run_processing, run_rendering
from app.services.backup import BackupRefused, create_backup, default_folder, restore_backup
from app.services.errors import RuleViolation
from app.services.errors import lazy_text as _l
from app.services.identifiers import LOGIN, FreeText, clean_values

# What the command accepts from the terminal: the same rules as the administrator's account form.
USER_RULES = {"name": FreeText(120, required=True), "login": LOGIN}

users = AppGroup("users", help="Manage user accounts.")


@users.command("create")
@click.option("--name", required=True)
@click.option("--login", required=True, help="E-mail address or phone number.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--cooperative-id", type=int, help="For a member: the cooperative's id.")
@click.option("--commune", "communes", type=int, multiple=True, help="For an officer: a commune code (repeatable).")
def create_user(name, login, password, role, cooperative_id, communes):
    """Create a user account."""
    try:
        typed = clean_values({"name": name, "login": login}, USER_RULES)
        user = accounts.create_user(
            name=typed["name"], login=typed["login"], password=password, role=Role(role),
            cooperative_id=cooperative_id, commune_codes=communes,
        )
    except RuleViolation as exc:
        raise click.ClickException(f"{exc.field}: {exc.message}") from exc
    click.echo(f"Created user {user.id} ({user.login}, {user.role.value}).")


@click.command("demo")
def load_demo():
    """Load the demo cooperatives, products, batches and accounts (only into an empty database)."""
    click.echo(demo.load_demo())


labels_cli = AppGroup("labels", help="QR stamp label runs.")


@labels_cli.command("templates")
def list_templates():
    """List the built-in label sheets."""
    for template_id, spec in label_sheets.templates().items():
        click.echo(f"{template_id:20} {spec.summary}")


def _find_batch(text: str) -> Batch:
    batch = db.session.get(Batch, int(text)) if text.isdigit() else None
    if batch is None:
        matches = list(db.session.scalars(select(Batch).where(Batch.lot_code == text)))
        if len(matches) != 1:
            raise click.ClickException(f"No single batch has the id or lot code {text!r}.")
        batch = matches[0]
    return batch


@labels_cli.command("print")
@click.option("--batch", "batch_ref", required=True, help="Batch id or lot code.")
@click.option("--count", type=int, required=True)
@click.option("--template", default="a4-65", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
def print_run(batch_ref, count, template, out):
    """Mint COUNT stamps for a batch and write their label sheets to OUT.

    The run is processed here, by the same service a label worker runs (run_processing), not through the queue."""
    batch = _find_batch(batch_ref)
    coop = batch.product.cooperative
    started = time.perf_counter()
    try:
        run, _created = label_runs.create_run(
            coop.id, product_id=batch.product_id, batch_id=batch.id, count=count, template=template,
            options={"offset_x_mm": coop.print_offset_x_mm, "offset_y_mm": coop.print_offset_y_mm},
            request_token=secrets.token_hex(16), actor_id=None,
        )
    except RuleViolation as exc:
        raise click.ClickException(str(exc.message)) from exc
    click.echo(f"run {run.id}: minting and rendering {count:,} stamps…", err=True)

    def show(done: int) -> None:
        click.echo(f"\r{done:,}/{count:,} labels ({100 * done // count} %)", nl=done >= count, err=True)

    run_processing.process(run.id, show)
    with run_rendering.open_pdf(run.id) as stored, open(out, "wb") as target:
        shutil.copyfileobj(stored, target)  # in chunks, from the disk or the S3 store alike
        size = target.tell()
    total = time.perf_counter() - started
    click.echo(
        f"run {run.id}: {count:,} stamps, template {template}, "
        f"{total:.2f} s ({count / total:,.0f} labels/s), PDF {size / 1e6:.2f} MB -> {out}"
    )


def in_both_languages(message) -> str:
    """A message for the terminal in Vietnamese, then in English (the catalogues' words, as on the pages)."""
    lines = []
    for locale in ("vi", "en"):
        with force_locale(locale):
            lines.append(str(message))
    return lines[0] if lines[0] == lines[1] else "\n".join(lines)


@click.command("backup")
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the backup file into (default: instance/backups).")
def backup_command(folder):
    """Write one backup file (database, stored files, stamp key) while the app keeps serving."""
    try:
        made = create_backup(folder or default_folder())
    except BackupRefused as exc:
        raise click.ClickException(in_both_languages(exc.message)) from exc
    click.echo(in_both_languages(_l(
        "Backup written: %(path)s (%(megabytes)s MB; %(files)s files; schema %(revision)s). It holds the stamp key: keep it where only you can read it, and copy it off this machine.",
        path=str(made.path), megabytes=f"{made.size / 1e6:.1f}", files=len(made.manifest.files), revision=made.manifest.schema_revision)))


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data; restore even if STAMP_KEY differs from the backup's key.")
def restore_command(archive, force):
    """Bring a backup file back into this instance (an empty database unless --force)."""
    try:
        restored = restore_backup(archive, force=force)
    except BackupRefused as exc:
        raise click.ClickException(in_both_languages(exc.message)) from exc
    manifest = restored.manifest
    click.echo(in_both_languages(_l(
        "Restored the backup of %(created)s: %(rows)s rows, %(files)s files.",
        created=manifest.created_at, rows=sum(manifest.row_counts.values()), files=len(manifest.files))))
    if restored.upgraded_to:
        click.echo(in_both_languages(_l("The database was upgraded from schema %(old)s to %(new)s.",
                                        old=manifest.schema_revision, new=restored.upgraded_to)))
    click.echo(in_both_languages(_l("The backup's stamp key was written to the instance directory.")))
    for warning in restored.warnings:
        click.echo(in_both_languages(warning), err=True)


def register(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(load_demo)
    app.cli.add_command(labels_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
