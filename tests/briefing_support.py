"""Helpers for the briefing tests: PDF text and page counts through poppler, skips that say why."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from briefing.pdf import browser_available

REQUIRE = os.environ.get("LEAD_REQUIRE_BROWSER") == "1"


def require(available: bool, what: str) -> None:
    if available:
        return
    if REQUIRE:
        pytest.fail(f"{what} is required (LEAD_REQUIRE_BROWSER=1) but not installed")
    pytest.skip(f"{what} is not installed; CI installs it (.ci/run)")


def require_pdf_tools() -> None:
    """Chromium draws the charts; pdftotext and pdfinfo read the result."""
    require(browser_available(), "Chromium (for kaleido)")
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    require(shutil.which("pdfinfo") is not None, "pdfinfo (poppler-utils)")


def pdf_text(data: bytes) -> str:
    """pdftotext in content order (-raw), whitespace collapsed so wrapped sentences match."""
    out = subprocess.run(
        ["pdftotext", "-raw", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    return " ".join(out.split())


def pdf_pages(data: bytes) -> int:
    out = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True)
    for line in out.stdout.decode().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Pages":
            return int(value)
    raise AssertionError("pdfinfo reported no page count")


def unescape(text: str) -> str:
    """Streamlit markdown as a reader sees it: the page escapes every special character."""
    out, skip = [], False
    for index, char in enumerate(text):
        if skip:
            out.append(char)
            skip = False
        elif char == "\\" and index + 1 < len(text):
            skip = True
        else:
            out.append(char)
    return "".join(out)
