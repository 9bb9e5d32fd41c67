"""The catalogue of benchmarks CAPE knows: canonical names, aliases, default metric, item counts.

Item counts are the sizes of the public test sets; they give the binomial standard error of a score when
a file does not carry one (``stderr = sqrt(p (1 - p) / n)`` in percent).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import UnknownBenchmarkError


@dataclass(frozen=True)
class Benchmark:
    name: str
    short: str
    default_metric: str
    n_items: int
    aliases: tuple[str, ...] = ()
    kind: str = "base"  # "base" (Open LLM Leaderboard v1 era) or "frontier"
    #: Score of random guessing in percent (multiple-choice benchmarks); 0 where free-form answers are graded.
    chance: float = 0.0


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("HellaSwag", "HS", "acc_norm", 10042, ("hellaswag", "hella_swag", "hs"), chance=25.0),
    Benchmark(
        "TruthfulQA",
        "TQA",
        "mc2",
        817,
        ("truthfulqa", "truthful_qa", "truthfulqa_mc", "truthfulqa_mc2", "truthfulqa_mc1", "tqa",
         "truthfulqa:mc", "truthfulqa_mc2_score"),
    ),
    Benchmark("ARC-Challenge", "ARC", "acc_norm", 1172,
              ("arc", "arc_challenge", "arc-c", "arc_c", "arc:challenge", "ai2_arc"), chance=25.0),
    Benchmark("WinoGrande", "WG", "acc", 1267, ("winogrande", "wg", "wino_grande"), chance=50.0),
    Benchmark("MMLU", "MMLU", "acc", 14042, ("mmlu", "hendrycks_test", "hendryckstest"), chance=25.0),
    Benchmark("GSM8K", "GSM8K", "exact_match", 1319, ("gsm8k", "gsm_8k")),
    Benchmark("SWE-bench Verified", "SWE", "resolved", 500,
              ("swe", "swe_bench", "swe-bench", "swe_bench_verified", "swe-bench-verified", "swebench",
               "swebench_verified"), kind="frontier"),
    Benchmark("GPQA Diamond", "GPQA", "acc", 198,
              ("gpqa_diamond", "gpqa-diamond", "leaderboard_gpqa_diamond"), kind="frontier", chance=25.0),
    Benchmark("IFEval", "IFEval", "prompt_level_strict_acc", 541, ("ifeval", "if_eval", "leaderboard_ifeval"),
              kind="frontier"),
    Benchmark("HLE", "HLE", "acc", 2500, ("hle", "humanity's last exam", "humanities_last_exam"), kind="frontier"),
    Benchmark("BBH", "BBH", "acc_norm", 6511, ("bbh", "big_bench_hard", "leaderboard_bbh")),
    Benchmark("MMLU-Pro", "MMLU-Pro", "acc", 12032, ("mmlu_pro", "mmlu-pro", "leaderboard_mmlu_pro")),
    Benchmark("MATH Lvl 5", "MATH5", "exact_match", 1324, ("math_lvl_5", "math lvl 5", "leaderboard_math_hard",
                                                           "math_hard")),
    Benchmark("MuSR", "MuSR", "acc_norm", 756, ("musr", "leaderboard_musr")),
)

_BY_KEY: dict[str, Benchmark] = {}


def _key(name: str) -> str:
    return re.sub(r"[\s_\-:]+", "", name.strip().lower())


for _b in BENCHMARKS:
    for _alias in (_b.name, _b.short, *_b.aliases):
        _BY_KEY[_key(_alias)] = _b

#: Short symbol -> canonical name, e.g. ``"HS" -> "HellaSwag"``.
SHORT = {b.short: b.name for b in BENCHMARKS}
#: The five base benchmarks of the paper's cohort, in its order.
BASE_FIVE = ("HellaSwag", "TruthfulQA", "ARC-Challenge", "WinoGrande", "MMLU")


def lookup(name: str) -> Benchmark | None:
    """Return the :class:`Benchmark` for a name or alias, or ``None``."""
    return _BY_KEY.get(_key(str(name)))


def canonical(name: str, *, where: str = "") -> str:
    """Canonical benchmark name for ``name`` (an alias, a short symbol or the name itself).

    Raises :class:`UnknownBenchmarkError` naming the closest known names.
    """
    b = lookup(name)
    if b is None:
        import difflib

        close = difflib.get_close_matches(_key(str(name)), list(_BY_KEY), n=3, cutoff=0.6)
        names = sorted({_BY_KEY[c].name for c in close})
        hint = f"; did you mean {', '.join(names)}?" if names else f"; known: {', '.join(b.name for b in BENCHMARKS)}"
        loc = f"{where}: " if where else ""
        raise UnknownBenchmarkError(f"{loc}unknown benchmark {name!r}{hint}")
    return b.name


#: Benchmarks CAPE does not analyse but that score tables often carry beside the ones it does, by normalised
#: column name. A column named for one of them is dropped as such and never mapped to a look-alike
#: (``XWinograd`` is not WinoGrande; a pooled ``GPQA`` column is not GPQA Diamond).
OTHER_BENCHMARKS: dict[str, str] = {
    "xwinograd": "XWinograd (multilingual Winograd schemas)",
    "winograd": "Winograd (WSC schemas, not WinoGrande)",
    "wsc": "WSC", "wsc273": "WSC273",
    "gpqa": "GPQA pooling the main, extended and diamond sets (not GPQA Diamond)",
    "leaderboardgpqa": "GPQA pooling the main, extended and diamond sets (not GPQA Diamond)",
    "gpqaraw": "GPQA pooling the main, extended and diamond sets (not GPQA Diamond)",
    "humaneval": "HumanEval", "mbpp": "MBPP", "mtbench": "MT-Bench", "arenaelo": "Chatbot Arena Elo",
    "piqa": "PIQA", "boolq": "BoolQ", "arceasy": "ARC-Easy", "arce": "ARC-Easy", "lambada": "LAMBADA",
    "lambadaopenai": "LAMBADA", "sciq": "SciQ", "openbookqa": "OpenBookQA", "siqa": "Social IQa", "copa": "COPA",
    "race": "RACE", "triviaqa": "TriviaQA", "naturalquestions": "Natural Questions", "drop": "DROP",
    "math": "MATH (all levels, not MATH Lvl 5)", "logiqa": "LogiQA", "xnli": "XNLI", "xstorycloze": "XStoryCloze",
}


def other_benchmark(name: str) -> str | None:
    """What a column names when it is a benchmark CAPE does not analyse (see :data:`OTHER_BENCHMARKS`)."""
    k = re.sub(r"[^a-z0-9]", "", str(name).lower())
    for suffix in ("", "acc", "accnorm", "raw", "score", "pct"):
        if suffix and k.endswith(suffix) and k[:-len(suffix)] in OTHER_BENCHMARKS:
            return OTHER_BENCHMARKS[k[:-len(suffix)]]
        if not suffix and k in OTHER_BENCHMARKS:
            return OTHER_BENCHMARKS[k]
    return None


def is_known(name: str) -> bool:
    return lookup(name) is not None


def info(name: str) -> Benchmark:
    return _BY_KEY[_key(canonical(name))]


def binomial_stderr(score_pct: float, benchmark: str) -> float:
    """Binomial standard error (percent points) of a score on ``benchmark`` from its item count."""
    p = min(max(score_pct / 100.0, 0.0), 1.0)
    return 100.0 * math.sqrt(p * (1.0 - p) / info(benchmark).n_items)
