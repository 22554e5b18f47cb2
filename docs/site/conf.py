"""Sphinx configuration of the course's static site.

Not built from here directly: ``python -m course_utils.maintainer.website`` (``make site``) copies
this folder into a staging folder, adds the generated pages (syllabus, lessons, assignments,
the instructor's guide) and runs Sphinx there. Everything a page loads is served from the
site itself: the theme's assets come with its pip package, MathJax is copied from the
``django-static-mathjax`` pip package, and the Colab badge is a local image. Notebooks are
never executed here (``nb_execution_mode = "off"``): their outputs come from the runner.
"""

import importlib.util
import shutil
from pathlib import Path

project = "ConvNet Classics"
author = "the ConvNet Classics authors"
copyright = "the ConvNet Classics authors, MIT licence"

extensions = ["myst_nb", "sphinx.ext.mathjax"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "_generated"]  # _generated: included
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

# MyST: $...$ and $$...$$ as in Jupyter, "#anchor" links to headings.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# myst-nb: show the stored outputs, never execute; no widget scripts from a CDN.
nb_execution_mode = "off"
nb_output_stderr = "remove"  # TensorFlow's start-up log lines, not the lesson's output
nb_merge_streams = True
nb_ipywidgets_js = {}

# MathJax 3, served from _static/mathjax (copied at the end of the build, below).
mathjax_path = "mathjax/tex-mml-chtml.js"

html_theme = "sphinx_book_theme"
html_title = "ConvNet Classics"
html_static_path = ["_static"]
html_theme_options = {
    "repository_url": "https://github.com/convnet-classics/convnet-classics",
    "use_repository_button": True,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "show_toc_level": 2,
}
# The theme's light/dark switch needs a start value, or its script logs an error.
html_context = {"default_mode": "auto"}
html_favicon = "_static/favicon.svg"  # else browsers ask for /favicon.ico, a 404
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False

# The MathJax files a page may load: the combined TeX component and what it loads on demand
# (extensions, fonts, the accessibility menu). The other combined bundles are left out.
MATHJAX_PARTS = ("tex-mml-chtml.js", "a11y", "adaptors", "input", "output", "sre", "ui")


def mathjax_source() -> Path:
    """The ``es5`` folder of MathJax 3 inside the ``django-static-mathjax`` package."""
    spec = importlib.util.find_spec("mathjax")
    folder = Path(spec.origin).parent / "static" / "mathjax" / "es5" if spec else None
    if folder is None or not (folder / "tex-mml-chtml.js").is_file():
        raise RuntimeError(
            "MathJax 3 was not found: the site serves it itself (no CDN). "
            "Hint: pip install the `site` extra (django-static-mathjax).")
    return folder


def copy_mathjax(app, exception):
    """After an HTML build, copy MathJax into ``_static/mathjax`` unless it is there."""
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        src, dst = source / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif not dst.exists() or dst.stat().st_size != src.stat().st_size:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def setup(app):
    mathjax_source()  # fail before the build rather than ship pages without maths
    app.connect("build-finished", copy_mathjax)
