"""The `offramp` command line."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from offramp.errors import UserError

app = typer.Typer(
    name="offramp",
    help="A lab for war-termination strategy. Explores assumptions; does not forecast.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True, soft_wrap=True)


def main() -> None:
    """Entry point: run the app, turning user mistakes into one paragraph and exit code 2."""
    try:
        app(standalone_mode=False)
    except UserError as error:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
        sys.exit(error.exit_code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as error:  # click's usage errors arrive here in non-standalone mode
        import click

        if isinstance(error, click.ClickException):
            error.show()
            sys.exit(2)
        raise
