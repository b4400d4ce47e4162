/* The book's Python, in a Web Worker (issue 36): runs a chapter's derivation cells for run.js, off the page's thread.
 *
 * Started by run.js when a reader first runs a cell, never before. It loads what the book's build put in the site
 * (book/builder.py, stage_runner), from the site only: Pyodide's runtime (_static/pyodide/), SymPy, mpmath and
 * pylatexenc compiled for it, the project's modules the cells import (_static/run/derivations.zip), run_cells.py, and
 * the chapter's manifest (_static/run/<notebook>.json: its cells, its claims and their numeric checks as built).
 * Pyodide's package lock there names no package: nothing is fetched from a CDN.
 *
 * Messages in:  {type: "run", id, manifest: URL, target: notebook cell index, sources: {index: source}};
 *               {type: "resources", id}: every URL the worker loaded (for the tests).
 * Messages out: {type: "progress", id, text}, {type: "result", id, result: run_cells.run's dict, load: seconds,
 *               stages: [what, seconds]}, {type: "failed", id, text} when Python could not be started,
 *               {type: "resources", id, names}.
 * A run is stopped by terminating the worker (run.js starts another at the next run).
 */
const here = new URL("./", self.location.href);            // _static/
let started = null;                                          // resolves to Pyodide, the chapter set up
let startSeconds = 0;
let stages = [];                                             // [what, seconds since the worker began], for the docs

function post(message) { self.postMessage(message); }

function bytes(url) {
  return fetch(url).then(function (r) {
    if (!r.ok) { throw new Error(url + ": " + r.status + " " + r.statusText); }
    return r.arrayBuffer();
  });
}

async function start(id, manifestURL) {
  const t0 = performance.now();
  const say = (text) => { stages.push([text, (performance.now() - t0) / 1000]); post({type: "progress", id, text}); };
  say("Loading Python (Pyodide, about 13 MB, from this site)");
  // every file is asked for at once: the packages and the chapter arrive while the runtime compiles
  const manifest = fetch(manifestURL).then((r) => { if (!r.ok) { throw new Error(manifestURL + ": " + r.status); } return r.json(); });
  const runner = fetch(new URL("run_cells.py", here)).then((r) => r.text());
  const packages = manifest.then((m) => Promise.all(m.packages.map((name) => bytes(new URL("run/" + name, here)))));
  const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", here).href);
  const pyodide = await loadPyodide({indexURL: new URL("pyodide/", here).href, packageBaseUrl: new URL("pyodide/", here).href,
                                     stdout: () => {}, stderr: () => {}});
  say("Unpacking SymPy, mpmath and the project's derivation words");
  const site = pyodide.runPython("import site; site.getsitepackages()[0]");
  const m = await manifest;
  const buffers = await packages;
  stages.push(["packages here", (performance.now() - t0) / 1000]);
  buffers.forEach(function (buffer) {
    pyodide.unpackArchive(buffer, "zip", {extractDir: site});
  });
  pyodide.FS.writeFile(site + "/run_cells.py", await runner);
  say("Importing SymPy");
  pyodide.runPython("import sympy");
  say("Reading the chapter's claims");
  pyodide.globals.set("book_manifest", JSON.stringify(m));
  pyodide.runPython("import json, run_cells\nrun_cells.setup(book_manifest)\ndel book_manifest");
  startSeconds = (performance.now() - t0) / 1000;
  stages.push(["ready", startSeconds]);
  return pyodide;
}

self.onmessage = async function (event) {
  const msg = event.data;
  if (msg.type === "resources") {                           // what this worker loaded (tests/test_run_in_book.py)
    post({type: "resources", id: msg.id, names: [self.location.href].concat(
      performance.getEntriesByType("resource").map((e) => e.name))});
    return;
  }
  if (msg.type !== "run") { return; }
  const id = msg.id;
  try {
    if (!started) {
      started = start(id, msg.manifest);
      started.catch(function () { started = null; });        // a start that failed is tried again at the next run
    }
    const pyodide = await started;
    const progress = function (index, left) {
      post({type: "progress", id, text: index === msg.target
        ? "Running this cell"
        : "Running notebook cell " + index + ", which this cell uses" + (left > 1 ? " (" + (left - 1) + " more after it)" : "")});
    };
    pyodide.globals.set("book_progress", progress);
    pyodide.globals.set("book_sources", JSON.stringify(msg.sources || {}));
    const text = pyodide.runPython(
      "json.dumps(run_cells.run(" + Number(msg.target) + ", json.loads(book_sources), " +
      "lambda i, left: book_progress(i, len(left))))");
    post({type: "result", id, result: JSON.parse(text), load: startSeconds, stages: stages});
    startSeconds = 0;                                       // Python's start is counted once, in the first result
    stages = [];
  } catch (err) {
    post({type: "failed", id, text: String(err && err.message || err)});
  }
};
