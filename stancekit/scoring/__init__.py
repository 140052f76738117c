"""Stage 4, the model: :class:`~stancekit.scoring.model.StanceModel` loads a model folder
(:mod:`.modelfiles`, :mod:`.modelconfig`; pinned PyPI bases in :mod:`.bases`, safetensors
only, every SHA-256 checked) and scores pairs one at a time (:mod:`.model`, or the LoRA
pair model of :mod:`.pairmodel`) or once per holder with levitated markers
(:mod:`.packed`), on torch or ONNX Runtime (:mod:`.onnx_backend`), in length-sorted
batches (:mod:`.batching`)."""
