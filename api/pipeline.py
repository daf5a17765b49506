"""One run of Airlock: scrub → split → (canaries) → (fine-tune) → synthesize → audit → gate → release.

The CLI (`airlock run`), the worker and so the service all call `run_pipeline`. Each stage leaves
its artifacts and a checkpoint in a work directory, so a run that dies (a killed worker) resumes
after its last completed stage. Stage artifacts hold scrubbed records only: the raw input is read
once, in memory, by the scrub; record ids are replaced there by keyed pseudonyms, so no later
artifact (splits, report) carries a source id. Every stage is an audit-log entry; the report carries
the log head it was issued at, and the log head is signed into a checkpoint at every release or
quarantine. The gate is fail-closed: a failed or missing check, or an audit that did not complete,
means nothing releasable is written. Once a run has ended in release or quarantine its work files
(scrubbed records, splits, manifest) are deleted, unless the policy's retention keeps them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from api.policy import Policy
from api.secrets import load_keyring, load_secret, public_id
from api.settings import Settings
from audit.errors import AuditError
from privacy.errors import AirlockError, BadInput
from privacy.records import atomic_output, read_records, write_records

# Share of the overall progress each stage accounts for (optional stages drop out when not chosen).
WEIGHTS = {"scrub": 20, "split": 1, "canaries": 1, "finetune": 30, "synth": 35, "audit": 25, "release": 1}
REPORT_FILES = ("report.json", "report.html", "report.json.sig")
BUNDLE_FILES = ("synthetic.jsonl", *REPORT_FILES, "signing-key.pub", "DATASET_CARD.md", "QUARANTINE.json")

StageProgress = Callable[[str, float], None]  # (stage, overall percent 0–100)
StageDone = Callable[[str, float, dict], None]  # (stage, seconds, counts)


class Interrupted(Exception):
    """Raised by a callback to stop a run without a verdict (e.g. a worker that lost its lease);
    the run resumes from its checkpoint when it is started again."""


class RecordSource(Protocol):
    """An input that is not a plain file: an encrypted upload, read in memory and discarded after the scrub."""

    name: str

    def records(self, max_record_bytes: int) -> Iterator[dict]: ...

    def discard(self) -> None: ...


@dataclass
class PipelineOptions:
    """A run's choices within its policy; None means the policy's default."""

    mode: str | None = None
    n: int | None = None
    seed: int | None = None
    finetune: bool = False
    dp: bool = False
    canaries: int = 0
    run_id: str | None = None
    workdir: Path | None = None  # checkpoints and stage artifacts; a run resumes from one
    ray: str | None = None  # batch stages on Ray at this address ('local': a runtime here); None: the policy's execution
    workers: int | None = None  # actors per batch stage on Ray (default: the policy's execution.workers, else 1)


@dataclass
class PipelineResult:
    run_id: str
    verdict: str  # the gate's: "pass" or "quarantine"
    released: bool
    outdir: Path
    counts: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    @property
    def report_html(self) -> Path:
        return self.outdir / "report.html"


def run_pipeline(
    input_path: Path | str | RecordSource,
    outdir: Path | str,
    policy: Policy,
    settings: Settings,
    options: PipelineOptions | None = None,
    progress: StageProgress | None = None,
    *,
    audit_log: Any = None,
    on_stage_done: StageDone | None = None,
) -> PipelineResult:
    """Run (or resume) the whole pipeline; the release bundle or the quarantine report lands in `outdir`."""
    options = options or PipelineOptions()
    if options.workdir is None:  # a one-off run: stage artifacts (scrubbed only) go when it ends
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="run-", dir=settings.data_dir) as work:
            return run_pipeline(input_path, outdir, policy, settings, replace(options, workdir=Path(work)), progress,
                                audit_log=audit_log, on_stage_done=on_stage_done)
    if audit_log is None:
        from api.db import open_database
        from audit.log import AuditLog

        audit_log = AuditLog(open_database(settings.effective_database_url))
    run = _Run(input_path, Path(outdir), policy, settings, options, progress, audit_log, on_stage_done)
    return run.execute()


class _Run:
    def __init__(self, source, outdir: Path, policy: Policy, settings: Settings, options: PipelineOptions,
                 progress: StageProgress | None, log, on_stage_done: StageDone | None):
        self.source, self.outdir, self.policy, self.settings = source, outdir, policy, settings
        self.options, self.log, self.on_stage_done = options, log, on_stage_done
        self.progress = progress or (lambda stage, percent: None)
        self.work = Path(options.workdir)
        self.work.mkdir(parents=True, exist_ok=True)
        self.checkpoint = self._load_checkpoint()
        self.site_key = self._run_key("site")
        self.run_id = self.checkpoint["run_id"]
        may_finetune = options.finetune or policy.finetune_choice.when != "never"
        self.stages = [s for s in WEIGHTS if (s != "canaries" or options.canaries) and (s != "finetune" or may_finetune)]

    # -- bookkeeping -------------------------------------------------------------------------------

    def _load_checkpoint(self) -> dict:
        path = self.work / "checkpoint.json"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
        return {"run_id": self.options.run_id or uuid.uuid4().hex, "completed": [], "counts": {}, "timings": {},
                "state": {}}

    def _run_key(self, name: str) -> bytes:
        """The key this run uses for `name`: the one it started with, so that a run resumed after a
        rotation still reads its own manifest; the ring's current key for a new run."""
        ring = load_keyring(name, self.settings)
        used = self.checkpoint["state"].setdefault("keys", {})
        if used.get(name) and ring.get(used[name]) is not None:
            return ring.get(used[name])
        used[name] = ring.current.id
        return ring.current.material

    def _save_checkpoint(self) -> None:
        with atomic_output(self.work / "checkpoint.json") as out:
            json.dump(self.checkpoint, out, indent=1)

    def _report(self, stage: str, fraction: float) -> None:
        """Overall percent: completed stages' weights plus the running stage's share."""
        total = sum(WEIGHTS[s] for s in self.stages)
        before = sum(WEIGHTS[s] for s in self.stages[: self.stages.index(stage)])
        self.progress(stage, round(100 * (before + WEIGHTS[stage] * min(max(fraction, 0.0), 1.0)) / total, 1))

    def _stage_progress(self, stage: str):
        def update(done: int, total: int | None) -> None:
            if total:
                self._report(stage, done / total)

        return update

    def execute(self) -> PipelineResult:
        resumed = list(self.checkpoint["completed"])
        self.log.append("run.resumed" if resumed else "run.started", self.run_id,
                        {"policy": self.policy.name, "options": _public_options(self.options),
                         "after": resumed[-1] if resumed else None})
        try:
            for stage in list(self.stages):
                if stage in self.checkpoint["completed"] or (stage == "finetune" and not self._chooses_finetune()):
                    continue
                self._report(stage, 0.0)
                started = time.perf_counter()
                counts = getattr(self, f"_{stage}")() or {}
                seconds = time.perf_counter() - started
                self.checkpoint["completed"].append(stage)
                self.checkpoint["counts"].update(counts)
                self.checkpoint["timings"][stage] = round(seconds, 3)
                self._save_checkpoint()
                self.log.append(f"stage.{stage}", self.run_id, {"seconds": round(seconds, 3), **counts})
                if self.on_stage_done:
                    self.on_stage_done(stage, seconds, counts)
                self._report(stage, 1.0)
            if "scrub" in self.checkpoint["completed"] and not isinstance(self.source, (str, Path)):
                self.source.discard()
        except Interrupted:
            raise
        except Exception as error:
            self.log.append("run.failed", self.run_id, {"stage": self._current(), "error": type(error).__name__})
            raise
        self._apply_retention()
        verdict = self.checkpoint["state"]["verdict"]
        return PipelineResult(self.run_id, verdict, verdict == "pass", self.outdir,
                              dict(self.checkpoint["counts"]), dict(self.checkpoint["timings"]))

    def _current(self) -> str | None:
        return next((s for s in self.stages if s not in self.checkpoint["completed"]), None)

    # -- stages ------------------------------------------------------------------------------------

    def _scrub(self) -> dict:
        """Scrub the input once, in memory; write scrubbed records, the manifest and (if the policy
        asks) the encrypted vault, which stays in the data directory and never enters a bundle."""
        from privacy.manifest import ManifestWriter
        from privacy.scrub import Scrubber, auto_workers, text_bytes
        from privacy.vault import VaultWriter

        privacy = self.policy.privacy
        if isinstance(self.source, (str, Path)):
            raw = list(read_records(self.source, privacy.max_record_bytes))
        else:
            raw = list(self.source.records(privacy.max_record_bytes))
        uses_encrypt = any(r.operator == "encrypt" for r in (privacy.default_operator, *privacy.operators.values()))
        vault_key = self._run_key("vault") if privacy.vault or uses_encrypt else None
        scrubber = Scrubber(privacy, self.site_key, vault_key=vault_key)
        pseudonym = RecordPseudonyms(self.site_key, privacy.id_field)
        by_entity: dict[str, int] = {}
        findings = 0
        with ExitStack() as stack:
            scrubber = self._on_executor(scrubber, stack)
            manifest = stack.enter_context(ManifestWriter(self.work / "manifest.jsonl", self.site_key))
            vault = None
            if privacy.vault:
                (self.settings.data_dir / "vaults").mkdir(parents=True, exist_ok=True)
                vault = stack.enter_context(VaultWriter(self.settings.data_dir / "vaults" / f"{self.run_id}.vault",
                                                        vault_key))

            def scrubbed() -> Iterable[dict]:
                nonlocal findings
                for item in scrubber.scrub(raw, progress=self._stage_progress("scrub"), total=len(raw), vault=vault,
                                           workers=auto_workers(text_bytes(raw))):  # on Ray, its actors detect instead
                    item = pseudonym.scrubbed(item)
                    manifest.add(item.findings)
                    findings += len(item.findings)
                    for finding in item.findings:
                        by_entity[finding.entity_type] = by_entity.get(finding.entity_type, 0) + 1
                    yield item.record

            records = write_records(self.work / "scrubbed.jsonl", scrubbed())
        del raw
        return {"records": records, "findings": findings, "findings_by_entity": by_entity}

    def _on_executor(self, scrubber, stack: ExitStack):  # noqa: ANN001, ANN202 - privacy.scrub.Scrubber
        """The scrubber itself, or one that detects on Ray actors (options.ray, else the policy's
        `execution`): same output either way."""
        from api.execution import executor, placement

        where = placement(self.policy.execution, self.options.ray, self.options.workers, self.settings.ray_address)
        if not where.ray:
            return scrubber
        from privacy.batch import BatchScrubber

        runner = stack.enter_context(executor(where.ray, where.workers))
        return BatchScrubber(scrubber.policy, scrubber.site_key, runner, vault_key=scrubber.vault_key)

    def _split(self) -> dict:
        """A seeded holdout of scrubbed records, kept away from the generator for the audit."""
        records = list(read_records(self.work / "scrubbed.jsonl"))
        split = self.policy.split
        size = max(split.min_holdout, self.policy.audit.min_holdout, round(len(records) * split.holdout_fraction))
        if len(records) - size < 1:
            raise BadInput(f"{len(records)} records are too few to keep a holdout of {size} "
                           "(policy split.min_holdout / audit.min_holdout)")
        random.Random(split.seed).shuffle(records)
        write_records(self.work / "holdout.jsonl", records[:size])
        write_records(self.work / "train.jsonl", records[size:])
        return {"train": len(records) - size, "holdout": size}

    def _canaries(self) -> dict:
        """Plant canary records in the training split (half are held back as controls) for the audit."""
        from audit.canaries import make_canaries, write_canaries

        train = list(read_records(self.work / "train.jsonl"))
        canaries = make_canaries(train, self._seed(), self.options.canaries, id_field=self.policy.privacy.id_field)
        write_canaries(self.work / "canaries.json", canaries)
        write_records(self.work / "train.jsonl", [*train, *canaries.training_records()])
        return {"canaries": len(canaries.inserted)}

    def _finetune(self) -> dict:
        """LoRA-fine-tune the policy's model on the training split (DP-SGD with --dp or the policy's
        `finetune.dp`); the model is registered in the model store under a per-run name and used by
        the synth stage. Runs when asked (--finetune) or when `_chooses_finetune` picks it."""
        from synth.finetune import finetune
        from synth.store import ModelStore

        store = ModelStore(self.settings.models_dir)
        base = store.get(self.policy.synth.model)
        train = list(read_records(self.work / "train.jsonl"))
        config = self._finetune_config()
        name = f"{base.name}-{'dp-' if config.dp else ''}ft-{self.run_id[:8]}"
        existing = {m.name: m for m in store.list()}
        model = existing.get(name) or finetune(train, base, store, config,
                                               progress=self._stage_progress("finetune"), name=name)
        self.checkpoint["state"]["models"] = {"finetuned": model.name, "base": base.name}
        self.checkpoint["state"]["finetune"] = {k: model.provenance.get(k) for k in (
            "differential_privacy", "epsilon", "delta", "epsilon_spent", "accountant", "guarantee", "records_cut",
            "max_length")}
        return {"finetuned_model_sha256": model.sha256, "finetuned_adapter_sha256": model.adapter_sha256,
                "differential_privacy": config.dp}

    def _chooses_finetune(self) -> bool:
        """Decided once per run and kept in the checkpoint. A run that does not fine-tune drops the
        stage, so its progress and completed stages read as a few-shot run's."""
        from api.finetune_choice import decide, tokens_per_record
        from synth.store import ModelStore

        state = self.checkpoint["state"]
        if "finetune_choice" not in state:
            base = ModelStore(self.settings.models_dir).get(self.policy.synth.model)
            train, config = list(read_records(self.work / "train.jsonl")), self._finetune_config()
            decision = decide(len(train), config, self.policy.finetune_choice, base.path.stat().st_size,
                              self.options.finetune, tokens_per_record(train, config.text_fields))
            state["finetune_choice"] = decision.as_dict()
            self._save_checkpoint()
        if not state["finetune_choice"]["finetune"]:
            self.stages.remove("finetune")
        return state["finetune_choice"]["finetune"]

    def _finetune_config(self):
        """The policy's fine-tuning settings, completed for this run (fields, seed, DP, checkpoints)."""
        privacy = self.policy.privacy
        return self.policy.finetune.model_copy(update={
            "dp": self.options.dp or self.policy.finetune.dp,
            "seed": self._seed(),
            "text_fields": self.policy.finetune.text_fields or _fields_of_kind(privacy, "text"),
            "label_field": self.policy.finetune.label_field or next(iter(_fields_of_kind(privacy, "label")), None),
            "id_field": privacy.id_field,
            "checkpoint_dir": self.work / "finetune",  # a killed run resumes its training steps
            "threads": self.policy.finetune.threads or self.policy.synth.runtime.n_threads,
        })

    def _synth(self) -> dict:
        """Generate from the training split; drafts with PII the model invented are retried. A model
        fine-tuned on the task writes without source examples in its prompt (k=0)."""
        from api.synthesis import generation_summary, run_synthesis
        from privacy.manifest import read_manifest
        from synth.fill import SourceValues

        model = self._model()
        train = list(read_records(self.work / "train.jsonl"))
        synth = self.policy.synth
        finetuned = bool(self.checkpoint["state"].get("models", {}).get("finetuned"))
        request = synth.request(train, mode=self.options.mode, n=self.options.n, seed=self._seed(),
                                privacy=self.policy.privacy, k=0 if finetuned else None)
        # Fake values that fill placeholders must not happen to equal a source PII value.
        source = SourceValues(self.site_key, {f.fingerprint for f in read_manifest(self.work / "manifest.jsonl",
                                                                                   self.site_key)})
        result = run_synthesis(train, request, model, synth.runtime, self.policy, self._stage_progress("synth"),
                               source_values=source)
        write_records(self.work / "synthetic.jsonl", result.records)
        self.checkpoint["state"]["model"] = {"name": model.name, "sha256": model.sha256,
                                             **({"adapter_sha256": model.adapter_sha256} if model.adapter else {})}
        self.checkpoint["state"]["generation"] = generation_summary(result.summary)
        return {"synthetic": len(result.records), "model_sha256": model.sha256,
                "surrogates_redrawn": result.summary["surrogates_redrawn"],
                "synth_rejected": result.summary["rejected"], "synth_requested": result.summary["requested"],
                "synth_attempts": result.summary["attempts"]}

    def _model(self):
        from synth.store import ModelStore

        finetuned = self.checkpoint["state"].get("models", {}).get("finetuned")
        return ModelStore(self.settings.models_dir).get(finetuned or self.policy.synth.model)

    def _models_for_audit(self) -> dict | None:
        """The fine-tuned and base model, for the audit's model-based membership inference."""
        from synth.store import ModelStore

        names = self.checkpoint["state"].get("models")
        if not names:
            return None
        store = ModelStore(self.settings.models_dir)
        return {role: store.get(name) for role, name in names.items()}

    def _audit(self) -> dict:
        """Run the audit and write the signed report; any failure in it is an AuditError (quarantine)."""
        for name in REPORT_FILES:  # a report left by an interrupted attempt is not this audit's
            (self.work / name).unlink(missing_ok=True)
        try:
            report = self._run_audit()
        except Interrupted:
            raise
        except Exception as error:  # noqa: BLE001 - fail closed on anything
            self._quarantine({"reason": "the audit did not complete", "error": type(error).__name__})
            self.log.append("audit.error", self.run_id, {"error": type(error).__name__})
            detail = f" ({error})" if isinstance(error, AirlockError) else ""
            raise AuditError(f"the audit did not complete{detail}; nothing was released") from None
        self.checkpoint["state"]["verdict"] = report.verdict
        failed = [o.name for o in report.checks if o.status != "passed"]
        self.log.append("audit.verdict", self.run_id, {"verdict": report.verdict, "report_id": report.report_id,
                                                        "not_passed": failed})
        return {"verdict": report.verdict, "checks": len(report.checks), "checks_not_passed": len(failed)}

    def _run_audit(self):
        from audit.canaries import read_canaries
        from audit.gate import run_audit
        from audit.inputs import AuditInputs
        from audit.report import write_report
        from privacy.analyzer import build_analyzer
        from privacy.manifest import read_manifest

        canaries = self.work / "canaries.json"
        inputs = AuditInputs(
            synthetic=list(read_records(self.work / "synthetic.jsonl")),
            train=list(read_records(self.work / "train.jsonl")),
            holdout=list(read_records(self.work / "holdout.jsonl")),
            manifest=read_manifest(self.work / "manifest.jsonl", self.site_key),
            site_key=self.site_key,
            analyzer=build_analyzer(self.policy.privacy),
            privacy_policy=self.policy.privacy,
            models=self._models_for_audit(),
            canaries=read_canaries(canaries) if canaries.is_file() else None,
        )
        report = run_audit(inputs, self.policy.audit, progress=self._stage_progress("audit"))
        signing_key = load_secret("signing", self.settings)
        seq, head = self.log.head_entry()
        keys = {name: key for name, key in self.checkpoint["state"].get("keys", {}).items()}
        report = replace(report, log_head={"seq": seq, "hash": head},
                         keys={**keys, "signing": public_id("signing", signing_key)},
                         generation=self.checkpoint["state"].get("generation"))
        write_report(report, self.work, signing_key)
        return report

    def _release(self) -> dict:
        """The gate: a pass writes the release bundle; anything else writes only report + quarantine."""
        from audit.report import public_key, public_key_pem

        verdict = self.checkpoint["state"].get("verdict")
        self._clear_bundle()
        if verdict != "pass":
            self._quarantine({"reason": "the gate did not pass: see report.html", "verdict": verdict})
            self.log.append("release.quarantined", self.run_id, {"verdict": verdict})
            checkpoint_audit_log(self.settings, self.log)
            return {"released": False}
        for name in ("synthetic.jsonl", *REPORT_FILES):
            shutil.copyfile(self.work / name, self.outdir / name)
        with atomic_output(self.outdir / "signing-key.pub") as out:
            out.write(public_key_pem(public_key(load_secret("signing", self.settings))))
        with atomic_output(self.outdir / "DATASET_CARD.md") as out:
            out.write(self._dataset_card())
        self.log.append("release.published", self.run_id, {"files": sorted(p.name for p in self.outdir.iterdir()
                                                                             if p.is_file())})
        checkpoint_audit_log(self.settings, self.log)
        return {"released": True}

    def _apply_retention(self) -> None:
        """A run that ended in release or quarantine needs its work files no more: delete them (the
        checkpoint stays, so a resumed run knows it is done), unless the policy keeps them."""
        if self.policy.retention.keep_work_files or self.checkpoint["state"].get("work_deleted"):
            return
        deleted = purge_work_files(self.work)
        self.checkpoint["state"]["work_deleted"] = True
        self._save_checkpoint()
        self.log.append("retention.work_deleted", self.run_id, {"files": deleted})

    # -- bundle helpers ----------------------------------------------------------------------------

    def _clear_bundle(self) -> None:
        self.outdir.mkdir(parents=True, exist_ok=True)
        for name in BUNDLE_FILES:
            (self.outdir / name).unlink(missing_ok=True)

    def _quarantine(self, details: dict) -> None:
        """Nothing releasable: drop any bundle file, keep the report (if any) and say why."""
        self._clear_bundle()
        for name in REPORT_FILES:
            if (self.work / name).is_file():
                shutil.copyfile(self.work / name, self.outdir / name)
        with atomic_output(self.outdir / "QUARANTINE.json") as out:
            json.dump({"run_id": self.run_id, "quarantined": True, **details}, out, indent=1)

    def _dataset_card(self) -> str:
        from api.card import dataset_card
        from audit.report import full_fingerprint, public_key

        report = json.loads((self.work / "report.json").read_text(encoding="utf-8"))
        fingerprint = full_fingerprint(public_key(load_secret("signing", self.settings)))
        return dataset_card(self.run_id, self.policy, self.checkpoint, report, fingerprint)

    def _seed(self) -> int:
        return self.options.seed if self.options.seed is not None else self.policy.split.seed


