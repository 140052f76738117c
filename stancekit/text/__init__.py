"""Stage 1, text: the document that owns the text (:mod:`.document`: ``Document``,
``Sentence``, ``Mention``, character offsets into one string), the cheap checks every text
gets before it is analysed (:mod:`.screening`: size, markup, language, odd characters), its
sentences, titles and captions (:mod:`.segment`: split on line breaks first, then spaCy's
parse) and the pinned spaCy pipeline (:mod:`.nlp`)."""
