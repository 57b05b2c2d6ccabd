"""The periodic jobs are one declarative list that `rq cron` loads onto the namespace's interactive queue."""
from rq.cron import CronScheduler

from app.queues import INTERACTIVE, get_redis, queue_name


def test_cron_config_registers_recovery_the_sweep_and_the_mail(app, monkeypatch):
    monkeypatch.setenv("REDIS_NAMESPACE", app.config["REDIS_NAMESPACE"])
    scheduler = CronScheduler(connection=get_redis())
    scheduler.load_config_from_file("jobs.cron_config")
    jobs = {job.func_name: job for job in scheduler.get_jobs()}
    assert {name: job.interval or job.cron for name, job in jobs.items()} == {
        "jobs.sync.recover_runs": 15, "jobs.periodic.sweep_connections": 300, "jobs.mail.send_notices": 30,
        "jobs.mail.send_digests": "0 7 * * *"}
    assert {job.queue_name for job in jobs.values()} == {queue_name(INTERACTIVE)}
