"""What reading the prompt costs in an inspection worker, beside what the same text costs as a screenshot.

    python -m bench.prompt_speed [--rounds 15]

Prints p50/max of Inspector.inspect_prompt for one short prompt and for a 20-message conversation (what an API
client re-sends on turn 20; the gateway's report cache then reads only the newest message), and p50 of
Inspector.inspect on a PNG of the short prompt's text, measured in the same run: the ratio says how much cheaper
text-only requests are than any image (no OCR).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from gateway.inspection import Inspector
from tests.support.images import text_image

SHORT = ("Can you summarise the attached chart in three bullet points and suggest a title? Please write to "
         "jane.doe@corpmail.com afterwards.")
CONVERSATION = [f"Message {i}: the quarterly roadmap has three themes, onboarding, billing and search; what should "
                f"we ship first in March {i}?" for i in range(20)]


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    inspector = Inspector()
    shot = text_image([SHORT[:64], SHORT[64:]], size=(1100, 160), font_size=24)
    rows = [
        ("prompt, 1 message (130 chars)", timed(lambda: inspector.inspect_prompt([SHORT]), rounds)),
        ("prompt, 20 messages (2.4k chars)", timed(lambda: inspector.inspect_prompt(CONVERSATION), rounds)),
        ("baseline: the 130 chars as a PNG", timed(lambda: inspector.inspect(shot), rounds)),
    ]
    base = statistics.median(rows[-1][1])
    print(f"{'case':36} {'p50 ms':>8} {'max ms':>8} {'p50 / baseline':>15}")
    for name, times in rows:
        p50 = statistics.median(times)
        print(f"{name:36} {p50 * 1000:8.1f} {max(times) * 1000:8.1f} {p50 / base:15.3f}")


if __name__ == "__main__":
    main()
