"""Build hook: the shipped models (models/stancekit-minilm, and models/stancekit-mpnet when
it is there: an adapter over the MPNet base, which comes from its own PyPI packages) go
inside the wheel as stancekit/models/<name>, so an installed stancekit works without the
repository. Everything else about the package is in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MODELS = Path(__file__).resolve().parent / "models"
REQUIRED = {"stancekit-minilm": "model.safetensors"}
OPTIONAL = {"stancekit-mpnet": "adapter_model.safetensors"}


class BuildPyWithModel(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        for name, weights in {**REQUIRED, **OPTIONAL}.items():
            folder = MODELS / name
            if not (folder / weights).exists():
                if name in REQUIRED:
                    raise FileNotFoundError(f"{folder} is missing: the wheel must carry it")
                continue
            dest = Path(self.build_lib) / "stancekit" / "models" / name
            shutil.copytree(folder, dest, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithModel})
