"""The `offramp` command: the typer app every command module registers on, and `main`."""

from __future__ import annotations

import gc
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
    """Entry point: a user's mistake becomes one paragraph on stderr and exit code 2, a fault of
    the machine (disk full, permission, damaged file) exit code 3, a bug in offramp exit code 1;
    never a traceback unless `--debug` comes first (`offramp --debug run ...`)."""
    import offramp.cli  # noqa: F401  (registers every command on `app`)

    # The cyclic garbage collector need not scan what the imports made (modules, classes,
    # compiled kernels: kept until exit), during the command or at exit, when the interpreter's
    # last collections would otherwise scan everything once more: together ~1 CPU-s of
    # `make run`'s ~10 (docs/model.md, section 10). Only this short-lived process does it: a
    # library user's collector is left alone.
    gc.freeze()
    debug = len(sys.argv) > 1 and sys.argv[1] == "--debug"
    if debug:
        del sys.argv[1]
    try:
        _command(debug)
    finally:
        gc.freeze()


def _command(debug: bool) -> None:
    try:
        app()  # standalone: usage errors exit 2 with click's message
    except UserError as error:
        # printable: an error may quote a scenario's text, which may hold terminal escapes
        err_console.print(f"[bold red]error:[/] {escape(printable(str(error)))}",
                          highlight=False)
        sys.exit(error.exit_code)
    except OSError as error:  # the machine: a disk full, a permission, a vanished file
        if debug:
            raise
        where = f" ({error.filename})" if error.filename else ""
        err_console.print(f"[bold red]error:[/] {escape(printable(error.strerror or str(error)))}"
                          f"{escape(printable(where))}: free space or fix the permission, then "
                          f"run again (an interrupted run resumes with --resume)",
                          highlight=False)
        sys.exit(3)
    except Exception as error:  # a bug in offramp
        if debug:
            raise
        err_console.print(f"[bold red]internal error[/] (a bug in offramp, not your input): "
                          f"{escape(printable(type(error).__name__))}: "
                          f"{escape(printable(str(error)[:300]))}. Run again with "
                          f"`offramp --debug ...` for the traceback and report it.",
                          highlight=False)
        sys.exit(1)
