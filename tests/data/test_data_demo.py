"""scripts/data-demo.sh as documented in docs/data.md: look-alike MIMIC-CXR -> convert -> normalize
(loopback server) -> train ar on a tiny model -> generate; run as a real shell script."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 900


def test_demo_script_end_to_end(tmp_path):
    out = tmp_path / "demo"
    env = {**os.environ, "ECHO_DEMO_NO_VENV": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([str(REPO / "scripts" / "data-demo.sh"), str(out)], env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "converted" / "manifest.json").read_text())
    assert manifest["counts"]["kept"] == 9 and manifest["dropped"]["unreadable_image"] == 2  # --validate
    for split in ("train", "val"):
        audit = [json.loads(line) for line in (out / "normalized" / f"{split}.audit.jsonl").read_text().splitlines()]
        assert audit and {row["status"] for row in audit} == {"accepted"}
    rows = [json.loads(line) for line in (out / "ar" / "metrics.jsonl").read_text().splitlines()]
    assert max(row["step"] for row in rows) == 8 and any("val_loss" in row for row in rows)
    trained_on = json.loads((out / "ar" / "train_config.json").read_text())["train_data"]
    assert trained_on == [str(out / "normalized" / "train.json")]
    assert json.loads((out / "generated.json").read_text())["report"]
    assert "demo done" in done.stderr
