/* Edit and run a derivation in the page (issue 36): a control on each derivation cell of a chapter (a code cell
 * tagged "derivation", shown with its code) turns the code into an editor and runs it in Python, in the browser.
 *
 * Nothing loads until a reader clicks: then a Web Worker (run-worker.js) starts Pyodide from this site and runs the
 * cell after the cells it depends on (run_cells.py finds them), each from its source in the page, edited or not. The
 * output replaces the stored one, typeset as it is (MathJax, already on the page): the steps, and the verdict
 * recomputed from what the cell hands verdict(...), with the numeric checks as the book's build computed them (they
 * need NumPy), said so in their fold. Run again after an edit: the cells above are not run again, nor a statement
 * whose code and inputs are what they were in an earlier run (run_cells.py; the status says how many). "Reset" puts back
 * the verified code and the stored output; "Stop" ends a long run (its worker is ended; the next run starts another).
 * An error is shown under the cell, in words. A page opened as a file cannot start Python (browsers forbid a worker
 * there): the control says how to serve the book instead. In print, the stored output is printed, and one line says
 * where the derivations can be run.
 *
 * window.BookRun (for tests/test_run_in_book.py): {runs: the last result of each cell run, by notebook cell index}.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var STATIC = new URL("./", script ? script.src : location.href);
  var PAGE = (window.DOCUMENTATION_OPTIONS && DOCUMENTATION_OPTIONS.pagename) ||
             location.pathname.split("/").pop().replace(/\.html$/, "");
  var MANIFEST = new URL("run/" + PAGE + ".json", STATIC).href;
  var RUNNABLE = ".cell.tag_derivation";
  var state = {worker: null, manifest: null, queue: Promise.resolve(), next: 0, pending: {}, opened: {}};
  window.BookRun = {runs: {}, state: state};

  // -- the cells and their controls ---------------------------------------------------------------------------------
  function cells() {
    return Array.prototype.filter.call(document.querySelectorAll(RUNNABLE), function (c) {
      return c.querySelector(":scope > .cell_input pre");
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function button(label, cls, title) {
    var b = el("button", "run-button " + cls, label);
    b.type = "button";
    if (title) { b.title = title; }
    return b;
  }

  function setUp() {
    var all = cells();
    all.forEach(function (cell, k) {
      var bar = el("div", "run-bar");
      var open = button("Edit and run", "run-open", "Edit this derivation and run it in Python, here in the page");
      var status = el("span", "run-status");
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      bar.appendChild(open);
      bar.appendChild(status);
      cell.insertBefore(bar, cell.firstChild);
      open.addEventListener("click", function () { activate(cell, k); });
      if (k === 0) {                 // print: the stored outputs, and where to run the derivations
        var note = el("p", "run-print-note", "The derivations of this chapter can be edited and run in its page of " +
          "the book, served over HTTP (in the repository: make serve, then open " + PAGE + ".html).");
        cell.parentNode.insertBefore(note, cell);
      }
    });
  }

  function manifest() {
    if (!state.manifest) {
      state.manifest = fetch(MANIFEST).then(function (r) {
        if (!r.ok) { throw new Error(MANIFEST + ": " + r.status + " " + r.statusText); }
        return r.json();
      });
      state.manifest.catch(function () { state.manifest = null; });
    }
    return state.manifest;
  }

  function normalised(text) {
    return text.replace(/[ \t]+$/gm, "").replace(/\s+$/, "");
  }

  // the notebook cell of a cell of the page: its code, as the manifest stores it
  function indexOf(cell, m) {
    var code = normalised(cell.querySelector(".cell_input pre").textContent);
    var found = m.cells.filter(function (c) { return !c.hidden && normalised(c.source) === code; });
    if (!found.length) { throw new Error("this cell's code is not among the chapter's derivation cells"); }
    return found[0];
  }

  function activate(cell, k) {
    var status = cell.querySelector(".run-status");
    if (location.protocol === "file:") {
      status.textContent = "Running needs the book served over HTTP (a page opened as a file may not start Python): " +
        "in the repository, run make serve, then open http://127.0.0.1:8000/" + PAGE + ".html";
      status.classList.add("run-note");
      return;
    }
    if (cell.classList.contains("run-active")) { return; }
    cell.classList.add("run-active");
    var bar = cell.querySelector(".run-bar"), pre = cell.querySelector(".cell_input pre");
    var input = cell.querySelector(".cell_input");
    var editor = el("textarea", "run-editor");
    editor.value = pre.textContent.replace(/\n$/, "");
    editor.spellcheck = false;
    editor.setAttribute("autocapitalize", "off");
    editor.setAttribute("aria-label", "The derivation's code: edit it, then Run (Shift+Enter); Escape, then Tab, " +
                                      "leaves the editor");
    input.classList.add("run-editing");
    input.appendChild(editor);
    fit(editor);
    var runB = button("Run", "run-run", "Run this cell (Shift+Enter), after the cells it uses");
    var resetB = button("Reset", "run-reset", "Put back the verified code and its stored output");
    var stopB = button("Stop", "run-stop", "Stop the run (Python starts again at the next run)");
    stopB.hidden = true;
    var open = bar.querySelector(".run-open");
    bar.replaceChild(runB, open);
    bar.insertBefore(resetB, bar.querySelector(".run-status"));
    bar.insertBefore(stopB, bar.querySelector(".run-status"));
    var stored = cell.querySelector(":scope > .cell_output");
    var entry = {cell: cell, editor: editor, status: bar.querySelector(".run-status"), run: runB, stop: stopB,
                 stored: stored, output: null, index: null, source: null};
    editor.addEventListener("input", function () { fit(editor); });
    var escaped = false;                  // Tab indents; after Escape, Tab leaves the editor (no keyboard trap)
    editor.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.shiftKey || e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        if (!entry.run.disabled) { run(entry); }
      } else if (e.key === "Tab" && !e.shiftKey && !escaped) {
        e.preventDefault();
        editor.setRangeText("    ", editor.selectionStart, editor.selectionEnd, "end");
        fit(editor);
      }
      escaped = e.key === "Escape";
    });
    runB.addEventListener("click", function () { run(entry); });
    resetB.addEventListener("click", function () { reset(entry); });
    stopB.addEventListener("click", stop);
    run(entry);
    editor.focus();
  }

  function fit(editor) {
    editor.style.height = "auto";
    editor.style.height = (editor.scrollHeight + 2) + "px";
  }

  // -- running ------------------------------------------------------------------------------------------------------
  function worker() {
    if (!state.worker) {
      state.worker = new Worker(new URL("run-worker.js", STATIC), {type: "module"});
      state.worker.onmessage = function (e) {
        var msg = e.data, pending = state.pending[msg.id];
        if (!pending) { return; }
        if (msg.type === "progress") { pending.progress(msg.text); }
        else if (msg.type === "result" || msg.type === "resources") { delete state.pending[msg.id]; pending.resolve(msg); }
        else if (msg.type === "failed") { delete state.pending[msg.id]; pending.reject(new Error(msg.text)); }
      };
      state.worker.onerror = function (e) {
        Object.keys(state.pending).forEach(function (id) {
          state.pending[id].reject(new Error("Python's worker failed: " + (e.message || "see the console")));
          delete state.pending[id];
        });
        e.preventDefault();
      };
    }
    return state.worker;
  }

  function sources() {
    var out = {};
    Object.keys(state.opened).forEach(function (i) {
      var e = state.opened[i];
      if (normalised(e.editor.value) !== normalised(e.source)) { out[i] = e.editor.value; }
    });
    return out;
  }

  function run(entry) {
    var clicked = performance.now();
    entry.run.disabled = true;
    entry.stop.hidden = false;
    var busy = Object.keys(state.pending).length > 0;
    var tick, stage = busy ? "Waiting for the run before" : state.worker ? "Running" : "Starting Python";
    function say(text) { stage = text; paint(); }
    function paint() {
      entry.status.textContent = stage + "… " + ((performance.now() - clicked) / 1000).toFixed(1) + " s";
    }
    entry.status.classList.remove("run-note");
    tick = setInterval(paint, 100);
    paint();
    var w = worker(), edited = {};                      // Python starts loading now, while the chapter is read
    var job = state.queue.then(function () {
      return manifest().then(function (m) {
        if (entry.index === null) {
          var c = indexOf(entry.cell, m);
          entry.index = c.index;
          entry.source = c.source;
          state.opened[c.index] = entry;
        }
        return new Promise(function (resolve, reject) {
          var id = ++state.next;
          state.pending[id] = {resolve: resolve, reject: reject, progress: say, entry: entry};
          edited = sources();
          w.postMessage({type: "run", id: id, manifest: MANIFEST, target: entry.index, sources: edited});
        });
      });
    }).then(function (msg) {
      msg.edited = edited;
      var r = msg.result;
      r.workerSeconds = (performance.now() - clicked) / 1000;         // the click to the result, before typesetting
      r.stages = msg.stages;
      window.BookRun.runs[entry.index] = r;
      return render(entry, r).then(function () {
        var typeset = (performance.now() - clicked) / 1000;
        r.clientSeconds = typeset;
        entry.status.textContent = (r.error ? "Stopped by an error" : "Ran") + " in " + typeset.toFixed(1) + " s" +
          (msg.load ? " (Python started in " + msg.load.toFixed(1) + " s, once for this page)" : "") +
          (r.ran.length > 1 ? "; with notebook cell" + (r.ran.length > 2 ? "s " : " ") +
                               r.ran.slice(0, -1).map(function (i) { return i + (i in msg.edited ? " (edited)" : ""); })
                                .join(", ") + ", which it uses" : "") +
          (r.recalled ? "; " + r.recalled + " statement" + (r.recalled > 1 ? "s" : "") + " with the same code and " +
                        "inputs as before not run again" : "") + ".";
      });
    }).catch(function (err) {
      if (err && err.stopped) { return; }
      show(entry, "error", "Python could not run this cell: " + String(err && err.message || err));
      entry.status.textContent = "Not run.";
    }).then(function () {
      clearInterval(tick);
      entry.run.disabled = false;
      entry.stop.hidden = true;
    });
    state.queue = job;
    return job;
  }

  function stop() {
    if (state.worker) { state.worker.terminate(); }
    state.worker = null;
    Object.keys(state.pending).forEach(function (id) {
      var p = state.pending[id];
      p.reject({stopped: true});
      if (p.entry) { p.entry.status.textContent = "Stopped. Python starts again at the next run (a few seconds)."; }
      delete state.pending[id];
    });
  }

  function reset(entry) {
    entry.editor.value = entry.source !== null ? entry.source : entry.cell.querySelector(".cell_input pre").textContent;
    fit(entry.editor);
    clear(entry);
    if (entry.stored) { entry.stored.hidden = false; }
    entry.status.textContent = "The verified code and its stored output.";
  }

  function clear(entry) {
    if (entry.output) {
      if (window.MathJax && MathJax.typesetClear) { MathJax.typesetClear([entry.output]); }
      entry.output.remove();
      entry.output = null;
    }
  }

  // -- what a run shows ---------------------------------------------------------------------------------------------
  function show(entry, kind, text) {
    clear(entry);
    var out = el("div", "cell_output docutils container run-output");
    out.appendChild(el("pre", "run-" + kind, text));
    place(entry, out);
  }

  function place(entry, out) {
    if (entry.stored) { entry.stored.hidden = true; }
    entry.output = out;
    entry.cell.appendChild(out);
  }

  function render(entry, r) {
    clear(entry);
    var out = el("div", "cell_output docutils container run-output");
    out.setAttribute("data-run", "");
    r.outputs.forEach(function (o) {
      if (o.kind === "latex") {
        var d = el("div", "output text_latex math notranslate nohighlight");
        d.textContent = "\\[" + stripDollars(o.text) + "\\]";
        out.appendChild(d);
      } else if (o.kind === "markdown" || o.kind === "verdict") {
        if (o.kind === "verdict" && o.verdict !== o.verified) {
          out.appendChild(el("p", "run-changed", "Your derivation changes the verdict: " + word(o.verified) +
                             " in the book, " + word(o.verdict) + " here."));
        }
        var wrap = el("div", o.kind === "verdict" ? "run-verdict" : "run-markdown");
        wrap.innerHTML = markdown(o.text.replace(/<a name="[^"]*"><\/a>/g, ""));   // the anchor stays the book's
        if (o.kind === "verdict") { out.setAttribute("data-verdict", o.verdict); }     // the recomputed verdict
        while (wrap.firstChild) { out.appendChild(wrap.firstChild); }
      } else {
        out.appendChild(el("pre", "run-text", o.text));
      }
    });
    if (r.error) { out.appendChild(el("pre", "run-error", r.error)); }
    if (!r.outputs.length && !r.error) {
      out.appendChild(el("p", "run-empty", "No output: this cell defines what the cells below use. Run one of them " +
                                           "to see what your change does to its verdict."));
    }
    place(entry, out);
    if (window.MathJax && MathJax.typesetPromise) {
      return MathJax.typesetPromise([out]).then(function () {
        if (window.markScrolling) { window.markScrolling(); }
      });
    }
    return Promise.resolve();
  }

  function word(v) { return v === "erratum" ? "ERRATUM" : v; }

  function stripDollars(t) {
    return t.trim().replace(/^\$\$?/, "").replace(/\$\$?$/, "");
  }

  // -- Markdown, the engine's subset (derivations.engine.display): paragraphs, "- " lists (a "  <br>" continuation),
  // **bold**, *emphasis*, `code`, $math$ and $$math$$, and raw HTML (<details>, <summary>, <span>, <a name>) -----------
  function escapeHTML(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function inline(text) {
    var out = "", i = 0, parts = text.split(/(`[^`]*`|\$[^$]+\$)/);
    for (i = 0; i < parts.length; i++) {
      var p = parts[i];
      if (i % 2 === 1 && p.charAt(0) === "`") {
        out += '<code class="docutils literal notranslate"><span class="pre">' + escapeHTML(p.slice(1, -1)) + "</span></code>";
      } else if (i % 2 === 1) {
        out += '<span class="math notranslate nohighlight">\\(' + escapeHTML(p.slice(1, -1)) + "\\)</span>";
      } else {
        out += p.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>").replace(/\*([^*]+)\*/g, "<em>$1</em>");
      }
    }
    return out;
  }

  function markdown(md) {
    var html = [], lines = md.split("\n"), i = 0;
    while (i < lines.length) {
      var line = lines[i];
      if (!line.trim()) { i++; continue; }
      if (/^\$\$/.test(line.trim())) {                                  // $$ ... $$ on lines of its own
        var tex = [line.trim().replace(/^\$\$/, "")];
        i++;
        while (i < lines.length && !/\$\$\s*$/.test(lines[i])) { tex.push(lines[i]); i++; }
        if (i < lines.length) { tex.push(lines[i].replace(/\$\$\s*$/, "")); i++; }
        html.push('<div class="math notranslate nohighlight">\\[' + escapeHTML(tex.join("\n").trim()) + "\\]</div>");
      } else if (/^<\/?(details|summary)/.test(line.trim())) {        // a fold's raw HTML, line by line
        html.push(line);
        i++;
      } else if (/^- /.test(line)) {                                    // a list, its items' continuations indented
        var items = [];
        while (i < lines.length && (/^- /.test(lines[i]) || (/^ {2}\S/.test(lines[i]) && items.length))) {
          if (/^- /.test(lines[i])) { items.push(lines[i].slice(2)); } else { items[items.length - 1] += "\n" + lines[i].trim(); }
          i++;
        }
        html.push('<ul class="simple">' + items.map(function (t) { return "<li><p>" + inline(t) + "</p></li>"; }).join("") + "</ul>");
      } else {                                                          // a paragraph: the lines up to a blank one
        var para = [];
        while (i < lines.length && lines[i].trim() && !/^- |^\$\$|^<\/?(details|summary)/.test(lines[i].trim())) {
          para.push(lines[i]);
          i++;
        }
        html.push("<p>" + inline(para.join("\n")) + "</p>");
      }
    }
    return html.join("\n");
  }
  window.BookRun.markdown = markdown;
  // every URL the worker loaded (none while no cell has run: there is no worker)
  window.BookRun.workerResources = function () {
    if (!state.worker) { return Promise.resolve([]); }
    return new Promise(function (resolve, reject) {
      var id = ++state.next;
      state.pending[id] = {resolve: function (msg) { resolve(msg.names); }, reject: reject, progress: function () {},
                           entry: null};
      state.worker.postMessage({type: "resources", id: id});
    });
  };

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setUp); } else { setUp(); }
})();
