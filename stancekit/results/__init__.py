"""Stage 5, judgements and summaries: the frozen result records (:mod:`.judgements`:
``Judgement``, ``DocumentResult``, ``Summary``, ``SummaryRow``, each with ``to_dict()`` and
``to_dataframe()``) and the one rule that sums a document's judgements per holder x target
(:mod:`.summarize`)."""
