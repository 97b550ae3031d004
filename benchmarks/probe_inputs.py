"""Probe of bad inputs, as a hostile but realistic user would try them: every case is a
command run in a fresh process; a mistake must end with one message and a non-zero exit status,
never a traceback, a silent success or a file written by a checkpoint.

    python benchmarks/probe_inputs.py [--only edit|evaluate|train|demo|synth|publish] [--verbose]

Prints one row per case (good / TRACEBACK / SILENT / FAILED) and the counts; exit status 1 when a
case is not good. Uses the published weights and small files it writes to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


@dataclass
class Case:
    group: str
    name: str
    args: list[str]
    #: "error": must fail with a message; "ok": must succeed
    expect: str = "error"
    #: extra check on (returncode, stdout, stderr); returns a problem or None
    check: Callable[[int, str, str], str | None] | None = None
    env: dict[str, str] | None = None


def _files(tmp: Path) -> dict[str, Path]:
    """The inputs the cases read."""
    f: dict[str, Path] = {}
    photo = Image.fromarray(np.tile(np.linspace(40, 220, 200, dtype=np.uint8)[None, :, None], (80, 1, 3)))
    f["photo"] = tmp / "photo.png"
    photo.save(f["photo"])
    f["text_as_png"] = tmp / "notes.png"
    f["text_as_png"].write_text("this is not an image\n")
    data = f["photo"].read_bytes()
    f["truncated"] = tmp / "truncated.png"
    f["truncated"].write_bytes(data[: len(data) // 2])
    frames = [Image.new("RGB", (120, 60), c) for c in ("red", "blue")]
    f["gif"] = tmp / "anim.gif"
    frames[0].save(f["gif"], save_all=True, append_images=frames[1:], duration=100)
    grey16 = (np.tile(np.linspace(0, 65535, 160), (60, 1))).astype(np.uint16)
    f["grey16"] = tmp / "grey16.png"
    Image.fromarray(grey16).save(f["grey16"])
    f["edits_null"] = tmp / "null.json"
    f["edits_null"].write_text(json.dumps([{"box": "10,10,100,40", "text": None}]))
    f["edits_bad"] = tmp / "bad.json"
    f["edits_bad"].write_text("[{box: 1")
    f["edits_obj"] = tmp / "obj.json"
    f["edits_obj"].write_text(json.dumps({"box": "10,10,100,40", "text": "x"}))
    f["random_ckpt"] = tmp / "random.ckpt"
    f["random_ckpt"].write_bytes(os.urandom(4096))
    # a checkpoint whose config names a function that writes a file
    f["payload_marker"] = tmp / "PWNED"
    payload = {
        "task": {},
        "config": (
            "model:\n  _target_: pathlib.Path.touch\n  self: " + str(f["payload_marker"]) + "\ndata: {}\n"
        ),
    }
    f["payload_ckpt"] = tmp / "payload.ckpt"
    torch.save(payload, f["payload_ckpt"])
    # paired folders: counts that do not match, a non-UTF-8 word list
    for name in ("mismatch", "latin1"):
        d = tmp / name
        (d / "i_s").mkdir(parents=True)
        (d / "t_f").mkdir()
        for i in range(3):
            photo.save(d / "i_s" / f"{i}.png")
        for i in range(2):
            photo.save(d / "t_f" / f"{i}.png")
        f[name] = d
    (f["mismatch"] / "i_t.txt").write_text("0.png a\n1.png b\n2.png c\n")
    (f["latin1"] / "i_t.txt").write_bytes("0.png café\n".encode("latin-1"))
    # wide photos: float values 0..1 (Pillow mode F), 32-bit integers past 16 bits
    f["float_tif"] = tmp / "float.tif"
    Image.fromarray(np.tile(np.linspace(0.1, 0.9, 200, dtype=np.float32), (80, 1)), mode="F").save(
        f["float_tif"]
    )
    f["int32_tif"] = tmp / "int32.tif"
    Image.fromarray(np.tile(np.linspace(0, 200_000, 200).astype(np.int32), (80, 1)), mode="I").save(
        f["int32_tif"]
    )
    f["jpeg"] = tmp / "photo.jpg"
    photo.save(f["jpeg"], quality=95)
    f["edits_latin1"] = tmp / "latin1.json"
    f["edits_latin1"].write_bytes('[{"box": "10,10,100,40", "text": "café"}]'.encode("latin-1"))
    f["fifo"] = tmp / "pipe.png"
    os.mkfifo(f["fifo"])
    # checkpoints: the published weights with one tensor NaN; a config of YAML aliases (10^9 entries)
    from tsb.published import published_checkpoint
    from tsb.training.checkpoint import load_weights, save_checkpoint

    weights = load_weights(published_checkpoint())
    tensors = dict(weights["task"])
    first = next(k for k, v in tensors.items() if v.is_floating_point() and v.numel() > 1)
    tensors[first] = tensors[first] * float("nan")
    f["nan_ckpt"] = tmp / "diverged.ckpt"
    save_checkpoint(f["nan_ckpt"], {"task": tensors, "config": json.dumps(weights["config"]), "step": 0})
    bomb = ["a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    bomb += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    f["bomb_ckpt"] = tmp / "bomb.ckpt"
    torch.save(
        {"format": "tsb-checkpoint", "version": 1, "task": {}, "config": "\n".join(bomb) + "\nmodel: *a8\n"},
        f["bomb_ckpt"],
    )
    # paired folders: a file listed twice, an image that is not one
    for name in ("listed_twice", "corrupt"):
        d = tmp / name
        for sub in ("i_s", "t_f"):
            (d / sub).mkdir(parents=True)
            for i in range(2):
                photo.save(d / sub / f"{i}.png")
        (d / "i_t.txt").write_text("0.png a\n1.png b\n" + ("0.png c\n" if name == "listed_twice" else ""))
        f[name] = d
    (f["corrupt"] / "i_s" / "1.png").write_bytes(b"")
    f["a_file"] = tmp / "notes.txt"
    f["a_file"].write_text("a file, not a folder\n")
    return f


def _no_file(path: Path) -> Callable[[int, str, str], str | None]:
    return lambda rc, out, err: f"{path.name} was written" if path.exists() else None


def _unchanged(folder: Path) -> Callable[[int, str, str], str | None]:
    """The files under ``folder`` (the published weights) are as they were."""
    before = {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    return lambda rc, out, err: (
        None
        if {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} == before
        else f"{folder} changed"
    )


def _says(words: str) -> Callable[[int, str, str], str | None]:
    """The message holds ``words`` (what the case is about, not any error)."""
    return lambda rc, out, err: None if words in out + err else f"the message does not say {words!r}"


def _no_secret(run_dir: Path, secret: str) -> Callable[[int, str, str], str | None]:
    def check(rc: int, out: str, err: str) -> str | None:
        for p in run_dir.rglob("*") if run_dir.exists() else []:
            if p.is_file() and secret in p.read_text(errors="ignore"):
                return f"the secret is in {p}"
        return None

    return check


def cases(tmp: Path) -> list[Case]:
    f = _files(tmp)
    out = str(tmp / "out.png")
    edit = [PY, "-m", "tsb.edit"]
    ev = [PY, str(ROOT / "evaluate.py"), "progress=false", f"hydra.run.dir={tmp / 'ev'}"]
    tr = [PY, str(ROOT / "train.py"), f"hydra.run.dir={tmp / 'tr'}"]
    demo = [PY, "-m", "tsb.demo"]
    synth = [PY, "-m", "tsb.data.synth", "render"]
    publish = [PY, "-m", "tsb.publish"]
    img = ["--image", str(f["photo"])]
    word = ["--box", "10,10,100,40", "--text", "good"]
    return [
        Case(
            "edit",
            "missing image",
            [*edit, "--image", str(tmp / "nope.png"), "--box", "1,1,50,20", "--text", "a", "--out", out],
        ),
        Case(
            "edit",
            "text file named .png",
            [*edit, "--image", str(f["text_as_png"]), "--box", "1,1,50,20", "--text", "a", "--out", out],
        ),
        Case(
            "edit",
            "truncated PNG",
            [*edit, "--image", str(f["truncated"]), "--box", "1,1,50,20", "--text", "a", "--out", out],
        ),
        Case(
            "edit",
            "animated GIF",
            [*edit, "--image", str(f["gif"]), "--box", "1,1,50,20", "--text", "a", "--out", out],
        ),
        Case("edit", "box with 3 numbers", [*edit, *img, "--box", "1,2,3", "--text", "a", "--out", out]),
        Case(
            "edit",
            "box outside the image",
            [*edit, *img, "--box", "500,500,50,20", "--text", "a", "--out", out],
        ),
        Case(
            "edit", "box of negative size", [*edit, *img, "--box=10,10,-50,20", "--text", "a", "--out", out]
        ),
        Case("edit", "box not numbers", [*edit, *img, "--box", "a,b,c,d", "--text", "a", "--out", out]),
        Case("edit", "empty text", [*edit, *img, "--box", "10,10,100,40", "--text", "", "--out", out]),
        Case(
            "edit",
            "character outside the alphabet",
            [*edit, *img, "--box", "10,10,100,40", "--text", "héllo☃", "--out", out],
        ),
        Case(
            "edit",
            "500 characters in a small box",
            [*edit, *img, "--box", "10,10,60,20", "--text", "x" * 500, "--out", out],
        ),
        Case("edit", "edits file: text null", [*edit, *img, "--edits", str(f["edits_null"]), "--out", out]),
        Case("edit", "edits file: bad JSON", [*edit, *img, "--edits", str(f["edits_bad"]), "--out", out]),
        Case("edit", "edits file: an object", [*edit, *img, "--edits", str(f["edits_obj"]), "--out", out]),
        Case("edit", "edits file missing", [*edit, *img, "--edits", str(tmp / "none.json"), "--out", out]),
        Case(
            "edit",
            "checkpoint missing",
            [
                *edit,
                *img,
                "--box",
                "10,10,100,40",
                "--text",
                "a",
                "--ckpt",
                str(tmp / "no.ckpt"),
                "--out",
                out,
            ],
        ),
        Case(
            "edit",
            "checkpoint of random bytes",
            [
                *edit,
                *img,
                "--box",
                "10,10,100,40",
                "--text",
                "a",
                "--ckpt",
                str(f["random_ckpt"]),
                "--out",
                out,
            ],
        ),
        Case(
            "edit",
            "checkpoint whose config writes a file",
            [
                *edit,
                *img,
                "--box",
                "10,10,100,40",
                "--text",
                "a",
                "--ckpt",
                str(f["payload_ckpt"]),
                "--out",
                out,
            ],
            check=_no_file(f["payload_marker"]),
        ),
        Case(
            "edit",
            "unknown output format",
            [*edit, *img, "--box", "10,10,100,40", "--text", "a", "--out", str(tmp / "o.xyz")],
        ),
        Case(
            "edit",
            "--device cuda without CUDA",
            [*edit, *img, "--box", "10,10,100,40", "--text", "a", "--device", "cuda", "--out", out],
        )
        if not torch.cuda.is_available()
        else Case(
            "edit",
            "--device tpu",
            [*edit, *img, "--box", "10,10,100,40", "--text", "a", "--device", "tpu", "--out", out],
        ),
        Case(
            "edit",
            "--erase with --text",
            [*edit, *img, "--box", "10,10,100,40", "--erase", "--text", "a", "--out", out],
        ),
        Case("edit", "--replace without =", [*edit, *img, "--replace", "SALE", "--out", out]),
        Case(
            "edit",
            "--preview without --list",
            [*edit, *img, "--box", "10,10,100,40", "--text", "a", "--preview", out, "--out", out],
        ),
        Case(
            "edit",
            "--context 5",
            [*edit, *img, "--box", "10,10,100,40", "--text", "a", "--context", "5", "--out", out],
        ),
        Case("edit", "--source-text without --box", [*edit, *img, "--source-text", "old", "--out", out]),
        Case(
            "edit",
            "a good edit",
            [*edit, *img, "--box", "10,10,120,40", "--text", "good", "--out", out],
            expect="ok",
        ),
        Case(
            "edit",
            "16-bit grey photo",
            [
                *edit,
                "--image",
                str(f["grey16"]),
                "--box",
                "10,10,120,40",
                "--text",
                "grey",
                "--out",
                str(tmp / "g.png"),
            ],
            expect="ok",
            check=lambda rc, o, e: (
                None
                if Image.open(tmp / "g.png").mode.startswith("I")
                else "the 16-bit photo came out as " + Image.open(tmp / "g.png").mode
            ),
        ),
        Case(
            "edit",
            "float TIFF (0..1)",
            [*edit, "--image", str(f["float_tif"]), *word, "--out", str(tmp / "float_out.tif")],
            expect="ok",
            check=lambda rc, o, e: (
                None
                if np.asarray(Image.open(tmp / "float_out.tif"))[:, 150:].min() > 0.05
                else "the float photo came out black"
            ),
        ),
        Case(
            "edit",
            "32-bit TIFF past 16 bits",
            [*edit, "--image", str(f["int32_tif"]), *word, "--out", out],
            check=_says("65535"),
        ),
        Case(
            "edit",
            "JPEG over itself",
            [*edit, "--image", str(f["jpeg"]), *word, "--out", str(f["jpeg"])],
            expect="ok",
            check=_says("JPEG"),
        ),
        Case(
            "edit",
            "folder as --image",
            [*edit, "--image", str(tmp), *word, "--out", out],
            check=_says("folder"),
        ),
        Case(
            "edit",
            "FIFO as --image",
            [*edit, "--image", str(f["fifo"]), *word, "--out", out],
            check=_says("not a regular file"),
        ),
        Case(
            "edit",
            "/dev/zero as --image",
            [*edit, "--image", "/dev/zero", *word, "--out", out],
            check=_says("not a regular file"),
        ),
        Case(
            "edit",
            "folder as --ckpt",
            [*edit, *img, *word, "--ckpt", str(tmp), "--out", out],
            check=_says("folder"),
        ),
        Case(
            "edit",
            "edits file in Latin-1",
            [*edit, *img, "--edits", str(f["edits_latin1"]), "--out", out],
            check=_says("UTF-8"),
        ),
        Case("edit", "--source-text empty", [*edit, *img, *word, "--source-text", "", "--out", out]),
        Case(
            "edit",
            "checkpoint of NaN weights",
            [*edit, *img, *word, "--ckpt", str(f["nan_ckpt"]), "--out", out],
            check=_says("NaN"),
        ),
        Case(
            "edit",
            "checkpoint config: YAML alias bomb",
            [*edit, *img, *word, "--ckpt", str(f["bomb_ckpt"]), "--out", out],
            check=_says("expands"),
        ),
        Case("evaluate", "data.root missing", [*ev, "data=paired", f"data.root={tmp / 'none'}"]),
        Case(
            "evaluate",
            "paired folder: fewer targets than sources",
            [*ev, "data=paired", f"data.root={f['mismatch']}"],
        ),
        Case(
            "evaluate", "paired folder: i_t.txt not UTF-8", [*ev, "data=paired", f"data.root={f['latin1']}"]
        ),
        Case(
            "evaluate",
            "checkpoint whose config writes a file",
            [*ev, "data=paired", f"data.root={f['mismatch']}", f"ckpt_path={f['payload_ckpt']}"],
            check=_no_file(f["payload_marker"]),
        ),
        Case(
            "evaluate",
            "unknown metric",
            [*ev, "data=paired", f"data.root={f['mismatch']}", "metrics=[bogus]"],
        ),
        Case("evaluate", "batch_size=0", [*ev, "data=paired", f"data.root={f['mismatch']}", "batch_size=0"]),
        Case(
            "evaluate",
            "checkpoint of NaN weights",
            [*ev, "data=paired", f"data.root={f['mismatch']}", f"ckpt_path={f['nan_ckpt']}"],
            check=_says("NaN"),
        ),
        Case(
            "evaluate",
            "paired folder: a file listed twice",
            [*ev, "data=paired", f"data.root={f['listed_twice']}"],
            check=_says("listed again"),
        ),
        Case("evaluate", "paired folder: an empty image", [*ev, "data=paired", f"data.root={f['corrupt']}"]),
        Case("train", "max_steps=-5", [*tr, "debug=fast", "trainer.max_steps=-5"]),
        Case(
            "train",
            "grad_clip_norm=-1",
            [*tr, "debug=fast", "trainer.grad_clip_norm=-1"],
            check=_says("grad_clip_norm"),
        ),
        Case(
            "train",
            "lr=nan",
            [*tr, "debug=fast", "optimizer.default.lr=nan"],
            check=_says("optimizer.default"),
        ),
        Case("train", "seed=abc", [*tr, "debug=fast", "seed=abc"], check=_says("seed")),
        Case(
            "train",
            "num_threads=-2",
            [*tr, "debug=fast", "trainer.num_threads=-2"],
            check=_says("num_threads"),
        ),
        Case("train", "device=bogus", [*tr, "debug=fast", "trainer.device=bogus"]),
        Case(
            "train", "a key misspelt", [*tr, "debug=fast", "trainer.max_stpes=3"], check=_says("did you mean")
        ),
        Case(
            "train",
            "data.height=63 (paper-style model)",
            [*tr, "debug=fast", "experiment=quickstart_paper", "data.height=63"],
            check=_says("data.height"),
        ),
        Case(
            "train",
            "run folder is a file",
            [PY, str(ROOT / "train.py"), "debug=fast", f"hydra.run.dir={f['a_file']}"],
            check=_says("is a file"),
        ),
        Case("train", "resume from a folder", [*tr, "debug=fast", f"ckpt_path={tmp}"], check=_says("folder")),
        Case("train", "resume from an alias bomb", [*tr, "debug=fast", f"ckpt_path={f['bomb_ckpt']}"]),
        Case("demo", "--port 99999", [*demo, "--port", "99999"], check=_says("--port")),
        Case("demo", "--max-mb nan", [*demo, "--max-mb", "nan"], check=_says("--max-mb")),
        Case("demo", "--max-mb -1", [*demo, "--max-mb", "-1"], check=_says("--max-mb")),
        Case(
            "demo",
            "checkpoint config: YAML alias bomb",
            [*demo, "--port", "0", "--ckpt", str(f["bomb_ckpt"])],
            check=_says("expands"),
        ),
        Case("synth", "--n 0", [*synth, "--n", "0", "--out", str(tmp / "s0")]),
        Case("synth", "--n -3", [*synth, "--n", "-3", "--out", str(tmp / "s1")]),
        Case(
            "synth", "--out a file", [*synth, "--n", "2", "--out", str(f["a_file"])], check=_says("is a file")
        ),
        Case("synth", "--height 0", [*synth, "--n", "2", "--out", str(tmp / "s2"), "--height", "0"]),
        Case(
            "synth",
            "missing lexicon",
            [*synth, "--n", "2", "--out", str(tmp / "s3"), "--lexicon", str(tmp / "none.txt")],
        ),
        Case(
            "publish",
            "--report an image",
            [*publish, str(f["random_ckpt"]), "--report", str(f["photo"])],
            check=_unchanged(ROOT / "tsb" / "weights"),
        ),
        Case(
            "publish",
            "--name ../../escaped",
            [*publish, str(f["random_ckpt"]), "--name", "../../escaped", "--no-card"],
            check=_unchanged(ROOT / "tsb" / "weights"),
        ),
        Case("train", "max_steps=abc", [*tr, "debug=fast", "trainer.max_steps=abc"]),
        Case("train", "unknown model", [*tr, "model=nonexistent"]),
        Case("train", "unknown override key", [*tr, "debug=fast", "trainer.bogus=1"]),
        Case("train", "batch_size=0", [*tr, "debug=fast", "data.batch_size=0"]),
        Case("train", "mask loss kind xyz", [*tr, "debug=fast", "loss.mask.kind=xyz"]),
        Case(
            "train",
            "a token on the command line",
            [*tr, "debug=fast", "storage=yadisk", "+storage.token=y0_SECRETSECRET"],
            check=_no_secret(tmp / "tr", "y0_SECRETSECRET"),
        ),
        Case(
            "train", "yadisk without a token", [*tr, "debug=fast", "storage=yadisk"], env={"YADISK_TOKEN": ""}
        ),
        Case(
            "train", "resume from a missing checkpoint", [*tr, "debug=fast", f"ckpt_path={tmp / 'none.ckpt'}"]
        ),
        Case(
            "train",
            "resume from a checkpoint whose config writes a file",
            [*tr, "debug=fast", f"ckpt_path={f['payload_ckpt']}"],
            check=_no_file(f["payload_marker"]),
        ),
    ]


def run(case: Case, cwd: Path) -> tuple[str, str, float]:
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "HF_HUB_OFFLINE": "1",
        **(case.env or {}),
    }
    env.pop("HYDRA_FULL_ERROR", None)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(case.args, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    except subprocess.TimeoutExpired:
        return "FAILED", "timed out after 300 s", time.perf_counter() - t0
    dt = time.perf_counter() - t0
    text = (p.stderr + p.stdout).strip()
    # tsb.edit prints "error: ..." to stderr; train.py / evaluate.py log it through Hydra's console
    # handler, which writes to stdout
    lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
    logged = [ln for ln in p.stdout.strip().splitlines() if "][ERROR] - " in ln]
    message = next(
        (ln for ln in reversed(lines + logged) if "error" in ln.lower()), lines[-1] if lines else ""
    )
    problem = case.check(p.returncode, p.stdout, p.stderr) if case.check else None
    if "Traceback (most recent call last)" in text:
        return "TRACEBACK", lines[-1] if lines else "", dt
    if case.expect == "error":
        if p.returncode == 0:
            return "SILENT", "exit 0", dt
        if not message:
            return "FAILED", f"exit {p.returncode} with no message", dt
    elif p.returncode != 0:
        return "FAILED", f"exit {p.returncode}: {message}", dt
    if problem:
        return "FAILED", problem, dt
    return "good", (message if case.expect == "error" else "ok")[:150] + f" (exit {p.returncode})", dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["edit", "evaluate", "train", "demo", "synth", "publish"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        todo = [c for c in cases(tmp) if args.only in (None, c.group)]
        counts: dict[str, int] = {}
        for c in todo:
            verdict, detail, dt = run(c, tmp)
            counts[verdict] = counts.get(verdict, 0) + 1
            print(f"{verdict:9s} {c.group:8s} {c.name:48s} {dt:5.1f} s  {detail}", flush=True)
        print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())), f"of {len(todo)} cases")
        sys.exit(0 if counts.get("good", 0) == len(todo) else 1)


if __name__ == "__main__":
    main()
