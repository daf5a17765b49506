"""dialog: multi-turn conversations as JSON turns, each about one scrubbed record.

The model continues a "Role: text" transcript, which a small model does far more reliably than
writing JSON or following a chat instruction; the lines become [{"role": ..., "text": ...}, ...].
Speakers other than the first role (the model invents "Support Agent", "Representative"...) are
the second role.
"""

import re

from synth.modes import Draft, Mode, Reject
from synth.modes.paraphrase import MODE as PARAPHRASE
from synth.quality import clean, trim_to_sentence
from synth.templates import render

_SPEAKER = re.compile(r"^\W*([A-Za-z][\w .'-]{0,24}?)\W*:\s*(.+)$")


class Dialog(Mode):
    name = "dialog"
    templates = ("dialog",)
    structured_output = False

    def plan(self, ctx):
        return PARAPHRASE.plan(ctx)  # one source record per conversation, each used once per pass

    def produce(self, task, ctx, generate):
        view = ctx.view
        first, second = ctx.request.roles
        source = view.records[task.sources[0]]
        prompt = render(
            "dialog", noun=view.noun_for(task.conditions), text=source[view.text_fields[0]],
            first_role=first, second_role=second,
        )
        completion = generate(prompt, stop=["\n\n\n"])
        turns = parse_turns(f"{first.capitalize()}:{completion.text}", (first, second))
        if completion.finish_reason == "length" and turns:  # the last turn was cut off
            if last := trim_to_sentence(turns[-1]["text"]):
                turns[-1]["text"] = last
            else:
                turns.pop()
        if len(turns) < 2:
            raise Reject("not_a_dialog")
        return Draft({"turns": turns}, [t["text"] for t in turns])


def parse_turns(transcript: str, roles: tuple[str, str]) -> list[dict]:
    """'Speaker: text' lines → alternating turns; consecutive lines of one role are merged."""
    first, second = roles
    turns: list[dict] = []
    for line in transcript.splitlines():
        if not (match := _SPEAKER.match(line.strip())):
            continue
        role = first if first.lower() in match.group(1).lower() else second
        text = clean(match.group(2))
        if not text:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["text"] += " " + text
        else:
            turns.append({"role": role, "text": text})
    return turns


MODE = Dialog()
