"""Helpers of the report tests: wave repositories (from the end-to-end kit), junit/HTML readers, PNG pixels."""

from __future__ import annotations

import struct
import sys
import xml.etree.ElementTree as ET
import zlib
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from e2ekit import (  # the end-to-end kit builds the same repositories
    LEAKY_ENV,
    WaveState,
    assert_no_traceback,
    make_repo,
    output,
    run_wave,
    wave_text,
)

__all__ = [
    "LEAKY_ENV",
    "PROPERTY_KEYS",
    "WaveState",
    "assert_no_traceback",
    "junit_cases",
    "make_repo",
    "output",
    "png_colors",
    "run_wave",
    "wave_text",
]

WAVE = "waves/wave-1.md"
FLAKY = "test -f out/a1/flag || (touch out/a1/flag; exit 1)"  # fails once, then passes
PROPERTY_KEYS = ("wave", "agent", "attempt", "role", "executor", "status", "markers", "log", "proof_digest")


def junit_cases(path: Path) -> dict[str, tuple[dict[str, str], list[str]]]:
    """Testcase name -> (its properties, the tags of its outcome elements)."""
    cases: dict[str, tuple[dict[str, str], list[str]]] = {}
    for case in ET.parse(path).iter("testcase"):
        props = {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        tags = [child.tag for child in case if child.tag != "properties"]
        cases[case.get("name", "")] = (props, tags)
    return cases


def run_with_faults(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, faults: str, *args: str
) -> pytest.RunResult:
    monkeypatch.setenv("WAVE_LOCAL_FAULTS", faults)
    return run_wave(pytester, WAVE, "-p", "no:cacheprovider", *args)


# --------------------------------------------------------------------------- PNG (no Pillow needed)


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> bytes:
    stride = width * bpp
    out = bytearray()
    prev = bytearray(stride)
    pos = 0
    for _ in range(height):
        kind = raw[pos]
        line = bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = prev[i]
            upleft = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else upleft)
                line[i] = (line[i] + pred) & 0xFF
        out += line
        prev = line
    return bytes(out)


def png_colors(path: Path) -> Counter[tuple[int, int, int]]:
    """How many pixels of each RGB colour an 8-bit RGB/RGBA PNG (what Chromium writes) has."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat = 8, b""
    width = height = color_type = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color_type in (2, 6) and interlace == 0, "unexpected PNG format"
        elif kind == b"IDAT":
            idat += body
    bpp = 4 if color_type == 6 else 3
    pixels = _unfilter(zlib.decompress(idat), width, height, bpp)
    return Counter((pixels[i], pixels[i + 1], pixels[i + 2]) for i in range(0, len(pixels), bpp))
