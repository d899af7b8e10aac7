# ruff: noqa: T201  (a report script: printing the table is its job)
"""Accuracy report for the on-device measurement pipeline.

Generates synthetic red/IR recordings (neurokit2's ``ppg_simulate`` for the pulse shape and
heart-rate variability, red/IR scaled to a known ratio of ratios, sensor noise, motion and
no-finger segments), runs them through the C pipeline (``ppg-replay``) and compares each
one-second reading with the reference:

* heart rate: 60 / mean interval of the simulation's own beats (peaks of the clean pulse) in the
  same 8 s window the device analyses;
* SpO2: the value the recording was made with (R = (110 - SpO2) / 25, the device's curve).

Windows overlapping an artefact by 2 s or more are "bad": the device must not report them as
readings. Windows touching an artefact by less are transitions and not scored. Exits 1 when a
recording is out of tolerance.

Usage: uv run --frozen python firmware/scripts/accuracy.py --replay BUILD/host/ppg-replay \
           --out BUILD/recordings [--count 24]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import neurokit2 as nk
import numpy as np
from scipy.signal import find_peaks

FS = 100
WINDOW_S = 8
DURATION_S = 60
HR_TOL = 3.0
SPO2_TOL = 2.0
MIN_COVERAGE = 0.75  # share of good windows that must yield a reading
MAX_BAD_PASSED = 0.05  # share of bad windows that may slip through as readings


@dataclass
class Recording:
    name: str
    hr: float
    spo2: float
    artefacts: list[tuple[float, float, str]]  # (start_s, end_s, kind)
    seed: int
    noise: float = 1.0


def plan(count: int) -> list[Recording]:
    """A deterministic spread of rates, saturations and artefacts."""
    rng = np.random.default_rng(20261123)
    hrs = np.linspace(45, 165, count)
    spo2s = np.linspace(86, 100, count)
    rng.shuffle(spo2s)
    recs = []
    for i in range(count):
        arte: list[tuple[float, float, str]] = []
        if i % 3 == 1:
            arte.append((28.0, 40.0, "motion"))
        elif i % 3 == 2:
            arte.append((25.0, 31.0, "nofinger"))
            arte.append((45.0, 52.0, "motion"))
        recs.append(Recording(f"rec{i:02d}", float(round(hrs[i])), float(round(spo2s[i], 1)),
                              arte, seed=100 + i, noise=1.0 + (i % 4) * 0.5))
    return recs


def synthesize(rec: Recording) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns red, ir (18-bit counts) and the reference beat times in seconds."""
    n = DURATION_S * FS
    ppg = nk.ppg_simulate(duration=DURATION_S, sampling_rate=FS, heart_rate=rec.hr,
                          frequency_modulation=0.1, ibi_randomness=0.05, drift=0,
                          motion_amplitude=0, powerline_amplitude=0, burst_number=0,
                          random_state=rec.seed)[:n]
    # Reference beats: systolic peaks of the clean simulated pulse. (Elgendi's detector in
    # neurokit2 splits slow beats and merges fast ones, so a plain prominence search is used.)
    idx, _ = find_peaks(ppg, distance=int(0.2 * FS), prominence=0.3 * np.ptp(ppg))
    peaks = idx / FS
    lo, hi = np.percentile(ppg, [1, 99])
    pulse = (ppg - lo) / (hi - lo)
    rng = np.random.default_rng(rec.seed)
    t = np.arange(n) / FS
    resp = 0.003 * np.sin(2 * np.pi * 0.22 * t + rng.uniform(0, 6))
    ratio = (110.0 - rec.spo2) / 25.0
    ir_dc, red_dc, pi_ir = 115000.0, 85000.0, 0.015
    ir = ir_dc * (1 + resp - pi_ir * pulse)
    red = red_dc * (1 + resp - pi_ir * ratio * pulse)
    ir += rng.normal(0, 12 * rec.noise, n)
    red += rng.normal(0, 12 * rec.noise, n)
    for start, end, kind in rec.artefacts:
        sel = (t >= start) & (t < end)
        m = int(sel.sum())
        if kind == "motion":
            # Band-limited (0.3-4 Hz) random movement several times the pulse amplitude, with a
            # different optical path change at each wavelength, plus pressure steps.
            white = rng.normal(0, 1, m + 400)
            smooth = np.convolve(white, np.hanning(25), mode="same")
            smooth -= np.convolve(smooth, np.ones(300) / 300, mode="same")
            smooth = smooth[200:200 + m] / (np.std(smooth[200:200 + m]) + 1e-9)
            steps = np.repeat(rng.normal(0, 1.5, m // 150 + 1), 150)[:m]
            motion = (smooth + steps) * 3 * pi_ir
            ir[sel] += ir_dc * motion * rng.uniform(0.8, 1.2)
            red[sel] += red_dc * motion * rng.uniform(0.4, 1.6)
        else:  # finger lifted: ambient light only
            ir[sel] = 1500 + rng.normal(0, 40, m)
            red[sel] = 1200 + rng.normal(0, 40, m)
    clip = lambda x: np.clip(np.round(x), 0, 262143).astype(np.int64)  # noqa: E731
    return clip(red), clip(ir), peaks


def reference_hr(peaks: np.ndarray, t_end: float) -> float | None:
    inside = peaks[(peaks > t_end - WINDOW_S) & (peaks <= t_end)]
    if len(inside) < 3:
        return None
    return 60.0 / float(np.mean(np.diff(inside)))


def overlap(rec: Recording, t_end: float) -> float:
    return sum(max(0.0, min(e, t_end) - max(s, t_end - WINDOW_S)) for s, e, _ in rec.artefacts)


@dataclass
class Result:
    rec: Recording
    good: int = 0
    good_valid: int = 0
    hr_ok: int = 0
    spo2_ok: int = 0
    bad: int = 0
    bad_passed: int = 0
    hr_err_max: float = 0.0
    spo2_err_max: float = 0.0
    hr_mean: float = float("nan")
    spo2_mean: float = float("nan")

    @property
    def passed(self) -> bool:
        return (self.good_valid > 0 and self.hr_ok == self.good_valid
                and self.spo2_ok == self.good_valid
                and self.good_valid >= MIN_COVERAGE * self.good
                and self.bad_passed <= MAX_BAD_PASSED * max(self.bad, 1))


def evaluate(rec: Recording, replay: Path, out: Path) -> Result:
    red, ir, peaks = synthesize(rec)
    path = out / f"{rec.name}.csv"
    with path.open("w") as f:
        f.write("red,ir\n")
        f.writelines(f"{r},{i}\n" for r, i in zip(red, ir, strict=True))
    proc = subprocess.run([str(replay), str(path)], check=True, capture_output=True, text=True)
    res = Result(rec)
    hrs, spo2s = [], []
    for row in csv.DictReader(proc.stdout.splitlines()):
        t_end = float(row["t_s"])
        valid = row["valid"] == "1"
        ov = overlap(rec, t_end)
        if ov >= 2.0:
            res.bad += 1
            res.bad_passed += valid
            continue
        if ov > 0.0:
            continue
        ref = reference_hr(peaks, t_end)
        if ref is None:
            continue
        res.good += 1
        if not valid:
            continue
        res.good_valid += 1
        hr, spo2 = float(row["hr_bpm"]), float(row["spo2_pct"])
        hrs.append(hr)
        spo2s.append(spo2)
        res.hr_err_max = max(res.hr_err_max, abs(hr - ref))
        res.spo2_err_max = max(res.spo2_err_max, abs(spo2 - rec.spo2))
        res.hr_ok += abs(hr - ref) <= HR_TOL
        res.spo2_ok += abs(spo2 - rec.spo2) <= SPO2_TOL
    if hrs:
        res.hr_mean, res.spo2_mean = float(np.mean(hrs)), float(np.mean(spo2s))
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replay", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--count", type=int, default=24)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = [evaluate(rec, args.replay, args.out) for rec in plan(args.count)]
    head = (f"{'rec':6} {'artefacts':18} {'HR true':>7} {'HR meas':>7} {'HR maxerr':>9} "
            f"{'SpO2 true':>9} {'SpO2 meas':>9} {'SpO2 maxerr':>11} {'good':>9} {'bad flagged':>11}"
            f"  result")
    print(head)
    print("-" * len(head))
    for r in results:
        arte = ",".join(f"{k}@{s:g}-{e:g}" for s, e, k in r.rec.artefacts) or "-"
        flagged = f"{r.bad - r.bad_passed}/{r.bad}" if r.bad else "-"
        print(f"{r.rec.name:6} {arte[:18]:18} {r.rec.hr:7.1f} {r.hr_mean:7.1f} "
              f"{r.hr_err_max:9.2f} {r.rec.spo2:9.1f} {r.spo2_mean:9.1f} {r.spo2_err_max:11.2f} "
              f"{r.good_valid:>4}/{r.good:<4} {flagged:>11}  {'PASS' if r.passed else 'FAIL'}")
    n_pass = sum(r.passed for r in results)
    good = sum(r.good_valid for r in results)
    hr_ok = sum(r.hr_ok for r in results)
    sp_ok = sum(r.spo2_ok for r in results)
    bad = sum(r.bad for r in results)
    flagged = sum(r.bad - r.bad_passed for r in results)
    print(f"\nreadings in good windows: {good}; HR within +-{HR_TOL:g} bpm: {hr_ok}/{good}; "
          f"SpO2 within +-{SPO2_TOL:g} %: {sp_ok}/{good}; bad windows flagged: {flagged}/{bad}")
    print(f"accuracy: {n_pass} passed, {len(results) - n_pass} failed")
    return 0 if n_pass == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
