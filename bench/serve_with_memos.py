"""`streamlit run` in a process whose cubes are restored first (a server that precomputed them).

    python bench/serve_with_memos.py MEMOS.pickle -- <the arguments of `streamlit run`>

The dashboard is then served exactly as `python -m streamlit run` serves it, but
every memoized cube in MEMOS (see memo_transfer) is already in memory, keyed for
DATABASE_URL: the state a server would reach by computing the protected cubes at
start-up. Used by bench/national.py for the warm browser figures, because a cold
Compare page at national scale takes minutes per server.
"""

import os
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

import memo_transfer  # noqa: E402
from streamlit.web import cli  # noqa: E402

if __name__ == "__main__":
    memos, separator, *streamlit_args = sys.argv[1:]
    if separator != "--":
        raise SystemExit(__doc__)
    restored = memo_transfer.restore(Path(memos), os.environ["DATABASE_URL"])
    print(f"{restored} cubes restored from {memos}", flush=True)
    sys.argv = ["streamlit", *streamlit_args]
    sys.exit(cli.main())
