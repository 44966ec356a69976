"""Loads a report page in headless Chromium: the page loads, every image loads and none is blank.

index.html sets data-images-ok / data-images-total on <body> once the page has loaded (a tiny
inline script); --dump-dom prints the DOM after that, so the browser itself says whether each
<img> decoded, and how wide the page and its widest table were laid out in a 1,280 px window:
neither may be wider than the window. The PNG files and a screenshot of the page are also decoded
here (stdlib) and must not be a single colour.
"""
import os
import re
import shutil
import subprocess
import tempfile

from . import pngcheck

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
         "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         "--hide-scrollbars", "--mute-audio"]
TIMEOUT_S = 90
WINDOW = (1280, 900)  # the window the report must fit without scrolling sideways
MIN_INK = 0.005  # a plot has axes, labels and lines: well over 0.5 % of its pixels are not background


class PageCheckError(Exception):
    pass


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _chromium(browser, args, profile):
    cmd = [browser] + FLAGS + [f"--user-data-dir={profile}"] + args
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT_S,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    except subprocess.TimeoutExpired:
        raise PageCheckError(f"chromium did not finish within {TIMEOUT_S} s: {' '.join(cmd)}")
    if out.returncode != 0:
        raise PageCheckError(f"chromium exited {out.returncode}: {out.stderr.decode(errors='replace')[-1500:]}")
    return out.stdout.decode("utf-8", "replace")


def check_png(path):
    ink, colours, size = pngcheck.ink_fraction(path)
    if colours < 2 or ink < MIN_INK:
        raise PageCheckError(f"{path} looks blank ({colours} colour(s), {100 * ink:.2f}% non-background pixels)")
    return ink


def check_page(index_html, browser=None):
    """Returns a one-line report; raises PageCheckError on the first problem."""
    browser = browser or find_chromium()
    if not browser:
        raise PageCheckError("chromium is not installed (Debian: apt-get install chromium)")
    index_html = os.path.abspath(index_html)
    if not os.path.isfile(index_html):
        raise PageCheckError(f"{index_html} does not exist")
    with open(index_html, encoding="utf-8") as f:
        page = f.read()
    sources = re.findall(r'<img[^>]*\ssrc="([^"]+)"', page)
    if not sources:
        raise PageCheckError(f"{index_html} has no images")
    base = os.path.dirname(index_html)
    for src in sources:
        path = os.path.join(base, src)
        if not os.path.isfile(path):
            raise PageCheckError(f"image {src} referenced by the page does not exist")
        if path.endswith(".png"):
            check_png(path)
    url = "file://" + index_html
    with tempfile.TemporaryDirectory(prefix="c10k-chromium-") as profile:
        dom = _chromium(browser, [f"--window-size={WINDOW[0]},{WINDOW[1]}", "--virtual-time-budget=10000",
                                  "--dump-dom", url], profile)
        m_total = re.search(r'data-images-total="(\d+)"', dom)
        m_ok = re.search(r'data-images-ok="(\d+)"', dom)
        if not m_total or not m_ok:
            raise PageCheckError("the page did not finish loading in chromium (no data-images-ok on <body>)")
        total, ok = int(m_total.group(1)), int(m_ok.group(1))
        if total != len(sources) or ok != total:
            raise PageCheckError(f"chromium loaded {ok} of {total} images ({len(sources)} in the page source)")
        widths = {}
        for key in ("window-width", "page-width", "widest-table"):
            m = re.search(rf'data-{key}="(\d+)"', dom)
            if not m:
                raise PageCheckError(f"the page did not report its data-{key} (no layout check in its script)")
            widths[key] = int(m.group(1))
        if widths["window-width"] != WINDOW[0]:
            raise PageCheckError(f"chromium laid the page out {widths['window-width']} px wide, not {WINDOW[0]}")
        if max(widths["page-width"], widths["widest-table"]) > WINDOW[0]:
            raise PageCheckError(f"the page is wider than a {WINDOW[0]} px window: page {widths['page-width']} px, "
                                 f"widest table {widths['widest-table']} px")
        shot = os.path.join(profile, "page.png")
        _chromium(browser, [f"--window-size={WINDOW[0]},2000", f"--screenshot={shot}", url], profile)
        if not os.path.isfile(shot):
            raise PageCheckError("chromium wrote no screenshot")
        ink = check_png(shot)
    return (f"{index_html}: chromium loaded {ok}/{total} images, every PNG non-blank, fits {WINDOW[0]} px "
            f"(widest table {widths['widest-table']} px), screenshot {100 * ink:.1f}% ink")
