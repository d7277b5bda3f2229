"""Seeded mutation fuzzer for ``engine.formats.rigio.load_rig`` (issue 14).

Mutates copies of the bundled rigs (``resources/rigs/*.glb``) and of small files built here (a
skinned glTF, a glTF chain, a BVH), writes each case into a scratch folder (so external URIs
resolve against a real folder) and loads it. Mutations: JSON values replaced by hostile ones
(huge counts, 3e38, 1e308, negative indices, ``../`` and ``/dev/zero`` URIs, deep nesting), keys
deleted, float32 values in the BIN chunk set to inf / NaN / 3e38, bytes flipped, files truncated,
BVH tokens and lines replaced or repeated.

Run as a command (``python -m tests.engine.formats.rig_fuzz --cases 30000 --seed 7``) or through
``test_rig_fuzz.py``; prints one JSON report: cases, outcomes, errors other than
``RigFormatError`` (must be none), the slowest case and the peak RSS.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import random
import resource
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.errors import RigFormatError
from engine.formats.rigio import load_rig
from tests.engine.formats import hostile_files as hostile

REPO_ROOT = Path(__file__).resolve().parents[3]
HOSTILE_VALUES: list[Any] = [
    0, -1, 1, 2**31, 2**32 + 1, 10**9, 5_600_000, 3e38, -3e38, 1e308, -1e308, 1e-45, 0.5, True, None, "", "x",
    "../../../../etc/passwd", "/etc/passwd", "/dev/zero", "data:application/octet-stream;base64,AAAA", [], {}, [[[[[]]]]],
    [0, 0, 0], [1e308, 1e308, 1e308], [3e38, 1, 1], [0, 0, 0, 0], list(range(40)),
]  # fmt: skip
FLOAT_BITS = [struct.pack("<f", v) for v in (float("inf"), float("-inf"), float("nan"), 3e38, -3e38, 1e-45, 0.0)] + [b"\xff\xff\xff\x7f"]


# %% seeds ------------------------------------------------------------------------------------
def seed_files() -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of every file the mutations start from."""
    seeds = [(p.name, p.read_bytes()) for p in sorted((REPO_ROOT / "resources" / "rigs").glob("*.glb"))]
    seeds.append(("chain.glb", hostile.chain_glb(8)))
    keys_uri = "data:application/octet-stream;base64," + base64.b64encode(hostile.external_buffer_bytes()).decode()
    seeds.append(("keys.gltf", hostile.external_buffer_gltf(keys_uri)))
    seeds.append(("scaled.glb", hostile.nonuniform_animation_glb(frames=20, joints=4)))
    seeds.append(("small.bvh", hostile.bvh_text(joints=4, frames=5)))
    return seeds


def split_glb(data: bytes) -> tuple[dict[str, Any], bytes] | None:
    """``(JSON, BIN)`` of a well-formed GLB, else ``None``."""
    if data[:4] != b"glTF":
        return None
    (n,) = struct.unpack_from("<I", data, 12)
    doc = json.loads(data[20 : 20 + n])
    rest = data[20 + n :]
    return doc, rest[8:] if len(rest) >= 8 else b""


# %% mutations --------------------------------------------------------------------------------
def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into a JSON value (bounded: long arrays contribute their first 8 items)."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value[:8]):
            out += _paths(v, prefix + (i,))
    return out