class RecordPseudonyms:
    """Replaces record ids by keyed pseudonyms (HMAC-SHA256 under a key derived from the site key
    for this purpose): the same id gets the same pseudonym within a key generation, and nobody
    without the site key can turn one back or test a guess."""

    def __init__(self, site_key: bytes, id_field: str | None):
        from privacy.fingerprint import derive_key

        self._key = derive_key(site_key, "record-id-pseudonym")
        self.id_field = id_field

    def __call__(self, record_id: str) -> str:
        return "rid-" + hmac.new(self._key, str(record_id).encode("utf-8"), hashlib.sha256).hexdigest()[:20]

    def scrubbed(self, item):  # noqa: ANN001, ANN201 - privacy.scrub.ScrubbedRecord
        """The scrubbed record and its findings under the pseudonym (records without ids keep numbers)."""
        if not self.id_field or item.record.get(self.id_field) is None:
            return item
        item.record[self.id_field] = self(item.record[self.id_field])
        item.findings = [replace(f, record_id=self(f.record_id)) for f in item.findings]
        return item


def purge_work_files(work: Path) -> int:
    """Delete a finished run's work files (all but its checkpoint); returns how many went."""
    deleted = 0
    for path in sorted(work.iterdir()):
        if path.name == "checkpoint.json":
            continue
        if path.is_dir() and not path.is_symlink():
            deleted += sum(1 for p in path.rglob("*") if p.is_file())
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def checkpoint_audit_log(settings: Settings, log: Any):  # noqa: ANN201 - audit.log.Checkpoint
    """Sign the audit log's head with the signing key into the checkpoints file (outside the database)."""
    return log.checkpoint(load_secret("signing", settings), settings.log_checkpoints)


def run_log_checkpoints(settings: Settings, log: Any, stop: threading.Event) -> None:
    """Checkpoint the log every `log_checkpoint_seconds` until `stop` (a thread in the service),
    skipping rounds in which the log did not grow."""
    last = None
    while not stop.wait(settings.log_checkpoint_seconds):
        try:
            head = log.head_entry()
            if head != last:
                checkpoint_audit_log(settings, log)
                last = head
        except Exception:  # noqa: BLE001 - a missed checkpoint is retried next round
            continue


def _fields_of_kind(privacy, kind: str) -> list[str]:  # noqa: ANN001 - PrivacyPolicy
    return [name for name, rule in privacy.fields.items() if rule.kind == kind and "." not in name]


def _public_options(options: PipelineOptions) -> dict:
    # Where the work ran (ray, workers) does not change what a run does: logs read the same either way.
    return {k: v for k, v in asdict(options).items() if k not in ("workdir", "run_id", "ray", "workers")}
