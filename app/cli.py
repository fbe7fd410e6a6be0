"""Command-line tasks: `flask --app wsgi users create …`, `flask --app wsgi demo`."""
import click
from flask import Flask
from flask.cli import AppGroup

from app.models import Role
from app.services import accounts, demo
from app.services.errors import RuleViolation

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
        user = accounts.create_user(
            name=name, login=login, password=password, role=Role(role),
            cooperative_id=cooperative_id, commune_codes=communes,
        )
    except RuleViolation as exc:
        raise click.ClickException(f"{exc.field}: {exc.message}") from exc
    click.echo(f"Created user {user.id} ({user.login}, {user.role.value}).")


@click.command("demo")
def load_demo():
    """Load the demo cooperatives, products, batches and accounts (only into an empty database)."""
    click.echo(demo.load_demo())


def register(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(load_demo)
