"""The `offramp` command: the typer app every command module registers on, and `main`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from offramp.errors import UserError
from offramp.report.console import stdout_console
from offramp.report.words import printable

app = typer.Typer(
    name="offramp",
    help="A lab for war-termination strategy. It explores assumptions; it does not forecast.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = stdout_console()
err_console = Console(stderr=True, soft_wrap=True)

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a scenario value: PATH=VALUE, e.g. combat.noise_sd.value=0.2 (repeatable).",
    ),
]


def main() -> None:
    """Entry point: user mistakes become one paragraph on stderr and exit code 2."""
    import offramp.cli  # noqa: F401  (registers every command on `app`)

    try:
        app()  # standalone: usage errors exit 2 with click's message
    except UserError as error:
        # printable: an error may quote a scenario's text, which may hold terminal escapes
        err_console.print(f"[bold red]error:[/] {escape(printable(str(error)))}",
                          highlight=False)
        sys.exit(error.exit_code)
