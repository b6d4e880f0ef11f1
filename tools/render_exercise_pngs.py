"""Render every exercise SVG in static/exercises/ to a PNG in static/exercises/png/.

Mail apps (Gmail, Outlook) do not show SVG images, so the emailed plan links
PNGs. Run after changing the drawings:

    .venv/bin/python tools/render_exercise_pngs.py
"""

from __future__ import annotations

import base64
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "static" / "exercises"
TARGET = SOURCE / "png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    TARGET.mkdir(exist_ok=True)
    svgs = sorted(SOURCE.glob("*.svg"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        # 2x for sharp pictures on phones; the email shows them 128 px wide.
        page = browser.new_page(viewport={"width": 320, "height": 200}, device_scale_factor=2)
        for svg in svgs:
            page.set_content(
                "<html><body style='margin:0;background:#fff'>"
                f"<img src='data:image/svg+xml;base64,{_b64(svg)}' width='320' height='200'>"
                "</body></html>"
            )
            page.screenshot(
                path=str(TARGET / f"{svg.stem}.png"),
                clip={"x": 0, "y": 0, "width": 320, "height": 200},
            )
        browser.close()
    print(f"Rendered {len(svgs)} pictures into {TARGET.relative_to(ROOT)}")


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


if __name__ == "__main__":
    main()
