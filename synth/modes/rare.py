"""rare: upsample records of a rare label or condition (--labels fraud, or `where`
{"kind": "note"}) by few-shot generation from the matching records only."""

from privacy.errors import BadInput
from synth.modes import Mode
from synth.modes.common import fewshot_messages, plan_examples, record_reply


class Rare(Mode):
    name = "rare"
    selects_candidates = True
    templates = ("system", "record_request")

    def plan(self, ctx):
        labels, where, label_field = ctx.request.labels, ctx.request.where or {}, ctx.view.label_field
        if labels and not label_field:
            raise BadInput("rare mode with --labels needs a label field (--label-field)")
        if not labels and not where:
            raise BadInput("rare mode needs the labels (--labels) or the condition to upsample")

        def matches(record):
            if labels and record.get(label_field) not in labels:
                return False
            return all(record.get(k) == v for k, v in where.items())

        pool = [i for i, r in enumerate(ctx.view.records) if matches(r)]
        if not pool:
            raise BadInput("no input record matches the rare label or condition")
        return plan_examples(ctx, pool)

    def produce(self, task, ctx, generate):
        return record_reply(ctx, task, generate, fewshot_messages(ctx, task))


MODE = Rare()
