"""The briefing as a one- or two-page US-letter PDF, built on the server with fpdf2.

Charts are drawn to PNG by kaleido, which drives the system's Chromium. The
browser starts only when a PDF with charts is first asked for, and then stays
up for the life of the process (about 2 s to start, a fraction of a second per
chart after that). Text stays selectable; each chart carries its alt text in
the PDF's structure tree, and the document declares its title and language.

Fonts: Liberation Sans (metric-compatible with Arial) or DejaVu Sans from the
system when present, for full Unicode; otherwise the PDF core font Helvetica,
which covers Latin-1 only, and the text goes through `latin1_safe` first.
"""

from __future__ import annotations

import concurrent.futures
import io
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from briefing.content import SYNTHETIC_EXPLANATION, SYNTHETIC_MARK, Briefing, BriefingChart
from ui import theme

# US letter, in millimetres.
PAGE_WIDTH, PAGE_HEIGHT = 215.9, 279.4
MARGIN = 16.0
TOP = 17.0
FOOTER_HEIGHT = 17.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
MAX_PAGES = 2
# Text sizes are tried at these scales until the briefing fits on MAX_PAGES.
FIT_SCALES = (1.0, 0.94, 0.88, 0.82, 0.76)

# Charts are drawn at 0.2 mm per CSS pixel, so the template's 15 px text prints
# at about 8.5 pt, and rasterised at 2.5x (about 320 dpi on paper).
MM_PER_PX = 0.2
RASTER_SCALE = 2.5
CHART_ASPECT = 0.36  # height / width of a chart image
RENDER_TIMEOUT_S = 120.0

_FONT_FAMILIES = (
    (
        "LiberationSans",
        "/usr/share/fonts/truetype/liberation",
        ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf", "LiberationSans-Italic.ttf"),
    ),
    (
        "DejaVuSans",
        "/usr/share/fonts/truetype/dejavu",
        ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"),
    ),
)
CORE_FONT = "helvetica"

_LATIN1_REPLACEMENTS = {
    "\u2013": "-",
    "\u2014": " - ",
    "\u2212": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u2022": "-",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2248": "~",
    "\u00a0": " ",
    "\u202f": " ",
}


class BriefingTooLong(ValueError):
    """The briefing does not fit on two pages even at the smallest text size."""


class _Overflow(Exception):
    """Raised inside a layout attempt that needs more than MAX_PAGES pages."""


class ChartRenderingError(RuntimeError):
    """A chart could not be drawn to an image (no browser, or the browser failed)."""


def latin1_safe(text: str) -> str:
    """Text the PDF core fonts can show: typographic marks to ASCII, accents kept where
    Latin-1 has them, anything else reduced to its base letter or "?"."""
    for original, replacement in _LATIN1_REPLACEMENTS.items():
        text = text.replace(original, replacement)
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


@dataclass(frozen=True)
class _Fonts:
    family: str
    unicode: bool


def _register_fonts(pdf: FPDF, embed: bool) -> _Fonts:
    """The best installed sans-serif with Unicode coverage, else (or when not embedding)
    Helvetica."""
    if not embed:
        return _Fonts(CORE_FONT, unicode=False)
    found: list[tuple[str, list[Path]]] = []
    for family, directory, files in _FONT_FAMILIES:
        paths = [Path(directory) / name for name in files]
        if all(p.is_file() for p in paths):
            found.append((family, paths))
    if not found:
        return _Fonts(CORE_FONT, unicode=False)
    for family, (regular, bold, italic) in found:
        pdf.add_font(family, "", str(regular))
        pdf.add_font(family, "B", str(bold))
        pdf.add_font(family, "I", str(italic))
    if len(found) > 1:
        # DejaVu covers characters Liberation lacks (arrows, some symbols).
        pdf.set_fallback_fonts([f for f, _ in found[1:]], exact_match=False)
    return _Fonts(found[0][0], unicode=True)


def _rgb(hex_color: str) -> tuple[int, int, int]:
    value = hex_color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


