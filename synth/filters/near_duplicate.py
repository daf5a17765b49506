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
        if not ctx.request.dedupe or len(texts) < 2:
            return None
        return cls(EmbeddingDuplicates(texts, threshold=ctx.request.dedupe_similarity))

    def reason(self, texts, task):
        return "near_duplicate" if self.index.is_duplicate(" ".join(texts)) else None

    def keep(self, texts):
        self.index.add(" ".join(texts))


FILTER = NearDuplicate
