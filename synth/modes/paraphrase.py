"""paraphrase: rewrite each scrubbed record in new words, keeping its conditions (label, kind) and
its placeholders; records are taken in a seeded order, each once before any repeats."""

from synth.modes import Draft, Mode, Reject, Task
from synth.modes.common import text_reply
from synth.templates import render, system_prompt


class Paraphrase(Mode):
    name = "paraphrase"
    templates = ("system", "paraphrase")
    structured_output = False

    def plan(self, ctx):
        view, order, tasks = ctx.view, [], []
        for slot in range(ctx.request.n):
            if not order:
                order = ctx.rng.sample(range(len(view.records)), len(view.records))
            source = order.pop()
            tasks.append(Task(slot, view.conditions(view.records[source]), [source]))
        return tasks

    def produce(self, task, ctx, generate):
        view = ctx.view
        source = view.records[task.sources[0]]
        noun = view.noun_for(task.conditions)
        body = {}
        for field in view.text_fields:
            if not isinstance(source.get(field), str):
                continue
            prompt = render("paraphrase", noun=noun, text=source[field])
            messages = [{"role": "system", "content": system_prompt(ctx.what)}, {"role": "user", "content": prompt}]
            body[field] = text_reply(generate(messages))
        if not body:
            raise Reject("no_text")
        return Draft(body, list(body.values()))


MODE = Paraphrase()