TEXT = _rgb(theme.TEXT)
MUTED = _rgb(theme.MUTED_TEXT)
PRIMARY = _rgb(theme.PRIMARY)
CARD_FILL = _rgb(theme.SECONDARY_BACKGROUND)
RULE = _rgb(theme.GRID)
SYNTHETIC_FILL = (255, 236, 179)  # pale amber; the text on it is near-black (16:1)


# ------------------------------------------------------------------ chart images

_render_lock = threading.Lock()
_render_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _browser_path() -> str | None:
    from choreographer.utils import get_browser_path

    return get_browser_path(["chromium", "chromium-browser", "google-chrome", "chrome"])


def _image_pool() -> concurrent.futures.ThreadPoolExecutor:
    """One worker that owns kaleido's browser; started on first use only."""
    global _render_pool
    with _render_lock:
        if _render_pool is None:
            if _browser_path() is None:
                raise ChartRenderingError(
                    "Charts for the briefing PDF need Chromium: install it (Debian: apt-get "
                    "install chromium) or set BROWSER_PATH to a Chrome or Chromium binary."
                )
            import kaleido

            # One browser for the process: later charts skip the ~2 s start-up.
            kaleido.start_sync_server(silence_warnings=True, mathjax=False, timeout=90)
            # kaleido's server takes one request at a time; a single worker queues them.
            _render_pool = concurrent.futures.ThreadPoolExecutor(1, "briefing-charts")
        return _render_pool


def chart_png(figure: go.Figure, *, width_mm: float, height_mm: float) -> bytes:
    """The figure as PNG bytes sized for width_mm x height_mm on paper, without its title
    (the PDF prints the title as text). The caller's figure is not changed."""
    import kaleido

    printable = go.Figure(figure)
    printable.update_layout(title_text="", margin={"t": 12, "l": 8, "r": 16, "b": 8})
    width_px, height_px = round(width_mm / MM_PER_PX), round(height_mm / MM_PER_PX)
    # Straight to kaleido rather than plotly.io.to_image, which passes per-call
    # options the long-lived server ignores (and warns about).
    opts = {"format": "png", "width": width_px, "height": height_px, "scale": RASTER_SCALE}
    future = _image_pool().submit(kaleido.calc_fig_sync, printable.to_dict(), opts=opts)
    try:
        return future.result(timeout=RENDER_TIMEOUT_S)
    except concurrent.futures.TimeoutError as error:
        raise ChartRenderingError(
            f"drawing a chart took longer than {RENDER_TIMEOUT_S:.0f} s; is Chromium working?"
        ) from error
    except Exception as error:  # kaleido raises several types; say what failed
        raise ChartRenderingError(f"drawing a chart failed: {error}") from error


# ------------------------------------------------------------------ the document


