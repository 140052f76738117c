"""Stage 3, pairs: the (sentence, holder, target) triples the model judges
(:mod:`.build`), after the cheap checks every text gets before it is analysed
(:mod:`.screening`: size, markup, language, odd characters)."""
