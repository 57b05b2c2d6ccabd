"""Periodic jobs, ONE declarative list, run by `rq cron jobs.cron_config`."""
from rq import cron

from jobs.sync import pull_all_connections, renew_watch_channels

QUEUE = "pcs-sync"

cron.register(pull_all_connections, queue_name=QUEUE, interval=300)  # safety-net pull every 5 minutes
cron.register(renew_watch_channels, queue_name=QUEUE, interval=3600)
