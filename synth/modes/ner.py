"""ner: text written with typed placeholders, then filled with fresh surrogates; each record
carries the exact character offsets of its entities.

A plain continuation prompt (examples one after another) rather than a chat: a small model keeps
the placeholder convention of the examples far more often when it just continues the list.
"""

from privacy.errors import BadInput
from privacy.placeholders import find_placeholders, placeholder
from synth.modes import Draft, Mode, Reject
from synth.modes.common import plan_examples, text_reply
from synth.templates import render


class Ner(Mode):
    name = "ner"
    templates = ("ner",)
    structured_output = False

    def plan(self, ctx):
        field = ctx.view.text_fields[0]
        pool = [i for i, r in enumerate(ctx.view.records) if find_placeholders(str(r.get(field, "")))]
        if not pool:
            raise BadInput(f"ner mode needs input records with placeholders in field {field!r}")
        return plan_examples(ctx, pool)

    def produce(self, task, ctx, generate):
        view = ctx.view
        field = view.text_fields[0]
        examples = [view.records[i][field] for i in task.sources]
        types = sorted({t for text in examples for t, *_ in find_placeholders(text)})
        noun = view.noun_for(task.conditions)
        prompt = render(
            "ner", what=ctx.what, noun=noun, examples=examples, placeholders=[placeholder(t, 1) for t in types]
        )
        text = text_reply(generate(prompt, stop=["\n\n", f"\n{noun.capitalize()}:"]))
        if not find_placeholders(text):
            raise Reject("no_entities")
        return Draft({field: text}, [text])

    def finish(self, draft, filler):
        ((field, text),) = draft.body.items()
        filled, spans = filler.fill(text, field)
        return {field: filled, "entities": [s.as_dict() for s in spans]}


MODE = Ner()
