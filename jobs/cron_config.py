"""Periodic jobs, ONE declarative list, run by `rq cron jobs.cron_config` (one per machine is safe:
every periodic job is idempotent, coalesced or takes the connection's lock). Each is a cheap sweep that
runs on the interactive queue, so it is never late behind bulk work; what it finds to do fans out as
one job per connection (`jobs.periodic`)."""
import os

from rq import cron

from jobs.mail import DIGEST_CRON, NOTICES_SECONDS, send_digests, send_notices
from jobs.periodic import SWEEP_SECONDS, sweep_connections
from jobs.sync import recover_runs

QUEUE = f"{os.environ.get('REDIS_NAMESPACE') or 'pcs'}-interactive"  # app.queues.INTERACTIVE for the namespace

cron.register(recover_runs, queue_name=QUEUE, interval=15)  # dead workers' runs, lost jobs, missed pushes
cron.register(sweep_connections, queue_name=QUEUE, interval=SWEEP_SECONDS)  # safety-net polls and channel renewals
cron.register(send_notices, queue_name=QUEUE, interval=NOTICES_SECONDS)  # one mail per incident, and reminders
cron.register(send_digests, queue_name=QUEUE, cron=DIGEST_CRON)  # admins' daily summary, when something changed
