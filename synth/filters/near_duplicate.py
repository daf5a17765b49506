"""Embedding de-duplication among outputs (synth/dedup.py), when the request asks for it."""

from synth.dedup import EmbeddingDuplicates
from synth.filters import DraftFilter


class NearDuplicate(DraftFilter):
    name = "near_duplicate"
    order = 30

    def __init__(self, index: EmbeddingDuplicates):
        self.index = index

    @classmethod
    def for_job(cls, ctx):
        texts = [t for t in ctx.view.texts() if t]
        return cls(EmbeddingDuplicates(texts)) if ctx.request.dedupe and len(texts) >= 2 else None

    def reason(self, texts, task):
        return "near_duplicate" if self.index.is_duplicate(" ".join(texts)) else None

    def keep(self, texts):
        self.index.add(" ".join(texts))


FILTER = NearDuplicate
