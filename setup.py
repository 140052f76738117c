"""Build hook: the default model (models/stancekit-minilm) goes inside the wheel, as
stancekit/models/stancekit-minilm, so an installed stancekit works without the repository.
Everything else about the package is in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MODEL = Path(__file__).resolve().parent / "models" / "stancekit-minilm"


class BuildPyWithModel(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        if not (MODEL / "model.safetensors").exists():
            raise FileNotFoundError(f"{MODEL} is missing: the wheel must carry the default model")
        dest = Path(self.build_lib) / "stancekit" / "models" / MODEL.name
        shutil.copytree(MODEL, dest, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithModel})
