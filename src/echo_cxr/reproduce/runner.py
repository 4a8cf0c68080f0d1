"""Runs the reproduction stage by stage; a finished stage is skipped, an interrupted training run
is resumed, and every command and its wall-clock time are logged in the work folder."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from echo_cxr.errors import EchoError
from echo_cxr.phantom.config import DEFAULT_LATERAL_PROB
from echo_cxr.reproduce.plan import CONFIG_DIR, RUNS, VARIANT_GROUPS, VARIANTS, VISION_MORE, Profile, Run, Variant

TIMINGS = "timings.json"
TEST, SECOND_TEST = "test", "test2"
SECOND_TEST_DIR = "data_test2"
VISION_EXTRA_DIR = "data_vision_extra"  # fresh training studies for the second part of stage 0
VISION_EXTRA_SEED_OFFSET = 100  # their seed: the profile's plus this
PROBE_LABEL, PROBE_SLUG = "Stage-0 tower (probe)", "stage0_probe"
COMMANDS = "commands.log"
DATA_ONLY = "data"  # `--until data`: make the data only
SCORE_METRICS = "bleu,rouge,meteor,cider_d,phantom,repetition"
CHILD_GRACE_S = 30  # a stopped runner gives its stage's process this long to end before killing it
CHILD_POLL_S = 1.0
STRICT_FLOAT32 = "none"  # the reproduction scores the models themselves, not a CPU format (profile eval.quantize)


def run_child(command: list[str]) -> int:
    """Run a stage's process and return its exit code. A SIGTERM to the runner ends the stage's
    process too (before, a stopped runner left it running, and a restart then wrote its teacher
    records beside the orphan's): the child gets SIGTERM, then SIGKILL after ``CHILD_GRACE_S``, and
    the runner exits with 128 + the signal. Ctrl-C reaches both through the terminal's process group."""
    child = subprocess.Popen(command)
    stopped: list[tuple[int, float]] = []

    def stop(signum, frame):  # no waiting in here: the interrupted wait below holds Popen's lock
        stopped.append((signum, time.monotonic()))
        child.terminate()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            try:
                code = child.wait(timeout=CHILD_POLL_S)
                break
            except subprocess.TimeoutExpired:
                if stopped and time.monotonic() - stopped[0][1] > CHILD_GRACE_S:
                    child.kill()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if stopped:
        raise SystemExit(128 + stopped[0][0])
    return code


class Reproduction:
    def __init__(self, profile: Profile, workdir: str | Path):
        self.profile = profile
        self.work = Path(workdir)
        self.work.mkdir(parents=True, exist_ok=True)
        self.data = self.work / "data"

    # ------------------------------------------------------------- plumbing
    def _cli(self, args: list[str], stage: str) -> None:
        command = [sys.executable, "-m", "echo_cxr.cli", *args]
        with open(self.work / COMMANDS, "a") as log:
            log.write(f"[{stage}] echo-cxr {' '.join(args)}\n")
        print(f"[reproduce] {stage}: echo-cxr {' '.join(args[:2])} ...", file=sys.stderr, flush=True)
        code = self._in_process(args) if self.profile.in_process else run_child(command)
        if code != 0:
            raise EchoError(f"stage {stage} failed (exit {code}); rerun to resume from it")

    @staticmethod
    def _in_process(args: list[str]) -> int:
        """The exit code of ``echo-cxr ARGS`` run by this process's own CLI."""
        from echo_cxr.cli import main

        try:
            main(args)
        except SystemExit as done:
            return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        return 0

    def _timed(self, stage: str, action) -> None:
        timings_path = self.work / TIMINGS
        timings = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
        started = time.perf_counter()
        action()
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - started
        timings_path.write_text(json.dumps(timings, indent=1))

    # ------------------------------------------------------------- stages
    def make_data(self) -> None:
        if (self.data / "manifest.json").is_file():
            return
        sizes = self.profile.data
        total = sizes["train"] + sizes["val"] + sizes["test"]
        fractions = ",".join(f"{name}={sizes[name] / total!r}" for name in ("train", "val", "test"))
        self._timed("data", lambda: self._cli(
            ["phantom", "--out", str(self.data), "--n", str(total), "--seed", str(self.profile.seed), "--lang",
             "both", "--splits", fractions, "--lateral-prob", str(sizes.get("lateral_prob", DEFAULT_LATERAL_PROB)), "--overwrite"],
            "data"))
        self._subsets()

    def _draw_split(self, folder: Path, count: int, seed: int, split: str, stage: str) -> None:
        """``count`` Phantom studies of one ``split`` with the profile's settings into ``folder``,
        unless it already holds them."""
        if (folder / "manifest.json").is_file():
            return
        lateral = self.profile.data.get("lateral_prob", DEFAULT_LATERAL_PROB)
        self._timed(stage, lambda: self._cli(
            ["phantom", "--out", str(folder), "--n", str(count), "--seed", str(seed), "--lang", "both",
             "--split", split, "--lateral-prob", str(lateral), "--overwrite"], stage))

    def vision_extra(self) -> Path | None:
        """The extra stage-0 training studies (profile ``data.vision_extra``), drawn on first use."""
        count = int(self.profile.data.get("vision_extra", 0))
        if not count:
            return None
        folder = self.work / VISION_EXTRA_DIR
        self._draw_split(folder, count, self.profile.seed + VISION_EXTRA_SEED_OFFSET, "train", "data vision_extra")
        return folder / "train" / "train.json"

    def _subsets(self) -> None:
        """val_sub.json (training-time validation) and speed.json (test samples timed one by one)."""
        val = json.loads((self.data / "val" / "val.json").read_text())
        (self.data / "val" / "val_sub.json").write_text(json.dumps(val[: self.profile.val_samples]))
        test = json.loads((self.data / "test" / "test.json").read_text())
        (self.data / "test" / "speed.json").write_text(json.dumps(test[: self.profile.eval["speed_samples"]]))

    def run_dir(self, name: str) -> Path:
        return self.work / "runs" / name

    def _train_args(self, run: Run) -> list[str]:
        # stage 0 validates on every val study (a cheap probe); the decoding stages on val_sub
        stage0 = run.objective == "vision"
        val = self.data / "val" / ("val.json" if stage0 else "val_sub.json")
        train = [self.data / "train" / "train.json"]
        if run.kind == VISION_MORE and (extra := self.vision_extra()):
            train.append(extra)
        args = ["train", run.objective,
                "--config", str(CONFIG_DIR / "phantom" / run.base), "--quiet",
                f"train_data={','.join(map(str, train))}",
                f"val_data={val}", f"output_dir={self.run_dir(run.name)}",
                f"seed={self.profile.seed}"]
        if stage0 or run.vision_init:
            args += [f"scratch.{k}={','.join(map(str, v)) if isinstance(v, list) else v}"
                     for k, v in self.profile.shape.items()]
        if run.init:  # a whole checkpoint: no tower of another one (ar.yaml's vision_init is for ar_first)
            args += [f"init={self.run_dir(run.init) / 'model'}", "vision_init=null"]
        if run.vision_init:
            args += ["init=scratch", f"vision_init={self.run_dir(run.vision_init) / 'model'}"]
        if run.teacher:
            args += ["init=teacher", f"teacher={self.run_dir(run.teacher) / 'model'}",
                     f"teacher_records={self.work / 'records' / run.records}"]
        settings = {**self.profile.runs.get(run.kind, {}), **run.extra}
        args += [f"{k}={'null' if v is None else v}" for k, v in settings.items()]
        return args

    def finished(self, name: str) -> bool:
        """Run ``name`` has its model (trained here or adopted)."""
        return (self.run_dir(name) / "model" / "config.json").is_file()

    def train(self, run: Run) -> None:
        folder = self.run_dir(run.name)
        if self.finished(run.name):
            return
        args = self._train_args(run)
        if (folder / "state").is_dir():
            args.append("--resume")
        elif folder.exists():
            args.append("--overwrite")
        self._timed(f"train {run.name}", lambda: self._cli(args, f"train {run.name}"))

    def eval_dir(self, variant: Variant, split: str = TEST) -> Path:
        folder = self.work / "eval" / variant.slug
        return folder if split == TEST else folder / split

    def test_file(self, split: str) -> Path:
        """The test set of ``split``: the reproduction's own (``test``) or the one drawn at the end."""
        if split == TEST:
            return self.data / "test" / "test.json"
        return self.work / SECOND_TEST_DIR / "test" / "test.json"

    def make_second_test(self) -> bool:
        """The second test set, from a seed of its own, drawn only after every model is trained."""
        seed = self.profile.eval.get("second_test_seed")
        if seed is None:
            return False
        self._draw_split(self.work / SECOND_TEST_DIR, self.profile.data["test"], seed, "test", "data test2")
        return True

    def _infer_args(self, variant: Variant, data: Path, out: Path, batch: int) -> list[str]:
        args = ["infer", "--data", str(data), "--model", str(self.run_dir(variant.run) / "model"), "--out", str(out),
                "--batch-size", str(batch), "--max-new-tokens", str(self.profile.eval["max_new_tokens"]),
                "--decoder", variant.decoder, "--resume", "--no-progress",
                "--quantize", self.profile.eval.get("quantize", STRICT_FLOAT32)]
        if variant.steps is not None:
            args += ["--steps", str(variant.steps)]
        if variant.decoder == "ar":
            args += ["--block-length", "1"]
        return args

    def _score(self, results: Path, scores: Path, name: str, stage: str) -> None:
        self._cli(["score", "--results", str(results), "--out", str(scores), "--metrics", SCORE_METRICS,
                   "--name", name], stage)

    def evaluate(self, variant: Variant, split: str = TEST) -> None:
        """Decode the test set (and, on the reproduction's own split, the speed subset one by one)."""
        folder = self.eval_dir(variant, split)
        folder.mkdir(parents=True, exist_ok=True)
        scores = folder / "scores.json"
        if scores.is_file():
            return
        stage = f"eval {variant.label}" + ("" if split == TEST else f" ({split})")

        def action():
            self._cli(self._infer_args(variant, self.test_file(split), folder / "results.jsonl",
                                       self.profile.eval["batch_size"]), stage)
            if split == TEST:
                self._cli(self._infer_args(variant, self.data / "test" / "speed.json", folder / "speed.jsonl", 1),
                          stage)
            self._score(folder / "results.jsonl", scores, variant.label, stage)

        self._timed(stage, action)

    def probe_dir(self, split: str = TEST) -> Path:
        folder = self.work / "eval" / PROBE_SLUG
        return folder if split == TEST else folder / split

    def evaluate_probe(self, split: str = TEST) -> None:
        """What the stage-0 tower alone reads: its probe head's labels as reports, scored."""
        folder = self.probe_dir(split)
        scores = folder / "scores.json"
        if scores.is_file():
            return
        folder.mkdir(parents=True, exist_ok=True)
        stage = f"eval {PROBE_LABEL}" + ("" if split == TEST else f" ({split})")

        def action():
            self._cli(["diagnose", "probe", "--run", str(self.run_dir("vision")), "--data", str(self.test_file(split)),
                       "--out", str(folder / "results.jsonl")], stage)
            self._score(folder / "results.jsonl", scores, PROBE_LABEL, stage)

        self._timed(stage, action)

    def adopt_tower(self, source: Path) -> None:
        """Use a finished stage-0 run (model/, label_head.pt, its metrics) as this reproduction's."""
        from echo_cxr.training.vision_pretrain import HEAD_FILE

        if not (Path(source) / HEAD_FILE).is_file():
            raise EchoError(f"{source} is not a finished `echo-cxr train vision` run (model/ and {HEAD_FILE})")
        self.adopt("vision", source, "the committed tower")

    def adopt(self, name: str, source: Path, what: str = "a committed run") -> None:
        """Use a finished run folder (its model/, metrics, config) as this reproduction's run
        ``name``, which is then not trained; said in the command log."""
        import shutil

        if name not in {r.name for r in RUNS}:
            raise EchoError(f"unknown run {name!r}; choose one of {', '.join(r.name for r in RUNS)}")
        source = Path(source)
        if not (source / "model" / "config.json").is_file():
            raise EchoError(f"{source} is not a finished run (no model/config.json)")
        target = self.run_dir(name)
        if self.finished(name):
            return
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)
        with open(self.work / COMMANDS, "a") as log:
            log.write(f"[train {name}] adopted {what} {source}\n")

    @staticmethod
    def check_run(name: str) -> None:
        """Raise unless ``name`` is one of the reproduction's runs."""
        known = {r.name for r in RUNS}
        if name not in known:
            raise EchoError(f"unknown run {name!r}; choose one of {DATA_ONLY}, {', '.join(sorted(known))}")

    def train_with_dependencies(self, name: str) -> None:
        self.check_run(name)
        run = next(r for r in RUNS if r.name == name)
        if self.finished(name):
            return  # what it started from is not needed again
        for needed in (run.init, run.vision_init, run.teacher):
            if needed:
                self.train_with_dependencies(needed)
        self.train(run)

    def run_all(self, docs: Path) -> Path:
        """Data, the stage-0 tower and its probe, then each evaluated group in order (main, native,
        baselines, ablations): its runs are trained, its variants evaluated and the document
        re-rendered, so that an interrupted reproduction already documents everything it finished.
        Last, the second test set is drawn and every model is evaluated on it too."""
        from echo_cxr.reproduce.results import write_results

        self.make_data()
        self.train_with_dependencies("vision")
        self.evaluate_probe()
        path = None
        for group in VARIANT_GROUPS:
            for variant in (v for v in VARIANTS if v.group == group):
                self.train_with_dependencies(variant.run)
                self.evaluate(variant)
            path = write_results(self, docs)
            if group == "main" and self.profile.ship_models:
                self.ship()
        if self.make_second_test():
            self.evaluate_probe(SECOND_TEST)
            for variant in VARIANTS:
                self.evaluate(variant, SECOND_TEST)
            path = write_results(self, docs)
        return path

    def ship(self) -> None:
        """The default model and its teacher, into the package (model/builtin.py)."""
        from echo_cxr.model.builtin import BUILTIN_RUNS, install

        for folder in install({name: self.run_dir(run) / "model" for name, run in BUILTIN_RUNS.items()}):
            print(f"[reproduce] installed {folder}", file=sys.stderr, flush=True)
