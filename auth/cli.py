"""Account commands: create-user, set-password, deactivate-user, create-token, revoke-tokens."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from auth import accounts, audit
from auth.accounts import AccountError
from data.db import get_session
from data.models import ROLES


def init_app(app: Flask) -> None:
    """Register the account commands."""
    for command in (create_user, set_password, deactivate_user, create_token, revoke_tokens):
        app.cli.add_command(command)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _run(action, *args):
    session = get_session()
    try:
        result = action(session, *args)
    except AccountError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from exc
    session.commit()
    return result


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--unit", "unit_code", required=True, help="Code of the user's home unit.")
@click.option("--display-name", default="")
@click.option("--language", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first stdin line.")
@with_appcontext
def create_user(username, role, unit_code, display_name, language, password_stdin):
    """Create a user who sees UNIT's subtree (the password: 10+ characters, not common or weak)."""
    password = _password(password_stdin)

    def act(session):
        accounts.create_user(session, username, role, unit_code, password, display_name, language)
        audit.record(session, "user_create", "cli", target=username, detail=f"{role}@{unit_code}")
    _run(act)
    click.echo(f"Created {role} '{username}' for unit {unit_code}.")


@click.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first stdin line.")
@with_appcontext
def set_password(username, password_stdin):
    """Set a user's password (10+ characters, not common or weak); their sessions end."""
    password = _password(password_stdin)

    def act(session):
        accounts.set_password(accounts.find_user(session, username), password)
        audit.record(session, "user_password", "cli", target=username)
    _run(act)
    click.echo(f"Password of '{username}' changed; their sessions and remember-me cookies ended.")


@click.command("deactivate-user")
@click.argument("username")
@with_appcontext
def deactivate_user(username):
    """Deactivate a user: their sessions end and their API tokens are revoked."""
    def act(session):
        revoked = accounts.deactivate(session, accounts.find_user(session, username))
        audit.record(session, "user_deactivate", "cli", target=username,
                     detail=f"sessions ended, {revoked} token(s) revoked")
        return revoked
    revoked = _run(act)
    click.echo(f"'{username}' deactivated; their sessions ended and {revoked} token(s) revoked.")


@click.command("create-token")
@click.argument("username")
@click.option("--label", default="", help="What the token is for.")
@with_appcontext
def create_token(username, label):
    """Create an API token for a user; it is printed once, as the last line."""
    def act(session):
        token = accounts.create_token(session, accounts.find_user(session, username), label)
        audit.record(session, "token_create", "cli", target=username, detail=label)
        return token
    token = _run(act)
    click.echo("Store this token now; it is not shown again:")
    click.echo(token)


@click.command("revoke-tokens")
@click.argument("username")
@with_appcontext
def revoke_tokens(username):
    """Revoke every API token of a user."""
    def act(session):
        n = accounts.revoke_tokens(session, accounts.find_user(session, username))
        audit.record(session, "token_revoke", "cli", target=username, detail=str(n))
        return n
    click.echo(f"Revoked {_run(act)} token(s) of '{username}'.")
