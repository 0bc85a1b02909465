"""The playground: a static site that runs the real engine in the browser.

``autograd-lite playground DIR`` writes the page, the autograd_lite wheel (zipped
from this source tree), the graphviz package's wheel (it writes DOT source, no
program), Pyodide (CPython compiled to WebAssembly) and viz-js (Graphviz compiled
to WebAssembly, DOT → SVG).  The last two come from the npm registry through
``npm pack``, once, into a cache (``~/.cache/autograd_lite/npm``; the
``AUTOGRAD_LITE_CACHE`` environment variable moves it).  ``--serve`` serves DIR
on 127.0.0.1 (a ``file://`` page cannot load Pyodide's module).  Everything the
page needs is in DIR: after it has loaded, the network can go.

In the page, Python runs `compute` (the CLI's safe expression parser, backward,
the chain-rule ledger) and `frame` (the DOT source of one backward step).
"""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.metadata
import inspect
import json
import os
import shutil
import subprocess
import tarfile
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from autograd_lite import expr as _expr

__all__ = ["build", "serve", "evaluate", "compute", "frame", "PlaygroundError", "EXAMPLE", "EXAMPLE_AT"]

#: The README's z → a → L example: the page opens on it.
EXAMPLE = "z = w1*x1 + w2*x2 + b; a = sigmoid(z); L = bce(a, y)"
EXAMPLE_AT = "x1=1.5 x2=-0.5 w1=0.3 w2=-0.8 b=0.1 y=1"

# npm packages (pinned) and the files of each that the page loads
PYODIDE = ("pyodide", "0.29.5", ["pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip",
                                  "pyodide-lock.json"])
VIZ = ("@viz-js/viz", "3.31.0", ["dist/viz-global.js"])
_MARKER = ".autograd-lite-playground"


class PlaygroundError(RuntimeError):
    """The playground could not be built (npm missing or failing, DIR not usable)."""


# --------------------------------------------------------------------------
# In the page (Pyodide): the calls the JavaScript makes
# --------------------------------------------------------------------------

_state: dict[str, Any] = {}  # the latest computation: frame() draws its steps


def _levels() -> list[str]:
    """The graph levels draw_graph offers: "full", and "labels" where it has ``level=``."""
    from autograd_lite.viz import draw_graph

    return ["full", "labels"] if "level" in inspect.signature(draw_graph).parameters else ["full"]


# ``name = expression`` statements: the CLI's language, in `autograd_lite.expr`
evaluate = _expr.evaluate_program


def compute(expression: str, at: str) -> str:
    """Evaluate ``expression`` (see `evaluate`) at ``at`` ("x=1 w=-0.5", commas
    allowed), backpropagate and explain: a JSON object with the value, every
    variable's gradient (as ``repr`` strings: exact), the ledger lines of steps
    0 … n+1 and the backward time; or ``{"error": message}``."""
    from autograd_lite.explain import explain

    try:
        values = _expr.parse_assignments(at.replace(",", " ").split())
        out, leaves = evaluate(expression, values)
    except ValueError as err:  # ExprError: the message says what and where
        _state.clear()
        return json.dumps({"error": str(err)})
    start = time.perf_counter()
    out.backward()
    backward_ms = (time.perf_counter() - start) * 1000
    ex = explain(out)
    _state.update(root=out, steps=len(ex.steps))
    # one ledger per level: the label level has its own steps, and the picture of step k
    # must be the step k of the ledger shown beside it
    ledgers = {"full": [ex.line(k) for k in range(len(ex.steps) + 2)]}
    if "labels" in _levels():
        try:
            lx = explain(out, level="labels")
            ledgers["labels"] = [lx.line(k) for k in range(len(lx.steps) + 2)]
        except ValueError:  # a label level too large to work out: the page offers the full graph only
            pass
    return json.dumps({
        "root": out.label, "value": repr(out.data),
        "grads": [[name, repr(leaf.grad)] for name, leaf in leaves.items()],
        "lines": ledgers["full"], "ledgers": ledgers,
        "backward_ms": backward_ms, "nodes": len(ex.forward), "levels": list(ledgers),
    })