class _BriefingPDF(FPDF):
    def __init__(self, briefing: Briefing, scale: float, embed_fonts: bool) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self.briefing = briefing
        self.scale = scale
        self.face = _register_fonts(self, embed_fonts)
        self.set_margins(MARGIN, TOP, MARGIN)
        self.set_auto_page_break(True, margin=FOOTER_HEIGHT + 4)
        self.alias_nb_pages()

    def add_page(self, *args, **kwargs) -> None:
        # Stop laying out as soon as a third page is needed: the caller retries smaller.
        if self.page >= MAX_PAGES:
            raise _Overflow
        super().add_page(*args, **kwargs)

    # Every string passes through here, so the core-font fallback never meets a
    # character it cannot encode.
    def text_for(self, text: str) -> str:
        return text if self.face.unicode else latin1_safe(text)

    def font(self, size: float, style: str = "", color: tuple[int, int, int] = TEXT) -> None:
        self.set_font(self.face.family, style, size * self.scale)
        self.set_text_color(*color)

    def line_height(self, size: float) -> float:
        # 1.35 x the type size, in mm (1 pt = 0.3528 mm).
        return size * self.scale * 0.3528 * 1.35

    def header(self) -> None:
        if self.briefing.synthetic:
            self.set_fill_color(*SYNTHETIC_FILL)
            self.rect(0, 0, PAGE_WIDTH, 10, style="F")
            self.set_xy(MARGIN, 2.2)
            self.set_font(self.face.family, "B", 10)
            self.set_text_color(*TEXT)
            self.cell(
                CONTENT_WIDTH,
                5.6,
                self.text_for(f"{SYNTHETIC_MARK}  -  {SYNTHETIC_EXPLANATION}"),
                align="C",
            )
        if self.page_no() > 1:
            # A running title, so a page that gets separated still says what it is.
            self.set_xy(MARGIN, 11.2)
            self.set_font(self.face.family, "", 7.5)
            self.set_text_color(*MUTED)
            self.cell(CONTENT_WIDTH, 3.8, self.text_for(f"{self.briefing.title} (continued)"))
        self.set_xy(MARGIN, TOP)

    def footer(self) -> None:
        b = self.briefing
        self.set_y(-FOOTER_HEIGHT)
        self.set_draw_color(*RULE)
        self.set_line_width(0.3)
        self.line(MARGIN, self.get_y(), PAGE_WIDTH - MARGIN, self.get_y())
        self.ln(1.5)
        self.set_font(self.face.family, "", 7.5)
        self.set_text_color(*MUTED)
        left = f"Data through {b.as_of_text}  |  Release {b.release_id}"
        if b.synthetic:
            left += f"  |  {SYNTHETIC_MARK}"
        self.cell(CONTENT_WIDTH * 0.8, 3.8, self.text_for(left))
        self.cell(
            CONTENT_WIDTH * 0.2,
            3.8,
            f"Page {self.page_no()} of {{nb}}",
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        lead_in = "This view on the dashboard: "
        self.cell(self.get_string_width(lead_in), 3.8, lead_in)
        self.set_text_color(*PRIMARY)
        self.set_font(self.face.family, "U", 7.5)
        shown = _shorten(self, b.dashboard_url, CONTENT_WIDTH - self.get_string_width(lead_in))
        self.cell(self.get_string_width(shown) + 1, 3.8, self.text_for(shown), link=b.dashboard_url)

    # -------------------------------------------------------------- blocks

    def paragraph(self, text: str, size: float, color=TEXT, style: str = "") -> None:
        self.font(size, style, color)
        self.multi_cell(
            CONTENT_WIDTH,
            self.line_height(size),
            self.text_for(text),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def heading(self, text: str) -> None:
        size = 11.5
        # Keep a heading with at least two lines of its paragraph.
        if self.will_page_break(self.line_height(size) + 2 * self.line_height(9.5) + 3):
            self.add_page()
        self.ln(2.2 * self.scale)
        self.font(size, "B", PRIMARY)
        self.cell(CONTENT_WIDTH, self.line_height(size), self.text_for(text))
        self.ln(self.line_height(size) + 0.6)

    def measure(self, width: float, text: str, size: float, style: str = "") -> float:
        self.font(size, style)
        return self.multi_cell(
            width,
            self.line_height(size),
            self.text_for(text),
            dry_run=True,
            output=MethodReturnValue.HEIGHT,
        )


def _shorten(pdf: FPDF, text: str, width: float) -> str:
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text + "..."


def _title_block(pdf: _BriefingPDF) -> None:
    b = pdf.briefing
    pdf.font(20, "B")
    pdf.multi_cell(
        CONTENT_WIDTH,
        pdf.line_height(20),
        pdf.text_for(f"LEAD briefing: {b.site_name}"),
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    period = b.period_label + (f" ({b.period_detail})" if b.period_detail else "")
    pdf.paragraph(period, 13)
    pdf.ln(0.8)
    pdf.paragraph(
        "Law Enforcement Assisted Diversion: headline figures for elected officials. "
        f"Data through {b.as_of_text}; release {b.release_id}.",
        8.5,
        MUTED,
    )
    pdf.ln(1)
    pdf.set_draw_color(*PRIMARY)
    pdf.set_line_width(0.8)
    pdf.line(MARGIN, pdf.get_y(), PAGE_WIDTH - MARGIN, pdf.get_y())
    pdf.ln(3.5 * pdf.scale)


def _columns(count: int) -> int:
    return {1: 1, 2: 2, 4: 2}.get(count, 3)


def _headline_cards(pdf: _BriefingPDF) -> None:
    items = pdf.briefing.headlines
    columns = _columns(len(items))
    gap, pad = 3.5, 2.8
    width = (CONTENT_WIDTH - gap * (columns - 1)) / columns
    inner = width - 2 * pad
    sizes = {"label": 8.5, "value": 19.0, "sentence": 8.5, "definition": 7.0}
    for start in range(0, len(items), columns):
        row = items[start : start + columns]
        heights = []
        for item in row:
            height = (
                pdf.measure(inner, item.label.upper(), sizes["label"], "B")
                + pdf.line_height(sizes["value"])
                + pdf.measure(inner, item.sentence, sizes["sentence"])
            )
            note = _card_note(item)
            if note:
                height += 1 + pdf.measure(inner, note, sizes["definition"], "I")
            heights.append(height + 2 * pad)
        row_height = max(heights)
        if pdf.will_page_break(row_height):
            pdf.add_page()
        top = pdf.get_y()
        for index, item in enumerate(row):
            left = MARGIN + index * (width + gap)
            pdf.set_fill_color(*CARD_FILL)
            pdf.rect(left, top, width, row_height, style="F")
            pdf.set_fill_color(*PRIMARY)
            pdf.rect(left, top, 1.2, row_height, style="F")  # a left rule marks each card
            pdf.set_xy(left + pad, top + pad)
            for text, size, style, color in (
                (item.label.upper(), sizes["label"], "B", MUTED),
                (item.value_text, sizes["value"], "B", TEXT),
                (item.sentence, sizes["sentence"], "", TEXT),
            ):
                pdf.font(size, style, color)
                pdf.multi_cell(
                    inner,
                    pdf.line_height(size),
                    pdf.text_for(text),
                    align="L",
                    new_x=XPos.LEFT,
                    new_y=YPos.NEXT,
                )
            note = _card_note(item)
            if note:
                pdf.set_y(pdf.get_y() + 1)
                pdf.set_x(left + pad)
                pdf.font(sizes["definition"], "I", MUTED)
                pdf.multi_cell(
                    inner,
                    pdf.line_height(sizes["definition"]),
                    pdf.text_for(note),
                    align="L",
                    new_x=XPos.LEFT,
                    new_y=YPos.NEXT,
                )
        pdf.set_xy(MARGIN, top + row_height + gap)


def _card_note(item) -> str:
    return " ".join(part for part in (item.definition, item.denominator_text) if part)


def _section(pdf: _BriefingPDF, title: str, text: str) -> None:
    pdf.heading(title)
    pdf.paragraph(text, 9.5)


def _charts(pdf: _BriefingPDF, images: list[tuple[BriefingChart, bytes, float, float]]) -> None:
    """Each chart full width with its title above and caption below, kept on one page."""
    title_size, caption_size = 10.0, 7.5
    for chart, png, width, height in images:
        title_h = pdf.measure(CONTENT_WIDTH, chart.title, title_size, "B")
        caption_h = pdf.measure(CONTENT_WIDTH, chart.caption, caption_size) if chart.caption else 0
        drawn_h = height * pdf.scale
        drawn_w = width * pdf.scale
        if pdf.will_page_break(4 + title_h + 1 + drawn_h + 1 + caption_h):
            pdf.add_page()
        else:
            pdf.ln(4)
        pdf.font(title_size, "B")
        pdf.multi_cell(
            CONTENT_WIDTH,
            pdf.line_height(title_size),
            pdf.text_for(chart.title),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        top = pdf.get_y() + 1
        pdf.image(
            io.BytesIO(png),
            x=MARGIN,
            y=top,
            w=drawn_w,
            h=drawn_h,
            alt_text=pdf.text_for(chart.alt_text),
            title=pdf.text_for(chart.title),
        )
        pdf.set_xy(MARGIN, top + drawn_h + 1)
        if chart.caption:
            pdf.paragraph(chart.caption, caption_size, MUTED)


def _footnotes(pdf: _BriefingPDF) -> None:
    b = pdf.briefing
    size = 7.5
    needed = pdf.measure(CONTENT_WIDTH, b.methods_note, size) + pdf.measure(
        CONTENT_WIDTH, b.privacy_note, size
    )
    if pdf.will_page_break(needed + 6):
        pdf.add_page()
    pdf.ln(3)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.3)
    pdf.line(MARGIN, pdf.get_y(), PAGE_WIDTH - MARGIN, pdf.get_y())
    pdf.ln(1.5)
    pdf.paragraph(b.methods_note, size, MUTED)
    pdf.ln(0.8)
    pdf.paragraph(b.privacy_note, size, MUTED)


def _chart_size() -> tuple[float, float]:
    """Width and height in mm at which each chart is drawn: full width, wide and short."""
    return CONTENT_WIDTH, CONTENT_WIDTH * CHART_ASPECT


def _build(
    briefing: Briefing,
    scale: float,
    images: list[tuple[BriefingChart, bytes, float, float]],
    embed_fonts: bool,
) -> _BriefingPDF:
    pdf = _BriefingPDF(briefing, scale, embed_fonts)
    pdf.set_title(briefing.title)
    pdf.set_lang("en-US")
    pdf.set_subject(
        f"Law Enforcement Assisted Diversion (LEAD): headline figures, re-arrest, disparities "
        f"and costs for {briefing.site_name}, {briefing.period_label}"
        + (" (synthetic demonstration data)" if briefing.synthetic else "")
    )
    pdf.set_author(briefing.site_name)
    pdf.set_creator("LEAD dashboard briefing")
    pdf.set_keywords(
        "LEAD; diversion; briefing; "
        + ("synthetic demonstration data" if briefing.synthetic else "")
    )
    pdf.add_page()
    _title_block(pdf)
    _headline_cards(pdf)
    _section(pdf, "Re-arrest: LEAD against the comparison group", briefing.recidivism)
    _section(pdf, "Disparities", briefing.disparity)
    _section(pdf, "Costs", briefing.cost)
    _charts(pdf, images)
    _footnotes(pdf)
    return pdf


def render_pdf(briefing: Briefing, *, embed_fonts: bool = True) -> bytes:
    """The briefing as PDF bytes: US letter, at most two pages, text selectable.

    embed_fonts: embed a Unicode TTF found on the system (the default); False uses the
    PDF core font Helvetica (smaller file, Latin-1 only: text is transliterated).

    Charts are drawn first (this starts Chromium on the first call in a process);
    the layout is then tried at slightly smaller text until it fits two pages.
    Raises BriefingTooLong if it never does, ChartRenderingError if a chart
    cannot be drawn.
    """
    if not isinstance(briefing, Briefing):
        raise TypeError(f"render_pdf needs a Briefing; got {type(briefing).__name__}")
    width, height = _chart_size()
    images = [
        (chart, chart_png(chart.figure, width_mm=width, height_mm=height), width, height)
        for chart in briefing.charts
    ]
    for scale in FIT_SCALES:
        try:
            pdf = _build(briefing, scale, images, embed_fonts)
        except _Overflow:
            continue
        return bytes(pdf.output())
    raise BriefingTooLong(
        f"the briefing for {briefing.site_name} needs more than {MAX_PAGES} pages even at "
        f"{FIT_SCALES[-1]:.0%} text size; shorten its paragraphs or notes"
    )


def browser_available() -> bool:
    """Whether charts can be drawn here (a Chrome or Chromium binary is on PATH or in
    BROWSER_PATH)."""
    return _browser_path() is not None
