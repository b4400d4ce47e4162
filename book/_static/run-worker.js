/* The book's Python, in a Web Worker (issue 36): runs a chapter's derivation cells for run.js, off the page's thread.
 *
 * Started by run.js when a reader first runs a cell, never before. It loads what the book's build put in the site
 * (book/builder.py, stage_runner), from the site only: Pyodide's runtime (_static/pyodide/), SymPy, mpmath and
 * pylatexenc compiled for it, the project's modules the cells import (_static/run/derivations.zip.gz), run_cells.py,
 * and the chapter's manifest (_static/run/<notebook>.json: its cells, its claims and their numeric checks as built).
 * Pyodide's package lock there names no package: nothing is fetched from a CDN. The packages come as uncompressed
 * zips, gzipped: inflated by the browser (DecompressionStream), their files written into Pyodide's file system here
 * (in place of Pyodide's own unpackArchive: Python's zipfile, inflating in WebAssembly).
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

// an archive of the site (book/builder.py, _shipped): an uncompressed zip, gzipped, inflated by the browser (unless the
// server sent it inflated already, as a server that marks .gz files as gzip-encoded does)
async function archive(url) {
  let data = new Uint8Array(await bytes(url));
  if (data[0] === 0x1f && data[1] === 0x8b) {
    data = new Uint8Array(await new Response(new Blob([data]).stream()
      .pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
  }
  return data;
}

// the files of an uncompressed zip, written under `root` in Pyodide's file system (each a view of `data`: no copy)
function unzip(FS, root, data, name) {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength), text = new TextDecoder();
  const made = new Set();
  let at = 0, files = 0;
  while (at + 30 <= data.length && view.getUint32(at, true) === 0x04034b50) {       // a file's local header
    const flags = view.getUint16(at + 6, true), method = view.getUint16(at + 8, true);
    const size = view.getUint32(at + 18, true), length = view.getUint16(at + 26, true);
    const path = text.decode(data.subarray(at + 30, at + 30 + length));
    const start = at + 30 + length + view.getUint16(at + 28, true);
    if (method !== 0 || (flags & 8) || path.split("/").indexOf("..") >= 0) {
      throw new Error(name + ": not an uncompressed zip of the book's (" + path + ")");
    }
    const full = root + "/" + path, folder = full.slice(0, full.lastIndexOf("/"));
    if (!made.has(folder)) { FS.mkdirTree(folder); made.add(folder); }
    if (!path.endsWith("/")) { FS.writeFile(full, data.subarray(start, start + size), {canOwn: true}); files++; }
    at = start + size;
  }
  if (!files) { throw new Error(name + ": no files in it"); }
}

async function start(id, manifestURL) {
  const t0 = performance.now();
  const say = (text) => { stages.push([text, (performance.now() - t0) / 1000]); post({type: "progress", id, text}); };
  say("Loading Python (Pyodide, about 13 MB, from this site)");
  // every file is asked for at once: the packages and the chapter arrive while the runtime compiles
  const manifest = fetch(manifestURL).then((r) => { if (!r.ok) { throw new Error(manifestURL + ": " + r.status); } return r.json(); });
  const runner = fetch(new URL("run_cells.py", here)).then((r) => r.text());
  const packages = manifest.then((m) => Promise.all(m.packages.map((name) => archive(new URL("run/" + name, here)))));
  packages.catch(() => {});                                  // awaited below, after the runtime: no unhandled rejection
  const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", here).href);
  const pyodide = await loadPyodide({indexURL: new URL("pyodide/", here).href, packageBaseUrl: new URL("pyodide/", here).href,
                                     stdout: () => {}, stderr: () => {}});
  say("Unpacking SymPy, mpmath and the project's derivation words");
  const site = pyodide.runPython("import site; site.getsitepackages()[0]");
  const m = await manifest;
  const buffers = await packages;
  stages.push(["packages here", (performance.now() - t0) / 1000]);
  buffers.forEach(function (buffer, k) { unzip(pyodide.FS, site, buffer, m.packages[k]); });
  pyodide.FS.writeFile(site + "/run_cells.py", await runner);
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
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
