import logging

from django.core.management.base import BaseCommand, CommandError

from config.housekeeping import JOBS, Housekeeping
from config.reconnect import ReconnectingCommand, run_every

logger = logging.getLogger("kapchyk.housekeeping")


class Command(ReconnectingCommand, BaseCommand):
    help = (
        "The housekeeping loop beside the task worker: the payments sweep and the overdue "
        "flag every round, the ledger fold, the ledger check (/healthz/ledger), expired web "
        "and USSD sessions purged, each at its own interval (HOUSEKEEPING_* settings). "
        "Survives database outages (reconnects with backoff). --once: one round, then exit."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=float, default=15.0, help="seconds between rounds (default 15)"
        )
        parser.add_argument("--once", action="store_true", help="run every job once and exit")

    def long_running(self, options) -> bool:
        return not options.get("once")

    def handle(self, *args, every, once, **options):
        if every <= 0:
            raise CommandError("--every must be > 0")
        schedule = Housekeeping(every=every)

        def round_():
            done = schedule.run_due()
            quiet = {"payments_sweep": "0 attempted", "payments_overdue": "0 flagged"}
            said = {k: v for k, v in done.items() if quiet.get(k) != v}
            if said:
                logger.info("housekeeping: %s", "; ".join(f"{k} {v}" for k, v in said.items()))
            return done

        if once:
            done = round_()
            for job in JOBS:
                self.stdout.write(f"{job.name}: {done.get(job.name, '-')}")
            return
        logger.info("housekeeping every %g s: %s", every, ", ".join(j.name for j in JOBS))
        try:
            run_every(round_, every=every, what="housekeeping")
        except KeyboardInterrupt:
            return
