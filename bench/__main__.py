"""Every bench case with its default figures: `.venv/bin/python -m bench` (about 27 minutes on 2 cores).

`--quick` runs the same cases at small sizes (a few minutes), to check that everything works.
"""
from __future__ import annotations

import argparse

from bench import busy, fair, fleet, memory, pages, planner, pull, push, quota, steady

FULL = {
    push: ["--n", "1000", "10000", "--latency", "20", "--per-event"],
    pull: ["--n", "10000", "--changes", "10", "--latency", "20"],
    steady: ["--n", "1000", "--edits", "100", "--latency", "20", "--spacing", "10"],
    pages: ["--clients", "50", "--seconds", "10", "--workers", "3"],
    memory: ["--n", "100000"],
    quota: ["--n", "3000", "9000", "--per-user-quota", "6000"],  # 9,000 fills the sliding window
    fleet: ["--connections", "1000", "--hours", "24"],
    planner: ["--connections", "100000"],
    fair: ["--users", "50", "--items", "1000"],
    busy: ["--latency", "20", "--repeat", "5"],
}
QUICK = {
    push: ["--n", "300", "--per-event"],
    pull: ["--n", "1000"],
    steady: ["--n", "300"],
    pages: ["--clients", "10", "--seconds", "2"],
    memory: ["--n", "5000"],
    quota: ["--n", "300", "--per-user-quota", "600"],
    fleet: ["--connections", "100", "--hours", "6", "--seconds", "10", "--bulk-items", "2000", "--live", "3"],
    planner: ["--connections", "5000"],
    # Edits stay within the bulk reserve (5 % of 1,200 a minute) as the full case's do (120 of 500 a minute).
    fair: ["--users", "6", "--items", "300", "--quota-per-project", "1200", "--live", "2", "--workers", "2",
           "--edit-every", "2"],
    busy: ["--latency", "20"],
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the scripts work")
    args = parser.parse_args(argv)
    for module, case_args in (QUICK if args.quick else FULL).items():
        module.main(case_args)


if __name__ == "__main__":
    main()
