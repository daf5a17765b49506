"""summarize: document → summary pairs. The document is itself synthetic (few-shot, as in
fewshot mode), never an input record, so the pairs can be released; then the model summarizes it."""

from synth.modes import Draft, Mode, Reject
from synth.modes.common import fewshot_messages, plan_examples, text_reply
from synth.quality import degenerate_reason, first_sentence
from synth.templates import render, system_prompt


class Summarize(Mode):
    name = "summarize"
    templates = ("system", "record_request", "summarize")
    structured_output = False

    def plan(self, ctx):
        return plan_examples(ctx, list(range(len(ctx.view.records))))

    def produce(self, task, ctx, generate):
        document = text_reply(generate(fewshot_messages(ctx, task)))
        if reason := degenerate_reason(document):
            raise Reject(reason)
        prompt = render("summarize", noun=ctx.view.noun_for(task.conditions), text=document)
        messages = [{"role": "system", "content": system_prompt(ctx.what)}, {"role": "user", "content": prompt}]
        summary = first_sentence(text_reply(generate(messages)))
        if len(summary) >= len(document):
            raise Reject("summary_not_shorter")
        return Draft({"document": document, "summary": summary}, [document, summary])


MODE = Summarize()
