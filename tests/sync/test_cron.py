"""The periodic jobs are one declarative list that `rq cron` loads onto the namespace's sync queue."""
from rq.cron import CronScheduler

from app.queues import get_redis, queue_name


def test_cron_config_registers_recovery_the_safety_net_and_channel_renewal(app, monkeypatch):
    monkeypatch.setenv("REDIS_NAMESPACE", app.config["REDIS_NAMESPACE"])
    scheduler = CronScheduler(connection=get_redis())
    scheduler.load_config_from_file("jobs.cron_config")
    jobs = {job.func_name: job for job in scheduler.get_jobs()}
    assert {name: job.interval for name, job in jobs.items()} == {
        "jobs.sync.recover_runs": 15, "jobs.sync.pull_all_connections": 300, "jobs.sync.renew_watch_channels": 3600}
    assert {job.queue_name for job in jobs.values()} == {queue_name("sync")}