def frame(k: int, level: str = "full") -> str:
    """The DOT source of the graph after backward step ``k`` of the latest `compute`
    (0: only the seed known; n+1: done), at ``level`` ("full" or "labels")."""
    from autograd_lite.viz import draw_graph

    kw: dict[str, Any] = {"level": "labels"} if level == "labels" and "labels" in _levels() else {}
    return draw_graph(_state["root"], step=int(k), **kw).source


# --------------------------------------------------------------------------
# Building the site (CPython)
# --------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where ``npm pack`` puts the packages: $AUTOGRAD_LITE_CACHE, else ~/.cache/autograd_lite/npm."""
    env = os.environ.get("AUTOGRAD_LITE_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "autograd_lite" / "npm"


def _tarball(name: str, version: str) -> str:
    """The file name ``npm pack`` gives a package: @viz-js/viz 3.31.0 → viz-js-viz-3.31.0.tgz."""
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def fetch(cache: Path | None = None, log: Any = print) -> dict[str, Path]:
    """The npm tarballs of Pyodide and viz-js, fetched with ``npm pack`` on first use."""
    cache = cache_dir() if cache is None else cache
    out = {}
    for name, version, _ in (PYODIDE, VIZ):
        path = cache / _tarball(name, version)
        if not path.exists():
            npm = shutil.which("npm")
            if npm is None:
                raise PlaygroundError(f"the playground needs npm once, to fetch {name} {version} into {cache}: "
                                      "install it (apt-get install npm, or Node.js) and run the command again")
            cache.mkdir(parents=True, exist_ok=True)
            log(f"fetching {name}@{version} with npm into {cache} (first run only)")
            proc = subprocess.run([npm, "pack", f"{name}@{version}", "--pack-destination", str(cache)],
                                  capture_output=True, text=True, cwd=cache)
            if proc.returncode != 0 or not path.exists():
                why = (proc.stderr or proc.stdout).strip()[-500:]
                raise PlaygroundError(f"npm pack {name}@{version} failed: {why}")
        out[name] = path
    return out


def _zip_entry(z: zipfile.ZipFile, name: str, data: bytes) -> str:
    """Add one file (fixed timestamp: the same tree gives the same bytes); its RECORD line."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    z.writestr(info, data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _wheel(dest: Path, name: str, version: str, files: Iterable[tuple[str, bytes]]) -> Path:
    """A pure-Python wheel (py3-none-any) of ``files`` (path in site-packages, bytes)."""
    dist = f"{name.replace('-', '_')}-{version}"
    path = dest / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        record = [_zip_entry(z, arc, data) for arc, data in sorted(files)]
        meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        wheel = (b"Wheel-Version: 1.0\nGenerator: autograd_lite.playground\nRoot-Is-Purelib: true\n"
                 b"Tag: py3-none-any\n")
        record.append(_zip_entry(z, f"{dist}.dist-info/METADATA", meta))
        record.append(_zip_entry(z, f"{dist}.dist-info/WHEEL", wheel))
        record.append(f"{dist}.dist-info/RECORD,,")
        _zip_entry(z, f"{dist}.dist-info/RECORD", ("\n".join(record) + "\n").encode())
    return path


def write_wheels(dest: Path) -> list[Path]:
    """The autograd_lite wheel, from this source tree (the modules; no datasets), and
    graphviz's (its Python package only writes DOT source here)."""
    from autograd_lite import __version__

    dest.mkdir(parents=True, exist_ok=True)
    src = Path(__file__).resolve().parent
    ours = [(f"autograd_lite/{p.relative_to(src).as_posix()}", p.read_bytes())
            for p in sorted(src.rglob("*")) if p.is_file() and p.suffix in (".py", ".typed")
            and "__pycache__" not in p.parts]
    gv = importlib.metadata.distribution("graphviz")
    theirs = [(str(f), Path(str(gv.locate_file(f))).read_bytes()) for f in gv.files or ()
              if str(f).startswith("graphviz/") and str(f).endswith(".py")]
    return [_wheel(dest, "autograd_lite", __version__, ours), _wheel(dest, "graphviz", gv.version, theirs)]


def _extract(tgz: Path, members: list[str], dest: Path) -> None:
    """Copy ``package/<member>`` of an npm tarball to dest/<file name>."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tgz) as t:
        for m in members:
            f = t.extractfile(f"package/{m}")
            if f is None:
                raise PlaygroundError(f"{tgz.name} has no file {m}: delete it from the cache and run again")
            (dest / Path(m).name).write_bytes(f.read())


def build(dest: str | os.PathLike, *, force: bool = False, cache: Path | None = None, log: Any = print) -> Path:
    """Write the playground site into ``dest`` (see the module docstring); returns its index.html."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise PlaygroundError(f"{dest} is a file, not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / _MARKER).exists() and not force:
        raise PlaygroundError(f"{dest} is a folder that a previous playground did not make and it is not "
                              "empty; pass --force to write into it")
    tarballs = fetch(cache, log)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / _MARKER).write_text("written by autograd-lite playground: it may rewrite this folder\n", encoding="utf-8")
    _extract(tarballs[PYODIDE[0]], PYODIDE[2], dest / "pyodide")
    _extract(tarballs[VIZ[0]], VIZ[2], dest / "viz")
    wheels = write_wheels(dest / "wheels")
    page = _PAGE.replace("__WHEELS__", json.dumps([w.name for w in wheels]))
    page = page.replace("__EXAMPLE__", json.dumps({"expr": EXAMPLE, "at": EXAMPLE_AT}))
    page = page.replace("__VERSION__", html.escape(f"Pyodide {PYODIDE[1]}, viz-js {VIZ[1]}"))
    index = dest / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def site_size(dest: str | os.PathLike) -> int:
    """Bytes of every file the page loads."""
    return sum(p.stat().st_size for p in Path(dest).rglob("*") if p.is_file() and p.name != _MARKER)


