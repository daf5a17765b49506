"""The worker: claims jobs from the job table, runs each in a child process, heartbeats its lease.

Several workers (threads, processes, machines) may share one database. A job whose worker dies is
claimed again once its lease expires and resumes after its last completed stage (the pipeline's
checkpoint in the job's work directory); after `max_attempts` claims it fails cleanly instead.

Native code (llama.cpp, torch, spaCy) runs only in the job's child process, never in the worker or
the HTTP server that hosts it: a segfault, abort or out-of-memory kill there becomes a failed job
with a clear error and an audit-log entry, the release withheld, and the worker goes on to the next
job. A failed job that had finished its scrub can be retried (`POST /v1/jobs/{id}/retry`).

Where the job's policy says `execution: {engine: ray}`, its scrub stage detects on Ray actors (the
pipeline's one wiring, as for `airlock run --ray`): the job's process is then the Ray driver. It still
writes every record, the manifest and the audit log itself, in order, so progress, leases and
checkpoints are the same; actors it started die with it (a killed worker, a stopped one), and the next
claim resumes after the last completed stage as without Ray.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import socket
import threading
import time
import uuid

from sqlalchemy.engine import Engine

from api import jobs
from audit.log import AuditLog
from api.errors import problem
from api.execution import placement
from api.logs import configure_logging, get_logger
from api.pipeline import PipelineOptions, run_pipeline
from api.policy import resolve_policy
from api.secrets import check_key_files, load_keyring
from api.settings import Settings
from api.uploads import EncryptedUpload
from privacy.detections import exit_with_parent
from privacy.errors import AirlockError
from synth.smoke import ChildOutcome

PID_FILE = "runner.pid"  # the job's child process, while it runs (an operator's `kill` target)


class Worker:
    def __init__(self, settings: Settings, engine: Engine, worker_id: str | None = None):
        self.settings, self.engine = settings, engine
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.log = AuditLog(engine)
        self.logger = get_logger("airlock.worker").bind(worker=self.worker_id)

    def run(self, stop: threading.Event) -> None:
        """Process jobs until `stop` is set, polling the queue when it is empty."""
        check_key_files(self.settings)  # refuse group/other-readable or malformed key files up front
        self.logger.info("worker_started")
        while not stop.is_set():
            try:
                worked = self.run_once(stop)
            except Exception as error:  # noqa: BLE001 - a broken job or database hiccup must not kill the loop
                self.logger.error("worker_error", error_type=type(error).__name__)
                worked = False
            if not worked:
                stop.wait(self.settings.poll_seconds)
        self.logger.info("worker_stopped")

    def run_once(self, stop: threading.Event | None = None) -> bool:
        """Claim and process one job in a child process; False when the queue had none."""
        job = jobs.claim(self.engine, self.worker_id, self.settings.lease_seconds)
        if job is None:
            return False
        logger = self.logger.bind(job_id=job.id, attempt=job.attempts)
        if job.attempts > self.settings.max_attempts:
            error = {"type": "about:blank", "title": "Job failed", "status": 500,
                     "detail": f"the job stopped its worker {job.attempts - 1} times; it was not released"}
            jobs.fail_exhausted(self.engine, job.id, self.worker_id, error)
            jobs.job_dir(self.settings.jobs_dir, job.id).joinpath("upload.enc").unlink(missing_ok=True)
            self.log.append("job.failed", job.id, {"reason": "attempts exhausted", "attempts": job.attempts - 1})
            logger.warning("job_exhausted")
            return True
        self.log.append("job.claimed", job.id, {"worker": self.worker_id, "attempt": job.attempts,
                                                "resume_after": job.completed_stages[-1] if job.completed_stages else None})
        logger.info("job_claimed", resume_after=job.completed_stages[-1] if job.completed_stages else None)
        beating = threading.Event()
        heart = threading.Thread(target=self._heartbeat, args=(job.id, beating), daemon=True)
        heart.start()
        try:
            outcome = self._run_child(job, stop or threading.Event())
            if outcome is not None and outcome.returncode != 0:
                self._fail_crashed(job, outcome, logger)
        finally:
            beating.set()
            heart.join()
        return True

    def _run_child(self, job, stop: threading.Event) -> ChildOutcome | None:  # noqa: ANN001
        """Run the job in a fresh process; None when the worker is stopping and left it to a successor."""
        child = multiprocessing.get_context("spawn").Process(
            target=run_job, args=(self.settings, job.id, self.worker_id, os.getpid()), name=f"airlock-job-{job.id[:8]}")
        child.start()
        pid_file = jobs.job_dir(self.settings.jobs_dir, job.id) / PID_FILE
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(f"{child.pid}\n")
        try:
            while child.exitcode is None:
                child.join(timeout=0.5)
                if stop.is_set() and child.exitcode is None:
                    # Shutting down mid-job: the lease runs out and the next worker resumes the job.
                    child.terminate()
                    child.join()
                    return None
        finally:
            pid_file.unlink(missing_ok=True)
        return ChildOutcome(child.exitcode, "", "")

    def _fail_crashed(self, job, outcome: ChildOutcome, logger) -> None:  # noqa: ANN001
        """The job's process died: fail the job (if still ours), withhold any release, log why."""
        try:
            current = jobs.get(self.engine, job.id)
        except jobs.JobNotFound:
            return
        if current.state != jobs.RUNNING or current.lease_owner != self.worker_id:
            return
        how = outcome.signal_name or f"exit status {outcome.returncode}"
        stage = current.stage or "start-up"
        after = ("the job can be retried" if "scrub" in current.completed_stages
                 else "its upload was destroyed: submit the data again")
        doc = {"type": "about:blank", "title": "Engine crashed", "status": 500,
               "detail": f"the job's process crashed ({how}) during {stage}; nothing was released. "
                         f"Run `airlock doctor` to check the engine; {after}."}
        folder = jobs.job_dir(self.settings.jobs_dir, job.id)
        (folder / "upload.enc").unlink(missing_ok=True)
        (folder / jobs.BUNDLE / "synthetic.jsonl").unlink(missing_ok=True)
        jobs.finish(self.engine, current, self.worker_id, jobs.FAILED, error=doc)
        self.log.append("job.failed", job.id, {"reason": "process crashed", "signal": outcome.signal_name,
                                               "exit_status": outcome.returncode, "stage": stage})
        logger.error("job_process_crashed", how=how, stage=stage)

    def _heartbeat(self, job_id: str, stop: threading.Event) -> None:
        while not stop.wait(self.settings.lease_seconds / 3):
            try:
                jobs.heartbeat(self.engine, job_id, self.worker_id, self.settings.lease_seconds)
            except jobs.LeaseLost:
                return
            except Exception:  # noqa: BLE001 - a missed beat is retried; the lease has slack
                continue

    def process(self, job, logger) -> None:  # noqa: ANN001
        """Run the pipeline on a claimed job and record how it ended (inside the job's process)."""
        folder = jobs.job_dir(self.settings.jobs_dir, job.id)
        # The whole ring: an upload queued before a vault-key rotation still opens after it.
        source = EncryptedUpload(folder / "upload.enc", job.id, job.wrapped_key or b"",
                                 load_keyring("vault", self.settings).materials(), job.input_format)

        last = {"stage": None, "percent": -1.0, "at": 0.0}

        def progress(stage: str, percent: float) -> None:
            # One row update per stage change, whole percent or second — not one per record.
            at = time.monotonic()
            if stage != last["stage"] or percent - last["percent"] >= 1 or at - last["at"] >= 1:
                jobs.report_progress(self.engine, job.id, self.worker_id, stage, percent)
                last.update(stage=stage, percent=percent, at=at)

        def stage_done(stage: str, seconds: float, counts: dict) -> None:
            jobs.stage_done(self.engine, job, self.worker_id, stage, seconds, counts)
            if stage == "scrub":
                source.discard()
                jobs.drop_upload_key(self.engine, job.id, self.worker_id)
            logger.info("stage_done", stage=stage, seconds=round(seconds, 3))

        options = PipelineOptions(**job.options, run_id=job.id, workdir=folder / "work")
        try:
            policy = resolve_policy(job.policy_name, self.settings.data_dir, self.settings.policy)
            logger.info("job_placed", **placement(policy.execution, site_address=self.settings.ray_address)._asdict())
            result = run_pipeline(source, folder / jobs.BUNDLE, policy, self.settings, options, progress,
                                  audit_log=self.log, on_stage_done=stage_done)
        except jobs.LeaseLost:
            raise
        except AirlockError as error:
            source.discard()
            jobs.finish(self.engine, job, self.worker_id, jobs.FAILED, error=problem(error))
            self.log.append("job.failed", job.id, {"error": type(error).__name__})
            logger.warning("job_failed", error_type=type(error).__name__)
            return
        except Exception as error:  # noqa: BLE001 - unexpected: fail the job, never release, never echo
            doc = {"type": "about:blank", "title": "Internal error", "status": 500,
                   "detail": f"the job failed unexpectedly ({type(error).__name__}); nothing was released"}
            source.discard()
            jobs.finish(self.engine, job, self.worker_id, jobs.FAILED, error=doc)
            self.log.append("job.failed", job.id, {"error": type(error).__name__})
            logger.error("job_crashed", error_type=type(error).__name__)
            return
        if result.verdict == "pass":
            state = jobs.AWAITING_REVIEW if job.review_required else jobs.PASSED
        else:
            state = jobs.QUARANTINED
        jobs.finish(self.engine, job, self.worker_id, state, verdict=result.verdict)
        self.log.append("job.finished", job.id, {"state": state, "verdict": result.verdict})
        logger.info("job_finished", state=state, verdict=result.verdict)


def run_job(settings: Settings, job_id: str, worker_id: str, parent_pid: int) -> None:
    """The job's child process: its own database connection, the pipeline, no core dump.

    A core file would hold records in memory (raw ones during the scrub), so none is written.
    """
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # A worker killed even with SIGKILL takes its job process along, so the job is resumed by the
    # next worker alone, never by two processes writing the same work folder.
    exit_with_parent(parent_pid)
    from api.db import open_database

    configure_logging(settings.log_level, settings.log_file)
    engine = open_database(settings.effective_database_url)
    worker = Worker(settings, engine, worker_id)
    job = jobs.get(engine, job_id)
    logger = worker.logger.bind(job_id=job_id, attempt=job.attempts, pid=os.getpid())
    try:
        worker.process(job, logger)
    except jobs.LeaseLost:
        logger.warning("lease_lost")
    finally:
        engine.dispose()


