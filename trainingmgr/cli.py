"""Command-line commands: ``flask --app app <command>``."""

from __future__ import annotations

import click
from flask import Flask

from trainingmgr.accounts import services as accounts
from trainingmgr.accounts.models import Role
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("email")
    @click.option(
        "--role",
        "roles",
        multiple=True,
        required=True,
        type=click.Choice([r.value for r in Role]),
        help="A role of the account; repeat for several.",
    )
    @click.option("--name", default="", help="Display name.")
    def create_user(email: str, roles: tuple[str, ...], name: str) -> None:
        """Create an account. The password is asked for, never taken on the command line."""
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = accounts.create_user(email, roles, password, display_name=name)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc
        db.session.commit()
        click.echo(f"Created {user.email} with roles: {', '.join(sorted(roles))}")

    @app.cli.command("demo")
    def demo() -> None:
        """Load realistic demo data. Safe to run again: nothing is duplicated."""
        from trainingmgr import demo as demo_data

        try:
            summary = demo_data.load()
        except demo_data.DemoRefused as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(summary)
        click.echo("")
        click.echo("Demo sign-ins (password: demo-password):")
        for email, role in demo_data.DEMO_ACCOUNTS + demo_data.ACCESS_ACCOUNTS:
            click.echo(f"  {email:<28} {role}")

    from trainingmgr.imports.cli import register as register_imports

    register_imports(app)
    from trainingmgr.ops.cli import register as register_ops  # backup, restore

    register_ops(app)
    from trainingmgr.mail.cli import register as register_mail

    register_mail(app)
    from trainingmgr.certificates.cli import register as register_certificates

    register_certificates(app)
