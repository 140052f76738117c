"""Stage 3, pairs: the (sentence, holder, target) triples the model judges
(:mod:`.build`): each target in each sentence that names it, once per holder of the
sentence and once for the text's own voice."""
