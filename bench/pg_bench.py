"""bench/ledger_bench.py on a throwaway PostgreSQL cluster (fsync on, synchronous_commit=on),
started here the way the tests start theirs and removed afterwards.

    python bench/pg_bench.py [ledger_bench.py options, e.g. --ops 50000]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.pgcluster import Cluster  # noqa: E402

if __name__ == "__main__":
    with Cluster(fsync=True) as cluster:
        sys.exit(subprocess.call([sys.executable, str(ROOT / "bench" / "ledger_bench.py"), "--db",
                                  cluster.url, *sys.argv[1:]]))