def server(dest: str | os.PathLike, port: int = 8000) -> Any:
    """An HTTP server for ``dest`` on 127.0.0.1 (``port`` 0: any free port); call serve_forever()."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Handler(SimpleHTTPRequestHandler):
        extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                          ".js": "text/javascript", ".wasm": "application/wasm", ".whl": "application/zip"}

        def log_message(self, format: str, *args: Any) -> None:  # quiet: one line per file is noise here
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=str(dest)))


def serve(dest: str | os.PathLike, port: int = 8000) -> None:
    """Serve ``dest`` on http://127.0.0.1:port/ until Ctrl-C."""
    httpd = server(dest, port)
    print(f"serving {dest} on http://127.0.0.1:{httpd.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


# The page.  Python (Pyodide) computes; JavaScript shows.  State lives in the URL:
# ?expr=…&at=…&step=k&level=full, so a link restores what it showed.
_PAGE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>autograd_lite playground</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.2em; color: #222; max-width: 1200px; }
label { font-weight: 600; margin-right: .4em; }
input[type=text] { font-family: ui-monospace, monospace; font-size: 1em; padding: .25em; }
#expr { width: min(62em, 80vw); } #at { width: min(40em, 60vw); }
button { font-size: 1em; margin-right: .4em; padding: .3em .9em; }
#status { color: #555; } #status[data-state=error] { color: #b00; }
#error { color: #b00; font-weight: 600; white-space: pre-wrap; font-family: ui-monospace, monospace; }
#graph svg { max-width: 100%; height: auto; }
#step-text { font-family: ui-monospace, monospace; background: #f6f6f6; padding: .6em; border-radius: 4px;
  white-space: pre-wrap; min-height: 2.6em; }
#ledger { font-family: ui-monospace, monospace; font-size: .85em; white-space: pre-wrap; }
#ledger li.current { background: #fff3c4; }
table { border-collapse: collapse; } td, th { padding: .15em .8em; border-bottom: 1px solid #ddd;
  font-family: ui-monospace, monospace; text-align: left; }
