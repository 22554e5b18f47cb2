"""The course's static site: the generators of ``course_utils.maintainer.website`` (always
run, no browser), and the built site (``make site``) in headless Chromium driven by Selenium
(``make site-check``): every page loads without console errors and asks nothing of any host
but the site's, every lesson shows its figures, every internal link resolves, and the
search finds networks by name.

The browser tests need ``build/site`` (or ``$COURSE_SITE_DIR``), Debian's ``chromium`` and
``chromium-driver``, and Selenium; without them they skip, unless ``COURSE_REQUIRE_SITE=1``
(``make site-check``), where they fail.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import runpy
import shutil
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import nbformat
import pytest

from course_utils.maintainer import colab, website

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


# --- The generators, without a browser ----------------------------------------------------


def test_readme_section_reads_one_section_and_names_a_missing_one():
    syllabus = website.readme_section(README, "Syllabus")
    assert syllabus.startswith("| notebook |"), syllabus[:200]
    assert not re.search(r"^## ", syllabus, re.M), "the section ran into the next one"
    assert "| assignment |" not in syllabus, "the section ran into the assignments' one"
    with pytest.raises(website.SiteError, match=r"no section `## Nowhere`.*Hint"):
        website.readme_section(README, "Nowhere")


def test_the_syllabus_table_has_one_row_per_lesson():
    rows = website.markdown_table(website.readme_section(README, "Syllabus"))
    lessons = [p.name for p in colab.notebook_paths()]
    linked = [re.search(r"\(notebooks/([^)]+)\)", row["notebook"]).group(1) for row in rows]
    assert linked == lessons, (f"the README's syllabus rows link {linked}, the lessons are "
                               f"{lessons}: the syllabus page is generated from those rows")
    assert all(row["what it shows"] for row in rows)


@pytest.mark.parametrize("target, depth, expected", [
    ("notebooks/08_resnet.ipynb", 0, "lessons/08_resnet.ipynb"),
    ("notebooks/08_resnet.ipynb", 1, "../lessons/08_resnet.ipynb"),
    ("assignments/a3/a3.ipynb", 0, "assignments/a3.md"),
    ("docs/grading.md", 0, "grading.md"),
    (colab.BADGE_IMAGE, 0, website.LOCAL_BADGE),
    ("https://keras.io/", 0, "https://keras.io/"),
    ("#profiles", 0, "#profiles"),
    ("LICENSE", 0, f"{colab.REPOSITORY}/blob/{colab.BRANCH}/LICENSE"),
    ("solutions/a1/a1.ipynb", 0, f"{colab.REPOSITORY}/blob/{colab.BRANCH}/solutions/a1/a1.ipynb"),
])
def test_site_target_maps_repository_paths_to_pages(target, depth, expected):
    assert website.site_target(target, depth=depth) == expected


def test_a_lesson_left_out_of_a_preview_links_to_github():
    got = website.site_target("notebooks/08_resnet.ipynb", lessons={"00_setup.ipynb"})
    assert got == f"{colab.REPOSITORY}/blob/{colab.BRANCH}/notebooks/08_resnet.ipynb"


def test_the_syllabus_page_links_every_lesson_and_loads_no_remote_badge():
    page = website.syllabus_page(README)
    for path in colab.notebook_paths():
        assert f"](lessons/{path.name})" in page, f"the syllabus does not link {path.name}"
        assert colab.colab_url(f"notebooks/{path.name}") in page, f"no Colab badge for {path.name}"
    assert colab.BADGE_IMAGE not in page, "a badge image would be fetched from Colab's site"
    left = re.findall(r"\]\(((?:notebooks|assignments|docs)/[^)]*\.(?:ipynb|md))\)", page)
    left = [target for target in left if not re.fullmatch(r"assignments/a\d+\.md", target)]
    assert not left, f"README links left pointing at repository paths: {left}"
    for _, title in website.SYLLABUS_SECTIONS:
        assert f"\n## {title}\n" in page
    for row in website.markdown_table(website.readme_section(README, "Syllabus")):
        assert row["what it shows"] in page, f"a syllabus row was lost: {row['notebook']}"


def test_an_assignment_page_has_title_badge_points_and_parts():
    row = {"what students build": "a thing, see [the guide](docs/grading.md)", "points": "100"}
    page = website.assignment_page(ROOT / "assignments" / "a1" / "a1.ipynb", row=row)
    assert re.search(r"^# Assignment 1 · ", page, re.M), page[:400]
    assert f"]({website.LOCAL_BADGE})" in page and colab.BADGE_IMAGE not in page
    assert colab.colab_url("assignments/a1/a1.ipynb") in page
    assert "**Points:** 100" in page
    assert "[the guide](../grading.md)" in page, "a link in the row was not made relative"
    assert "- Part 1 · Formulas" in page and "- Part 2 · LeNet-5 (55 points)" in page


def test_an_assignment_page_needs_a_title(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("no title here")])
    nbformat.write(nb, tmp_path / "a9.ipynb")
    with pytest.raises(website.SiteError, match=r"a9.ipynb: the first markdown cell"):
        website.assignment_page(tmp_path / "a9.ipynb")


def test_a_lesson_page_serves_its_badge_and_leaves_out_the_colab_setup():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(colab.badge("notebooks/00_x.ipynb") + "\n\n# 00 · X"),
        nbformat.v4.new_code_cell(colab.setup_cell_source()),
        nbformat.v4.new_code_cell("print(1)")])
    prepared = website.prepare_lesson(nb)
    source = prepared.cells[0].source
    assert colab.BADGE_IMAGE not in source and f"]({website.LOCAL_BADGE})" in source
    assert colab.colab_url("notebooks/00_x.ipynb") in source, "the badge no longer opens Colab"
    assert prepared.cells[1].metadata.get("tags") == ["remove-cell"]
    assert "tags" not in prepared.cells[2].metadata, "a lesson's own cell was hidden"


def _notebook(*sources):
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# 99 · A test lesson")]
        + [nbformat.v4.new_code_cell(s) for s in sources],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})


def test_executed_state_tells_usable_runs_from_the_others(tmp_path):
    source = tmp_path / "99_x.ipynb"
    nbformat.write(_notebook("1 + 1"), source)
    executed = tmp_path / "run" / "99_x.ipynb"
    assert website.executed_state(executed, source) == "missing"
    executed.parent.mkdir()
    ran = _notebook("1 + 1")
    ran.cells[1].execution_count = 1
    nbformat.write(ran, executed)
    assert website.executed_state(executed, source) == "ok"
    ran.cells[1].outputs = [nbformat.v4.new_output("error", ename="E", evalue="", traceback=[])]
    nbformat.write(ran, executed)
    assert website.executed_state(executed, source) == "incomplete"
    ran.cells[1].outputs, ran.cells[1].execution_count = [], None
    nbformat.write(ran, executed)
    assert website.executed_state(executed, source) == "incomplete"
    nbformat.write(_notebook("1 + 2"), source)
    assert website.executed_state(executed, source) == "stale"
    plan = website.plan_notebooks([source], tmp_path / "run")
    assert plan.ready == [] and plan.to_run == [(source, "stale")]


def test_execute_missing_keeps_good_runs_and_names_the_failed_notebook(tmp_path):
    good, bad = tmp_path / "98_good.ipynb", tmp_path / "99_bad.ipynb"
    nbformat.write(_notebook("print(6 * 7)"), good)
    nbformat.write(_notebook("raise ValueError('broken on purpose')"), bad)
    out = tmp_path / "executed"
    with pytest.raises(website.SiteError) as info:
        website.execute_missing([good, (bad, "missing")], out, profile="smoke",
                                     timeout=120, log=lambda *_: None)
    message = str(info.value)
    assert "99_bad.ipynb" in message and "broken on purpose" in message, message
    assert "98_good" not in message.split("\n\n")[0], message
    assert "Hint" in message
    assert (out / "98_good.ipynb").is_file(), "the good run was not kept"
    assert not (out / "99_bad.ipynb").exists(), "a failed run must not look executed"
    ran = nbformat.read(out / "98_good.ipynb", as_version=4)
    assert ran.cells[1].outputs[0]["text"] == "42\n"
    assert website.executed_state(out / "98_good.ipynb", good) == "ok"


def test_stage_writes_the_generated_pages_and_removes_leftovers(tmp_path):
    lesson = tmp_path / "notebooks" / "99_x.ipynb"
    lesson.parent.mkdir()
    nb = _notebook("1 + 1")
    nb.cells[0].source = colab.badge("notebooks/99_x.ipynb") + "\n\n# 99 · X"
    nbformat.write(nb, lesson)
    executed = tmp_path / "executed"
    executed.mkdir()
    shutil.copy(lesson, executed / lesson.name)
    staging = tmp_path / "src"
    (staging / "lessons").mkdir(parents=True)
    (staging / "lessons" / "00_removed.ipynb").write_text("{}")
    website.stage(staging, executed_dir=executed, notebooks=[lesson], profile="smoke")
    assert (staging / "conf.py").read_text() == (ROOT / "docs/site/conf.py").read_text()
    assert not (staging / "lessons" / "00_removed.ipynb").exists(), "a leftover page was kept"
    staged = (staging / "lessons" / "99_x.ipynb").read_text()
    assert website.LOCAL_BADGE in staged and colab.BADGE_IMAGE not in staged
    assert "99_x" in (staging / "lessons" / "index.md").read_text()
    assert "`smoke`" in (staging / "_generated" / "profile.md").read_text()
    released = sorted(p.stem for p in (ROOT / "assignments").glob("*/*.ipynb"))
    assert sorted(p.stem for p in (staging / "assignments").glob("a*.md")) == released
    syllabus = (staging / "syllabus.md").read_text()
    assert "](lessons/99_x.ipynb)" not in syllabus  # not a lesson of this root's README
    assert f"{colab.REPOSITORY}/blob/{colab.BRANCH}/notebooks/08_resnet.ipynb" in syllabus, (
        "a lesson outside a preview should link to GitHub, not to a missing page")


def test_the_command_names_what_it_cannot_build(tmp_path, capsys):
    code = website.main(["--profile", "smoke", "--out", str(tmp_path / "site"),
                         str(tmp_path / "77_nowhere.ipynb")])
    assert code == 1, "a missing notebook must fail the build"
    err = capsys.readouterr().err
    assert "no such notebook" in err and "77_nowhere.ipynb" in err, err
    assert not (tmp_path / "site").exists(), "nothing should be built"


def test_the_site_config_never_executes_and_loads_nothing_remote():
    conf = runpy.run_path(str(ROOT / "docs" / "site" / "conf.py"))
    assert conf["nb_execution_mode"] == "off", "the site build must not execute notebooks"
    assert not re.match(r"https?:|//", conf["mathjax_path"]), (
        f"MathJax from {conf['mathjax_path']}: it must be served by the site (no CDN)")
    assert conf["nb_ipywidgets_js"] == {}, "widget scripts would come from a CDN"
    assert "analytics" not in json.dumps(conf["html_theme_options"])


# --- The built site in headless Chromium ----------------------------------------------------

SITE = Path(os.environ.get("COURSE_SITE_DIR", ROOT / "build" / "site"))
STAGED_LESSONS = SITE.with_name(SITE.name + "-work") / "src" / "lessons"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
REQUIRED = os.environ.get("COURSE_REQUIRE_SITE") == "1"
PAGES = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
               if not p.relative_to(SITE).parts[0].startswith("_")) if SITE.is_dir() else []
SEARCHES = ("ResNet", "MobileNet")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900")
NETWORK_SCHEMES = ("http", "https", "ws", "wss", "ftp")  # not data:, blob:, chrome:
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")


def _unavailable() -> str | None:
    if not (SITE / "index.html").is_file():
        return f"no built site at {SITE} (run `make site PROFILE=smoke`)"
    for binary, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(binary).is_file():
            return f"{binary} is missing (apt-get install -y {package})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[site]')"
    return None


def _require_site():
    reason = _unavailable()
    if reason and REQUIRED:
        pytest.fail(f"COURSE_REQUIRE_SITE=1 but {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    """The site served on a free local port, as a reader's browser would get it."""
    _require_site()
    handler = functools.partial(_Quiet, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(server):
    """Debian's Chromium through its chromedriver: no Selenium Manager, no download."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="course-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + (f"--user-data-dir={profile}",):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")  # given both paths it is not run; never online
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER),
                                  options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _drain(driver):
    """Console messages (level, text) and requested URLs since the last call."""
    console = [(e["level"], e["message"]) for e in driver.get_log("browser")]
    requested = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            requested.append(message["params"]["request"]["url"])
    return console, requested


SETTLE = """
const done = arguments[arguments.length - 1];
const started = () => window.MathJax && MathJax.startup && MathJax.startup.promise
    && typeof MathJax.startup.promise.then === 'function';
const until = (ready, ms) => new Promise((resolve, reject) => {
  const t0 = Date.now();
  (function poll() {
    if (ready()) resolve();
    else if (Date.now() - t0 > ms) reject(new Error(ready.name + ' not true after ' + ms + ' ms'));
    else setTimeout(poll, 50);
  })();
});
// chromedriver's get() has been seen to return before the new page was whole (a CI run
// counted 1 of a lesson's 6 figures): wait for this URL, fully parsed and loaded.
const wanted = arguments[0];
const loaded = () => location.href.split('#')[0] === wanted && document.readyState === 'complete';
let figures = [];
until(loaded, 15000)
    .then(() => document.querySelector('script[src*="mathjax/"]')
        ? until(started, 15000).then(() => MathJax.startup.promise) : null)
    .then(() => document.fonts.ready)
    .then(() => { figures = [...document.querySelectorAll('.cell_output img')]; })
    .then(() => until(() => figures.every(i => i.complete), 15000).catch(() => null))
    .then(() => {
  done({
    figures: figures.length,
    rendered: figures.filter(i => i.complete && i.naturalWidth > 0).length,
    links: [...new Set([...document.querySelectorAll('a[href]')].map(a => a.href))],
    maths: document.querySelectorAll('mjx-container').length,
  });
}).catch(e => done({error: String(e)}));
"""


@pytest.fixture(scope="module")
def visits(browser, server):
    """Every page of the site loaded once: what the console said, what was requested,
    the figures of its cell outputs and its links."""
    browser.get("about:blank")
    _drain(browser)  # the browser's own start-up requests
    found = {}
    for page in PAGES:
        browser.get(urljoin(server, page))
        state = browser.execute_async_script(SETTLE, urljoin(server, page))
        console, requested = _drain(browser)
        found[page] = dict(state, console=console, requested=requested)
    return found


def _page_or_skip(page):
    if page is None:
        _require_site()
        pytest.fail(f"{SITE} has no HTML pages")
    return page


PAGE_PARAMS = PAGES or [None]


@pytest.mark.parametrize("page", PAGE_PARAMS)
def test_page_loads_without_console_errors(page, visits):
    got = visits[_page_or_skip(page)]
    assert "error" not in got, f"{page}: the page never settled: {got.get('error')}"
    severe = [text for level, text in got["console"] if level == "SEVERE"]
    assert not severe, (f"{page}: the browser console reported errors (expected none):\n"
                        + "\n".join(severe) + "\nHint: a 404 names a file the build did "
                        "not copy; a script error names the script.")


@pytest.mark.parametrize("page", PAGE_PARAMS)
def test_page_requests_nothing_off_site(page, visits, server):
    got = visits[_page_or_skip(page)]
    here = urlsplit(server).netloc
    elsewhere = sorted({url for url in got["requested"]
                        if urlsplit(url).scheme in NETWORK_SCHEMES
                        and urlsplit(url).netloc != here})
    assert got["requested"], f"{page}: no request was recorded at all (the log is broken)"
    assert not elsewhere, (f"{page} requested {elsewhere} (expected only {here}): a reader "
                           "offline, or who wants no tracking, gets a broken page. Hint: serve "
                           "the file from _static (see docs/site/conf.py).")


def _image_outputs(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(1 for cell in nb.cells for out in cell.get("outputs", [])
               if any(kind in out.get("data", {}) for kind in IMAGE_TYPES))


class _OutputImages(HTMLParser):
    """Counts the ``<img>`` inside an element of class ``cell_output``."""

    def __init__(self):
        super().__init__()
        self.stack, self.count = [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.count += any(self.stack)
            return
        if tag not in ("br", "hr", "meta", "link", "input", "source", "wbr"):
            classes = (dict(attrs).get("class") or "").split()
            self.stack.append("cell_output" in classes)

    def handle_endtag(self, tag):
        if tag not in ("img", "br", "hr", "meta", "link", "input", "source", "wbr") and self.stack:
            self.stack.pop()


def _output_images(page: Path) -> int:
    parser = _OutputImages()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.count


LESSON_PAGES = [p for p in PAGES if re.fullmatch(r"lessons/\d\d_[\w-]+\.html", p)] or [None]


@pytest.mark.parametrize("page", LESSON_PAGES)
def test_lesson_page_shows_every_figure_of_its_notebook(page, visits):
    got = visits[_page_or_skip(page)]
    staged = STAGED_LESSONS / Path(page).with_suffix(".ipynb").name
    if not staged.is_file():
        pytest.fail(f"{page}: its executed notebook {staged} is gone; rebuild with `make site`")
    expected = _image_outputs(staged)
    built = _output_images(SITE / page)
    assert built == expected, (f"{page}: the built HTML has {built} <img> in its cell outputs, "
                               f"expected the notebook's {expected} image outputs. Hint: "
                               "rebuild with `make site`; a figure left out is a myst-nb "
                               "rendering problem, not the browser's")
    assert got["figures"] == expected, (f"{page}: {got['figures']} figures in the cell outputs "
                                        f"as the browser shows them, expected {expected} (the "
                                        "built HTML has them all)")
    assert got["rendered"] == expected, (f"{page}: {got['rendered']} of {expected} figures "
                                         "rendered (an <img> with naturalWidth > 0)")
    badge = colab.colab_url(f"notebooks/{Path(page).with_suffix('.ipynb').name}")
    assert badge in got["links"], f"{page}: no Colab badge linking {badge}"


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)


@functools.cache
def _anchors(path: Path) -> frozenset:
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8"))
    return frozenset(parser.ids)


@pytest.mark.parametrize("page", PAGE_PARAMS)
def test_every_internal_link_resolves(page, visits, server):
    got = visits[_page_or_skip(page)]
    broken = []
    for link in got["links"]:
        parts = urlsplit(link)
        if not link.startswith(server):
            continue
        target = SITE / unquote(parts.path[len(urlsplit(server).path):])
        if parts.path.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{link} (no file {target.relative_to(SITE)})")
        elif parts.fragment and target.suffix == ".html" and (
                unquote(parts.fragment) not in _anchors(target)):
            broken.append(f"{link} (no id {parts.fragment!r} in {target.relative_to(SITE)})")
    assert not broken, (f"{page} links to what the site does not have:\n" + "\n".join(broken)
                        + "\nHint: a link in a notebook or the README to a page or heading "
                        "that is not built.")


def test_the_maths_is_typeset(visits):
    """MathJax ran from the site itself: a page with TeX shows typeset maths."""
    if not PAGES:
        _require_site()
    with_tex = [p for p in PAGES if "\\(" in (SITE / p).read_text(encoding="utf-8")
                or "\\[" in (SITE / p).read_text(encoding="utf-8")]
    assert with_tex, "no page has maths to typeset; the check has nothing to check"
    untypeset = [p for p in with_tex if not visits[p]["maths"]]
    assert not untypeset, f"pages with TeX but no typeset maths (mjx-container): {untypeset}"


def _titles_with(word: str) -> set[str]:
    pattern = re.compile(rf"<title>[^<]*\b{re.escape(word)}\b", re.I)
    return {p for p in PAGES if pattern.search((SITE / p).read_text(encoding="utf-8"))}


@pytest.mark.parametrize("word", SEARCHES)
def test_the_search_finds_a_network_by_name(word, browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    _drain(browser)
    browser.get(urljoin(server, "search.html"))
    field = next((f for f in browser.find_elements(By.CSS_SELECTOR, "input[name='q']")
                  if f.is_displayed()), None)
    assert field is not None, "search.html has no visible search field"
    field.send_keys(word + Keys.ENTER)
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(
        "const s = document.querySelector('#search-results .search-summary');"
        "return s && /finished|did not match/i.test(s.innerText);"))
    found = {urlsplit(a.get_attribute("href")).path.lstrip("/")
             for a in browser.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a")}
    assert found, f"searching {word!r} found no page (expected at least the syllabus)"
    expected = _titles_with(word)
    assert expected <= found, (f"searching {word!r} found {sorted(found)}; expected every page "
                               f"with {word!r} in its title: {sorted(expected - found)} missing")
    if "lessons/08_resnet.html" in PAGES and word == "ResNet":
        assert "lessons/08_resnet.html" in found, f"the ResNet lesson was not found: {found}"
    severe = [text for level, text in _drain(browser)[0] if level == "SEVERE"]
    assert not severe, f"the search page logged errors: {severe}"
