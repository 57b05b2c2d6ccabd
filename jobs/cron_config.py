"""Periodic jobs, ONE declarative list, run by `rq cron jobs.cron_config` (one per machine is safe:
every periodic job is idempotent, coalesced or takes the connection's lock)."""
import os

from rq import cron

from jobs.sync import pull_all_connections, recover_runs, renew_watch_channels

QUEUE = f"{os.environ.get('REDIS_NAMESPACE') or 'pcs'}-sync"  # the queue app.queues names for the namespace

cron.register(recover_runs, queue_name=QUEUE, interval=15)  # dead workers' runs, lost jobs, missed pushes
cron.register(pull_all_connections, queue_name=QUEUE, interval=300)  # safety net: pull, and push what waits
cron.register(renew_watch_channels, queue_name=QUEUE, interval=3600)  # channels live 7 days; renew within 12 h