.row { margin: .5em 0; }
</style></head>
<body>
<h1>autograd_lite playground</h1>
<p>Type an expression and the values of its variables, press <b>Backward</b>, then step through the chain rule.
Everything runs here, in this page: the real engine on Pyodide (__VERSION__).</p>
<form id="form" class="row">
  <div class="row"><label for="expr">expression</label><input type="text" id="expr" spellcheck="false"></div>
  <div class="row"><label for="at">at</label><input type="text" id="at" spellcheck="false">
  <button id="backward" type="submit" disabled>Backward</button>
  <label for="level">graph</label><select id="level"><option value="full">full</option>
  <option value="labels">labels</option></select></div>
</form>
<p id="status" data-state="loading" role="status">loading Python (Pyodide)…</p>
<div id="error" role="alert"></div>
<div id="result" hidden>
  <p id="value"></p>
  <div class="row"><button id="prev" type="button">◀ Prev</button><button id="next" type="button">Next ▶</button>
  <span id="counter"></span></div>
  <div id="step-text"></div>
  <div id="graph"></div>
  <table id="grads"><thead><tr><th>variable</th><th>gradient</th></tr></thead><tbody></tbody></table>
  <h2>The ledger</h2>
  <ol id="ledger" start="0"></ol>
</div>
<p id="timing"></p>
<script type="module">
import { loadPyodide } from "./pyodide/pyodide.mjs";

const WHEELS = __WHEELS__;
const EXAMPLE = __EXAMPLE__;
const $ = (id) => document.getElementById(id);
const t0 = performance.now();
let py, P, result = null, step = 0;

function status(text, state) { $("status").textContent = text; $("status").dataset.state = state; }

function params() {
  const q = new URLSearchParams(location.search);
  return { expr: q.get("expr") ?? EXAMPLE.expr, at: q.get("at") ?? EXAMPLE.at,
           step: parseInt(q.get("step") ?? "0", 10) || 0, level: q.get("level") ?? "full" };
}

function remember() {
  const q = new URLSearchParams({ expr: $("expr").value, at: $("at").value, step: String(step),
                                  level: $("level").value });
  history.replaceState(null, "", "?" + q.toString());
}

function run(keepStep) {
  $("error").textContent = "";
  const start = performance.now();
  const r = JSON.parse(P.compute($("expr").value, $("at").value));
  const ms = performance.now() - start;
  if (r.error) {
    result = null;
    $("result").hidden = true;
    $("error").textContent = r.error;
    status("error: " + r.error, "error");
    remember();
    return;
  }
  result = r;
  $("result").hidden = false;
  $("value").textContent = r.root + " = " + r.value;
  const body = $("grads").querySelector("tbody");
  body.replaceChildren(...r.grads.map(([name, g]) => {
    const tr = document.createElement("tr");
    tr.dataset.name = name; tr.dataset.grad = g;
    tr.innerHTML = "<td></td><td></td>";
    tr.cells[0].textContent = "d" + r.root + "/d" + name;  // totals: d, as in the ledger
    tr.cells[1].textContent = g;
    return tr;
  }));
  for (const opt of $("level").options) opt.disabled = !r.levels.includes(opt.value);
  if (!r.levels.includes($("level").value)) $("level").value = "full";
  fillLedger();
  $("timing").textContent = "load " + (window.loadMs / 1000).toFixed(2) + " s; backward " +
    r.backward_ms.toFixed(2) + " ms (" + r.nodes + " nodes); compute + ledger " + ms.toFixed(1) + " ms";
  $("timing").dataset.backwardMs = r.backward_ms;
  show(keepStep ? step : 0);
  status("ready", "ready");
}

// viz-js lays the graph out in a worker: a graph that Graphviz takes long over
// (long chains with shared inputs) never freezes the page; past RENDER_MS it is
// not drawn and the page says so.  The worker is made from viz-js's source,
// fetched once, so a new one (after a layout given up) needs no network.
const RENDER_MS = 6000;
let workerURL = null, worker = null, pending = null, renders = 0;

