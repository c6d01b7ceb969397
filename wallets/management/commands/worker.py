"""`manage.py worker`: django-tasks-db's `db_worker`, which outlives a database outage.

db_worker exits on the first database error (a 6 s outage is enough). This command runs
the same worker with the same options and, when a database error escapes its loop, closes
the connections, logs a WARNING and starts the loop again after a capped exponential
backoff. A task that was running when the database went away cannot be marked finished;
what it did is idempotent (payments are claimed and keyed, and `housekeeping` sweeps the
ones left pending).
"""

import os
import time

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from config.reconnect import FAILED, Backoff, ReconnectingCommand, attempt

HEALTHY_RUN = 60.0  # seconds of a loop without a database error that reset the backoff


class ResilientWorker(Worker):
    def run(self) -> None:
        backoff = Backoff()
        while self.running:
            started = time.monotonic()
            if attempt(super().run, what=f"worker {self.worker_id}", backoff=backoff) is FAILED:
                if time.monotonic() - started > HEALTHY_RUN:
                    backoff.failures = 1  # a new outage, not the same one going on
                self.startup_delay = False  # back at once when the database is
                continue
            return  # --batch, --max-tasks or a shutdown: as db_worker


class Command(ReconnectingCommand, DbWorkerCommand):
    help = (
        "Run the database task worker (django-tasks-db's db_worker, the same options) "
        "that reconnects with backoff after a database outage instead of exiting."
    )

    def long_running(self, options) -> bool:
        return not options.get("batch")

    def handle(
        self,
        *,
        verbosity,
        queue_name,
        interval,
        batch,
        backend_name,
        startup_delay,
        reload,
        max_tasks,
        worker_id,
        exclude_queues,
        **options,
    ):
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the reloaded child
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
