"""The generated protobuf code in the repository is what `make proto` produces from proto/."""

from __future__ import annotations

import filecmp
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_code_is_not_stale(tmp_path):
    subprocess.run([str(ROOT / "scripts" / "genproto.sh"), str(tmp_path)], check=True)
    generated = sorted(p.name for p in (tmp_path / "vigil" / "v1").iterdir())
    committed_dir = ROOT / "services" / "core" / "src" / "vigil" / "v1"
    committed = sorted(p.name for p in committed_dir.iterdir() if p.suffix in (".py", ".pyi"))
    assert generated == committed
    stale = [n for n in generated
             if not filecmp.cmp(tmp_path / "vigil" / "v1" / n, committed_dir / n, shallow=False)]
    assert stale == [], f"run `make proto`: {stale} differ from proto/"
