"""Running the pipeline over many documents: parse the next batch while the model scores
this one (:mod:`.prefetch`), a time limit per document (:mod:`.deadline`), flat memory over
long runs (:mod:`.memory`), resumable JSON Lines output (:mod:`.checkpoint`) and the Ray
Data engine (:mod:`.distributed`)."""
