"""Stage 1, text: the document that owns the text (:mod:`.document`: ``Document``,
``Sentence``, ``Mention``, character offsets into one string), its sentences, titles and
captions (:mod:`.segment`, split on line breaks first, then spaCy's parse) and the pinned
spaCy pipeline (:mod:`.nlp`)."""
