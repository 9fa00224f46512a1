"""How many held-out questions does the tune gate need before "better than base" means anything?

    .venv/bin/python benchmarks/bench_gate_questions.py [--out FILE]  # default: summaries/gate_questions.json

The gate calls a tuned model better when the whole 95 % paired bootstrap interval of tuned - base lies above
zero (`localrag.tune.gate.from_difference`). A percentile bootstrap is only as good as the sample it
resamples: with one question the interval is a point, and any question the tuned model answered better
"proves" it better. This measures how often the gate says "better" when neither model is better, at each
number of questions.

The per-question differences are real ones: token F1 of two answerers of the same 200 COVID-QA questions
(the bundled model's answer and the best source sentence, `bench_extract.py`'s records in
benchmarks/summaries/extract_vs_generate_idf.json), so they have the shape gate differences have (many
ties at zero, a long tail). Under "neither is better" each question's difference is as likely to have
either sign, so a trial draws N of them at random, flips each sign at random, and asks the gate's own rule.
A rule that keeps its word says "better" in at most 2.5 % of trials. `rate` is how often the interval alone
lay above zero (what the gate said before it asked for `MIN_QUESTIONS`); `gate_rate`, how often the gate as it
is says "better", the floor included.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_answer_repeats import covid_items  # noqa: E402

SIZES = (1, 2, 3, 5, 8, 10, 15, 20, 30, 50, 100)
TRIALS = 2000
RECORDS = Path(__file__).resolve().parent / "summaries" / "extract_vs_generate_idf.json"


def differences() -> list[float]:
    from localrag.evaluate.metrics import token_f1

    gold = dict(covid_items(200))
    records = json.loads(RECORDS.read_text())["records"]
    return [token_f1(r["extract"]["text"], gold[r["question"]]) - token_f1(r["generate"]["text"], gold[r["question"]])
            for r in records]


def main() -> None:
    from localrag.tune.gate import verdict

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="where the summary goes (to reproduce it without replacing it)",
                        default=Path(__file__).resolve().parent / "summaries" / "gate_questions.json")
    args = parser.parse_args()
    diffs = differences()
    rng = random.Random(0)
    rows = []
    for n in SIZES:
        above = better = 0
        for trial in range(TRIALS):
            drawn = [d * rng.choice((-1, 1)) for d in rng.sample(diffs, n)]
            result = verdict([0.0] * n, drawn, metric="f1", seed=trial)
            above += result.low is not None and result.low > 0
            better += result.verdict == "better"
        rows.append({"questions": n, "trials": TRIALS, "said_better": above, "rate": round(above / TRIALS, 4),
                     "gate_said_better": better, "gate_rate": round(better / TRIALS, 4)})
        print(f"{n:>4} questions: interval above zero in {100 * above / TRIALS:5.1f} % of {TRIALS} trials, "
              f"the gate says 'better' in {100 * better / TRIALS:5.1f} %", flush=True)
    summary = {"command": " ".join(sys.argv), "differences": len(diffs),
               "zero_differences": sum(1 for d in diffs if d == 0), "rows": rows,
               "load_average": os.getloadavg()}
    args.out.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