function startWorker() {
  if (worker) worker.terminate();
  worker = new Worker(workerURL);
  worker.onmessage = (e) => {
    if (!pending || e.data.id !== pending.id) return;  // an older step's picture
    clearTimeout(pending.timer);
    const done = pending.done; pending = null; done(e.data);
  };
}

function render(dot) {
  return new Promise((done) => {
    if (pending) {  // the worker is still laying out a picture nobody waits for: start afresh
      clearTimeout(pending.timer); pending.done({ stale: true }); pending = null; startWorker();
    }
    const id = ++renders;
    pending = { id, done, timer: setTimeout(() => {
      pending = null; startWorker();  // give up on this layout
      done({ error: "the graph was not drawn: Graphviz took over " + RENDER_MS / 1000 + " s to lay it out; " +
                    "the ledger and the gradients are below (a smaller expression draws)" });
    }, RENDER_MS) };
    worker.postMessage({ id, dot });
  });
}

// the ledger of the level shown (each level has its own steps)
function ledger() { return result.ledgers[$("level").value] || result.lines; }

function fillLedger() {
  $("ledger").replaceChildren(...ledger().map((line) => {
    const li = document.createElement("li"); li.textContent = line; return li;
  }));
}

async function show(k) {
  if (!result) return;
  const lines = ledger();
  step = Math.max(0, Math.min(lines.length - 1, k));
  $("step-text").textContent = lines[step];
  $("counter").textContent = "step " + step + " of " + (lines.length - 1);
  $("counter").dataset.step = step;
  const items = $("ledger").children;
  for (let i = 0; i < items.length; i++) items[i].classList.toggle("current", i === step);
  $("prev").disabled = step === 0;
  $("next").disabled = step === lines.length - 1;
  remember();
  const shown = step;
  $("graph").dataset.step = "";
  const r = await render(P.frame(step, $("level").value));
  if (r.stale || shown !== step) return;
  if (r.error) { $("graph").textContent = r.error; $("graph").dataset.state = "not drawn"; }
  else { $("graph").innerHTML = r.svg; $("graph").dataset.state = "drawn"; }
  $("graph").dataset.step = shown;
}

async function main() {
  const p = params();
  $("expr").value = p.expr; $("at").value = p.at; $("level").value = p.level;
  try {
    py = await loadPyodide({ indexURL: new URL("pyodide/", location.href).href });
    for (const whl of WHEELS) {
      const resp = await fetch("wheels/" + whl);
      if (!resp.ok) throw new Error("could not load wheels/" + whl + " (" + resp.status + ")");
      py.unpackArchive(await resp.arrayBuffer(), "wheel");
    }
    P = py.pyimport("autograd_lite.playground");
    const viz = await fetch("viz/viz-global.js");
    if (!viz.ok) throw new Error("could not load viz/viz-global.js (" + viz.status + ")");
    const handler = "\nconst ready = Viz.instance();\n" +
      "onmessage = async (e) => { const viz = await ready;\n" +
      "  try { postMessage({ id: e.data.id, svg: viz.renderString(e.data.dot, { format: 'svg' }) }); }\n" +
      "  catch (err) { postMessage({ id: e.data.id, error: String(err) }); } };\n";
    workerURL = URL.createObjectURL(new Blob([await viz.text(), handler], { type: "text/javascript" }));
    startWorker();
  } catch (err) {
    status("could not start: " + err, "error");
    return;
  }
  window.loadMs = performance.now() - t0;
  document.body.dataset.python = "ready";
  $("backward").disabled = false;
  step = p.step;
  run(true);
  if ($("status").dataset.state !== "error") status("ready", "ready");
}

$("form").addEventListener("submit", (e) => { e.preventDefault(); if (P) run(false); });
$("prev").addEventListener("click", () => show(step - 1));
$("next").addEventListener("click", () => show(step + 1));
$("level").addEventListener("change", () => { if (result) { fillLedger(); show(step); } });
document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT") return;
  if (e.key === "ArrowRight") show(step + 1); else if (e.key === "ArrowLeft") show(step - 1);
});
main();
</script>
</body></html>
"""