def mutate_json(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One to three structural mutations of a glTF document."""
    doc = json.loads(json.dumps(doc))  # a deep copy, at C speed
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(doc)[1:] or [("asset",)])
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        op = rng.random()
        if op < 0.15 and isinstance(parent, dict):
            del parent[key]
        elif op < 0.25 and isinstance(parent[key], list) and parent[key]:
            parent[key] = parent[key] + parent[key][: rng.randint(1, len(parent[key]))]
        elif op < 0.35 and isinstance(parent[key], (int, float)) and not isinstance(parent[key], bool):
            parent[key] = parent[key] * rng.choice([-1, 2, 1000, 10**6])
        else:
            parent[key] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    return doc


def mutate_bin(binary: bytes, rng: random.Random) -> bytes:
    """Overwrite a few 4-byte aligned words with hostile float32 bit patterns."""
    out = bytearray(binary)
    for _ in range(rng.randint(1, 16)):
        if len(out) >= 4:
            at = 4 * rng.randrange(len(out) // 4)
            out[at : at + 4] = rng.choice(FLOAT_BITS)
    return bytes(out)


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """Flip, insert or truncate raw bytes."""
    out = bytearray(data)
    op = rng.random()
    if op < 0.3:
        return bytes(out[: rng.randrange(max(len(out), 1))])
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(out))
        if op < 0.7:
            out[at] = rng.randrange(256)
        else:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(out)


def mutate_bvh(text: bytes, rng: random.Random) -> bytes:
    """Replace tokens with hostile numbers or words, repeat or drop lines."""
    lines = text.decode().split("\n")
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        op = rng.random()
        if op < 0.25:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op < 0.4:
            del lines[i]
        else:
            toks = lines[i].split()
            if toks:
                toks[rng.randrange(len(toks))] = rng.choice(["1e308", "-1e400", "nan", "inf", "3e38", "999999999999", "-1", "0", "{", "}", "JOINT", "End", "Frames:", "x"])
                lines[i] = " ".join(toks)
    return "\n".join(lines).encode()


def mutate(name: str, data: bytes, rng: random.Random) -> bytes:
    """One mutated copy of a seed file."""
    if name.endswith(".bvh"):
        return mutate_bvh(data, rng) if rng.random() < 0.8 else mutate_bytes(data, rng)
    parts = split_glb(data)
    roll = rng.random()
    if parts is not None:
        doc, binary = parts
        if roll < 0.55:
            return hostile.glb(mutate_json(doc, rng), binary)
        if roll < 0.8:
            return hostile.glb(doc, mutate_bin(binary, rng))
        return mutate_bytes(data, rng)
    if roll < 0.8:
        return json.dumps(mutate_json(json.loads(data), rng)).encode()
    return mutate_bytes(data, rng)


def peak_rss_mb() -> float:
    """This process's peak resident memory, MiB: ``VmHWM`` (Linux), whose count starts at exec.

    ``ru_maxrss`` is not used where ``VmHWM`` exists: on Linux it also counts the parent's RSS at
    fork, so a child of a large pytest process would report the parent's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# %% the run ----------------------------------------------------------------------------------
def run(cases: int, seed: int, folder: Path, progress: Path | None = None) -> dict[str, Any]:
    """Load ``cases`` mutated files; the report the test asserts on."""
    rng = random.Random(seed)
    seeds = seed_files()
    outcomes = {"loaded": 0, "RigFormatError": 0, "RigLimitError": 0}
    unexpected: list[dict[str, str]] = []
    slowest = (0.0, "")
    small = [s for s in seeds if not (REPO_ROOT / "resources" / "rigs" / s[0]).is_file()]
    bundled = [s for s in seeds if s not in small]
    for k in range(cases):
        # One case in six starts from a bundled rig (about 40 ms a load), the rest from small files (2 ms).
        name, data = rng.choice(bundled) if bundled and rng.random() < 1 / 6 else rng.choice(small)
        case = f"case {k} (seed {seed}): mutated {name}"
        path = folder / f"case{k % 50}{Path(name).suffix}"
        path.write_bytes(mutate(name, data, rng))
        if progress is not None:
            progress.write_text(case)
        t = time.perf_counter()
        try:
            load_rig(path)
            outcomes["loaded"] += 1
        except RigFormatError as exc:
            outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
        except Exception as exc:  # noqa: BLE001 - the fuzzer's whole point: anything else is a bug
            unexpected.append({"case": case, "error": f"{type(exc).__name__}: {str(exc)[:200]}"})
        seconds = time.perf_counter() - t
        if seconds > slowest[0]:
            slowest = (seconds, case)
    return {
        "cases": cases,
        "seed": seed,
        "outcomes": outcomes,
        "unexpected": unexpected,
        "slowest_case_s": round(slowest[0], 3),
        "slowest_case": slowest[1],
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--cases N --seed S [--progress FILE]``; prints the JSON report."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=2500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--progress", type=Path, help="file that always holds the case being loaded (to name a hang)")
    args = p.parse_args(argv)
    import logging

    logging.disable(logging.WARNING)  # readers warn about skipped parts of mutated files: expected noise
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        report = run(args.cases, args.seed, Path(folder), args.progress)
    report["total_s"] = round(time.perf_counter() - t, 1)
    print(json.dumps(report))
    return 0 if not report["unexpected"] else 1


if __name__ == "__main__":
    sys.exit(main())
