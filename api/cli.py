"""`airlock`: the command line. Each stage's verbs live in their own module and register here.

Heavy libraries (Presidio, llama.cpp, torch) are imported inside commands, so `--help` is instant.
"""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from api import cli_audit, cli_doctor, cli_finetune, cli_privacy, cli_service, cli_synth
from api.errors import exit_code
from privacy.errors import AirlockError


class _AirlockGroup(TyperGroup):
    """Turns typed errors into one line on stderr and the mapped exit code, never a traceback."""

    def invoke(self, ctx):  # noqa: ANN001 - click's signature
        try:
            return super().invoke(ctx)
        except AirlockError as error:
            typer.echo(f"error: {error}", err=True)
            ctx.exit(exit_code(error))


app = typer.Typer(
    cls=_AirlockGroup,
    help="Airlock: scrub sensitive records, synthesize with a local model, audit before release.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for module in (cli_privacy, cli_synth, cli_audit, cli_finetune, cli_service, cli_doctor):
    module.register(app)


def main() -> None:
    app()
