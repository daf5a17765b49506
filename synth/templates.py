"""Prompt templates: versioned Jinja2 files in synth/templates/ named `<name>.v<N>.j2`.

The newest version of each name is used and its `<name>.v<N>` tag goes into provenance, so a
changed prompt is a new file and old records still say which prompt wrote them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).parent / "templates"
_FILE = re.compile(r"^(?P<name>[a-z_]+)\.v(?P<version>\d+)\.j2$")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
    )


@lru_cache(maxsize=None)
def template_file(name: str) -> str:
    """The newest `<name>.vN.j2`."""
    versions = [
        (int(m["version"]), p.name)
        for p in TEMPLATE_DIR.iterdir()
        if (m := _FILE.match(p.name)) and m["name"] == name
    ]
    if not versions:
        raise KeyError(f"no prompt template named {name!r}")
    return max(versions)[1]


def template_version(name: str) -> str:
    """e.g. 'record_request.v1'."""
    return template_file(name).removesuffix(".j2")


def render(name: str, **values) -> str:
    return _environment().get_template(template_file(name)).render(**values).strip()


def render_record_request(noun: str = "record", conditions: dict | None = None, fields: list[str] | None = None,
                          hint: str | None = None) -> str:
    """The user turn that asks for one record: `noun` (e.g. 'ticket'), the conditioning values
    (e.g. {'label': 'billing'}), for structured records the JSON fields to fill, and optionally a
    keyword the record should mention (diversity steering, synth/steer.py). Without a hint, v2 reads
    exactly as v1 did.

    The fine-tuning stage renders its training prompts with this same template, so a fine-tuned
    model is asked at generation time exactly what it learned to answer.
    """
    return render("record_request", noun=noun, conditions=conditions or {}, fields=fields or [], hint=hint)


def system_prompt(what: str) -> str:
    return render("system", what=what)
