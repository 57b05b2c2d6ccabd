"""The processes a test or bench run starts beside the app: a redis-server of its own, `rq` worker and cron
processes configured like production (environment only). The Google emulator is started with
`google_emulator.testing.EmulatorServer`.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from app.queues import worker_queue_names
from testsupport.helpers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent

# Config keys a separate worker or cron process needs to act as the app that started it. config.py reads each
# from the environment variable of the same name, except the database URL (DATABASE_URL).
PROCESS_KEYS = ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "REDIS_NAMESPACE", "GOOGLE_API_BASE_URL",
                "GOOGLE_OPENID_CONFIGURATION_URL", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET",
                "TOKEN_ENCRYPTION_KEY", "SECRET_KEY", "WEBHOOK_BASE_URL", "PORTAL_BASE_URL", "MAIL_SERVER",
                "MAIL_PORT")


def process_env(config: Mapping, extra_keys: Iterable[str] = ()) -> dict[str, str]:
    """The environment a separate worker or cron process needs to act as this app (as in production): the
    PROCESS_KEYS and `extra_keys` that `config` holds."""
    keys = [key for key in (*PROCESS_KEYS, *extra_keys) if key in config]
    return {**os.environ, "PORTAL_ENV": "development", "PYTHONPATH": str(ROOT),
            **{("DATABASE_URL" if key == "SQLALCHEMY_DATABASE_URI" else key): str(config[key]) for key in keys}}


def rq_worker_command(config: Mapping, *options: str, worker_class: str = "jobs.worker.SyncWorker") -> list[str]:
    """`rq worker` of our worker class (it runs each job in the app's context) on the app's queues in priority
    order (as production lists them), `options` before them. The benches run `jobs.worker.SyncSimpleWorker`."""
    return [sys.executable, "-m", "rq.cli", "worker", "--url", config["REDIS_URL"], "--worker-class", worker_class,
            *options, *worker_queue_names(config["REDIS_NAMESPACE"])]


def rq_cron_command(config: Mapping) -> list[str]:
    return [sys.executable, "-m", "rq.cli", "cron", "jobs.cron_config", "--url", config["REDIS_URL"]]


def start_logged(command: list[str], env: Mapping[str, str], log_path: Path) -> subprocess.Popen:
    """`command` run from the repository root, its output appended to `log_path`."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


class RedisServer:
    """A redis-server of our own in `directory`, on a free port; restartable on the same port. With
    `appendonly`, every write is on disk before it is acknowledged, so a killed server loses nothing."""

    def __init__(self, directory: Path, appendonly: bool = False):
        self.dir, self.port, self.appendonly = directory, free_port(), appendonly
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/ensure-system.sh redis)"
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.appendonly else ["--appendonly", "no"]
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", *persistence,
                                      "--save", "", "--dir", str(self.dir)], stdout=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
