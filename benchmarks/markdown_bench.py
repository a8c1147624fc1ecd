"""Benchmark both Markdown readers on hostile texts: the tracker page's HTML and JIRA's ADF.

    python benchmarks/markdown_bench.py [--sizes 10000,50000,200000] [--repeat 3]

For each text of tests/markdown_inputs.py (units known to slow regex Markdown
readers, repeated to the size), prints the best of `repeat` runs of
render_markdown and markdown_to_adf. Sizes up to MARKDOWN_MAX_CHARS are read as
Markdown; larger ones are shown and sent as plain text. Time per character that
stays flat from size to size is what linear means.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.core.markdown import MARKDOWN_MAX_CHARS  # noqa: E402
from portal.core.providers.adf import markdown_to_adf  # noqa: E402
from portal.tracker.safe_markdown import render_markdown  # noqa: E402
from tests.markdown_inputs import ADVERSARIAL, adversarial  # noqa: E402


def best_of(repeat: int, work, text: str) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work(text)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=f"10000,{MARKDOWN_MAX_CHARS},200000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"Markdown read up to {MARKDOWN_MAX_CHARS:,} characters; larger texts are plain text.")
    header = "".join(f"{f'page {size:,}':>14}{f'adf {size:,}':>14}" for size in sizes)
    print(f"{'text':<24}{header}")
    worst: dict[int, float] = dict.fromkeys(sizes, 0.0)
    for name, unit in ADVERSARIAL.items():
        cells = []
        for size in sizes:
            text = adversarial(unit, size)
            page = best_of(args.repeat, render_markdown, text)
            adf = best_of(args.repeat, markdown_to_adf, text)
            worst[size] = max(worst[size], page, adf)
            cells.append(f"{page * 1000:>12.0f}ms{adf * 1000:>12.0f}ms")
        print(f"{name:<24}{''.join(cells)}", flush=True)
    print("worst: " + ", ".join(f"{size:,} chars {seconds:.2f} s" for size, seconds in worst.items()))


if __name__ == "__main__":
    main()
