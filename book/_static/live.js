/* The live figures: sliders, number inputs, SVG plots and readouts. No formula is written here.
 *
 * Every number a figure shows comes from window.LiveFormulas (_static/live-formulas.js), JavaScript that
 * book/live_figures.py generates from the registered, verified SymPy expressions; this file only decides
 * where to evaluate them (grids, ranges), how to draw them, and what an edge value means in words.
 *
 * A figure is an element <div class="live-figure" data-figure="NAME"> (a Markdown cell of a chapter); its
 * content (a sentence for Jupyter and GitHub) is replaced by the figure. Controls: the number of classes K
 * (a slider on a log scale), eps (0 to 1; the edges 0, (K-1)/K and 1 are positions of the slider), and a
 * logit of the figure's family; each slider has a number input beside it, which takes any valid value
 * exactly. The arrow keys move a focused slider by one position (the browser's own range input); a slider's
 * positions are decimals of its step (positions), so dragging never gives 2.1999999999999993.
 * A page's address may set values (02_soft_labels.html?K=1000&eps=0.95: names as the controls', invalid
 * ones ignored; taken exactly, as a typed value is). At an edge (eps = 0, (K-1)/K, 1; K = 2; Delta = 0) a note
 * below the plots says what the figure shows, in room reserved for it (edgeArea), and the readouts say what the
 * mathematics says there: no value "at the optimum" where there is none, values at (K-1)/K exactly (atEps), no
 * number rounded onto the other side of an edge (fmtSide). For print, the controls are hidden (book.css) and a
 * line says which values are shown and where the live figure is. window.LiveFigures.figures[NAME] exposes
 * state(), readouts() and positions(control) (tests/test_site.py reads them).
 */
(function () {
  "use strict";

  var SVGNS = "http://www.w3.org/2000/svg";
  // the left margin holds a tick label as wide as 10 with a three-digit superscript exponent beside the axis title
  var W = 380, H = 240, M = { left: 54, right: 10, top: 10, bottom: 38 };

  // -- numbers as text ---------------------------------------------------------------------------------
  var SUPER = { "-": "\u207b", "0": "\u2070", "1": "\u00b9", "2": "\u00b2", "3": "\u00b3", "4": "\u2074",
                "5": "\u2075", "6": "\u2076", "7": "\u2077", "8": "\u2078", "9": "\u2079" };

  /* A finite number in about four significant digits; large and small ones as a x 10^n. */
  function fmt(v, digits) {
    if (!isFinite(v)) { throw new Error("fmt: not a finite number"); }
    digits = digits || 4;
    if (v === 0) { return "0"; }
    var a = Math.abs(v);
    if (a >= 1e-3 && a < 1e6) {
      return String(parseFloat(v.toPrecision(digits))).replace("-", "\u2212");
    }
    var parts = v.toExponential(digits - 1).split("e");
    var mant = String(parseFloat(parts[0])).replace("-", "\u2212");
    var exp = String(parseInt(parts[1], 10)).split("").map(function (c) { return SUPER[c]; }).join("");
    return mant + " \u00d7 10" + exp;
  }

  /* A power of ten, 10^n, as text: 1, 10, then 10 with a superscript exponent. */
  function fmtPow10(n) {
    if (n === 0 || n === 1) { return String(Math.pow(10, n)); }
    return "10" + String(n).split("").map(function (c) { return SUPER[c]; }).join("");
  }

  /* v, known from the mathematics of the state to lie above ref (side 1) or below it (side -1), in the fewest
   * significant digits from `from` (4) that still show it on that side: "1.00001", not the "1" that four digits
   * give for alpha at K = 100000, eps = 1, beside "no alpha in [0, 1] gives it". A double that rounding put on
   * ref, or past it (a few units of roundoff from it), is said in words. */
  function fmtSide(v, ref, side, from) {
    for (var d = from || 4; d <= 17; d++) {
      if (side * (Number(v.toPrecision(d)) - ref) > 0) { return fmt(v, d); }
    }
    return (side > 0 ? "just above " : "just below ") + fmt(ref);
  }

  /* An integer with thin-space thousands separators. */
  function fmtInt(k) { return String(k).replace(/\B(?=(\d{3})+(?!\d))/g, "\u2009"); }

  /* An element's HTML, set only when it changes (new HTML is parsed, styled and laid out). */
  function setHTML(e, html) {
    if (e.getAttribute("data-html") !== html) { e.innerHTML = html; e.setAttribute("data-html", html); }
  }

  function el(tag, attrs, parent, ns) {
    var e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(e); }
    return e;
  }

  // -- slider positions ----------------------------------------------------------------------------------
  /* Integers from lo to hi, evenly spaced on a log scale (every integer where they are close). */
  function logIntegers(lo, hi, n) {
    var out = [], last = null;
    for (var i = 0; i <= n; i++) {
      var v = Math.round(lo * Math.pow(hi / lo, i / n));
      if (v !== last) { out.push(v); last = v; }
    }
    out[0] = lo; out[out.length - 1] = hi;
    return out;
  }

  function grid(lo, hi, n) {
    var out = [];
    for (var i = 0; i <= n; i++) { out.push(lo + (hi - lo) * i / n); }
    return out;
  }

  /* The decimals a step is written with (0.05: 2; 1/1000: 3). */
  function decimals(step) {
    for (var d = 0; d < 12; d++) {
      var scaled = step * Math.pow(10, d);
      if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * scaled) { return d; }
    }
    return 12;
  }

  /* A slider's values: lo to hi in n steps, each rounded to the step's decimals, so that a value reached by
   * dragging or by the arrow keys is the decimal a reader would type (2.2, where -20 + 60 * 222/600 is
   * 2.1999999999999993) in the state, the number box and the readouts. */
  function positions(lo, hi, n) {
    var d = decimals((hi - lo) / n);
    return grid(lo, hi, n).map(function (v) { return Number(v.toFixed(d)); });
  }

  /* Sorted, without repeats, with the extra values inserted. */
  function withValues(values, extra) {
    var all = values.concat(extra.filter(function (v) { return isFinite(v); }));
    all.sort(function (a, b) { return a - b; });
    return all.filter(function (v, i) { return i === 0 || v !== all[i - 1]; });
  }

  function nearestIndex(values, v) {
    var best = 0;
    for (var i = 1; i < values.length; i++) {
      if (Math.abs(values[i] - v) < Math.abs(values[best] - v)) { best = i; }
    }
    return best;
  }

  // -- controls ------------------------------------------------------------------------------------------
  /* One control: a labelled range input (positions into a list of values) and a number input beside it. */
  function Control(fig, spec, parent) {
    var self = this;
    this.spec = spec;
    this.fig = fig;
    var id = fig.id + "-" + spec.name;
    var row = el("div", { "class": "live-control" }, parent);
    var label = el("label", { "for": id + "-range" }, row);
    label.innerHTML = spec.label;
    this.range = el("input", { type: "range", id: id + "-range", min: "0", step: "1", "data-control": spec.name,
                               "data-step": String(spec.step), "aria-describedby": fig.id + "-status" }, row);
    this.number = el("input", { type: "number", id: id + "-number", step: "any", "data-control": spec.name,
                                "aria-label": spec.text + " (exact value)", min: String(spec.min),
                                max: String(spec.max) }, row);
    if (spec.integer) { this.number.setAttribute("step", "1"); }
    this.range.addEventListener("input", function () {
      self.set(self.values[parseInt(self.range.value, 10)]);
    });
    var typed = function () {
      var v = self.parse(self.number.value);
      if (v === null) {
        self.number.setAttribute("aria-invalid", "true");
        fig.status(spec.invalid);
      } else {
        self.number.removeAttribute("aria-invalid");
        self.set(v);
      }
    };
    this.number.addEventListener("change", typed);
    this.number.addEventListener("input", function () {   // while typing: taken as soon as it is valid
      if (self.parse(self.number.value) !== null) { typed(); }
    });
  }

  Control.prototype.parse = function (text) {
    if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(text)) { return null; }
    var v = Number(text);
    if (!isFinite(v) || v < this.spec.min || v > this.spec.max) { return null; }
    if (this.spec.integer && Math.floor(v) !== v) { return null; }
    return v;
  };

  /* The list of slider values for the figure's current state (eps: the edge (K-1)/K included). */
  Control.prototype.refresh = function () {
    this.values = this.spec.values(this.fig.state);
    this.range.max = String(this.values.length - 1);
    this.show();
  };

  Control.prototype.show = function () {
    var v = this.fig.state[this.spec.name];
    this.range.value = String(nearestIndex(this.values, v));
    this.range.setAttribute("aria-valuetext", this.spec.text + " = " + String(v));
    if (this.number.value === "" || this.parse(this.number.value) !== v) { this.number.value = String(v); }
    this.number.removeAttribute("aria-invalid");
  };

  Control.prototype.set = function (v) {
    this.fig.state[this.spec.name] = v;
    this.fig.update();
  };

  // -- plots ---------------------------------------------------------------------------------------------
  function niceTicks(lo, hi, n) {
    var span = hi - lo, step = Math.pow(10, Math.floor(Math.log(span / n) / Math.LN10));
    var err = n / span * step;
    if (err <= 0.15) { step *= 10; } else if (err <= 0.35) { step *= 5; } else if (err <= 0.75) { step *= 2; }
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) { out.push(Math.abs(t) < step * 1e-9 ? 0 : t); }
    return out;
  }

  /* SVG elements of one kind, kept from one update to the next: an update sets only the attributes and texts
   * that changed, and hides what it does not use (new elements are laid out and styled; changed ones are cheap). */
  function Pool(parent, tag) { this.g = el("g", {}, parent, SVGNS); this.tag = tag; this.items = []; this.used = 0; }
  Pool.prototype.next = function (attrs, text) {
    var e = this.items[this.used];
    if (!e) { e = el(this.tag, {}, this.g, SVGNS); this.items.push(e); }
    this.used += 1;
    Object.keys(attrs).forEach(function (k) {
      var v = String(attrs[k]);
      if (e.getAttribute(k) !== v) { e.setAttribute(k, v); }
    });
    if (e.hasAttribute("display")) { e.removeAttribute("display"); }
    if (text !== undefined && e.textContent !== text) { e.textContent = text; }
    return e;
  };
  Pool.prototype.finish = function () {
    for (var i = this.used; i < this.items.length; i++) { this.items[i].setAttribute("display", "none"); }
    this.used = 0;
  };

  /* A panel: axes, curves (paths), markers, and a message when nothing can be drawn. */
  function Panel(fig, parent, spec) {
    this.spec = spec;
    var box = el("div", { "class": "live-panel" }, parent);
    var title = el("p", { "class": "live-panel-title" }, box);
    title.innerHTML = spec.title;
    this.svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.aria, "class": "live-svg" },
                  box, SVGNS);
    var clip = fig.id + "-" + spec.name + "-clip";
    var defs = el("defs", {}, this.svg, SVGNS);
    el("rect", { x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom },
       el("clipPath", { id: clip }, defs, SVGNS), SVGNS);
    var axes = el("g", { "class": "live-axes" }, this.svg, SVGNS);
    el("line", { x1: M.left, y1: H - M.bottom, x2: W - M.right, y2: H - M.bottom }, axes, SVGNS);
    el("line", { x1: M.left, y1: M.top, x2: M.left, y2: H - M.bottom }, axes, SVGNS);
    this.xlabel = el("text", { x: (M.left + W - M.right) / 2, y: H - 6, "text-anchor": "middle", "class": "live-axis-label" },
                     axes, SVGNS);
    this.ylabel = el("text", { x: 11, y: (M.top + H - M.bottom) / 2, "text-anchor": "middle", "class": "live-axis-label",
                               transform: "rotate(-90 11 " + (M.top + H - M.bottom) / 2 + ")" }, axes, SVGNS);
    this.ticks = new Pool(axes, "line");
    this.tickLabels = new Pool(axes, "text");
    this.yLabels = new Pool(axes, "text");             // its own pool: its labels carry their tick's value
    var plot = el("g", { "clip-path": "url(#" + clip + ")" }, this.svg, SVGNS);
    this.bars = new Pool(plot, "rect");
    this.lines = new Pool(plot, "line");
    this.paths = new Pool(plot, "path");
    this.marks = new Pool(this.svg, "circle");
    this.message = el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", "class": "live-message" }, this.svg, SVGNS);
    this.legend = el("ul", { "class": "live-legend" }, box);
  }

  /* The y axis of a plot: d.y is its range; on a log scale (d.ylog) a range of powers of ten, where a value
   * <= 0 has no position (NaN: not drawn, as a value that is not finite is not). Returns the map from a value to
   * its SVG y, and the ticks (value, label). */
  function yAxis(d) {
    var f = d.ylog ? function (y) { return y > 0 ? Math.log10(y) : NaN; } : function (y) { return y; };
    var lo = f(d.y[0]), hi = f(d.y[1]);
    var sy = function (y) { return H - M.bottom - (f(y) - lo) / (hi - lo) * (H - M.top - M.bottom); };
    var ticks = d.ylog ? decadeTicks(Math.round(lo), Math.round(hi)) :
      niceTicks(d.y[0], d.y[1], 5).map(function (t) { return { value: t, label: fmt(t, 3) }; });
    return { sy: sy, ticks: ticks };
  }

  /* Ticks at the powers of ten from 10^a to 10^b: every decade, or every second, third, ... so that at most
   * seven are labelled (a readable axis over the sixteen decades of chapter 1's error). */
  function decadeTicks(a, b) {
    var every = Math.max(1, Math.ceil((b - a) / 6)), out = [];
    for (var n = b; n >= a; n -= every) { out.push({ value: Math.pow(10, n), label: fmtPow10(n) }); }
    return out;
  }

  Panel.prototype.draw = function (d) {
    var sx = function (x) { return M.left + (x - d.x[0]) / (d.x[1] - d.x[0]) * (W - M.left - M.right); };
    var axis = yAxis(d), sy = axis.sy;
    var self = this, at = function (v) { return v.toFixed(2); };
    if (this.xlabel.textContent !== d.xlabel) { this.xlabel.textContent = d.xlabel; }
    if (this.ylabel.textContent !== d.ylabel) { this.ylabel.textContent = d.ylabel; }
    (d.xticks ? [] : niceTicks(d.x[0], d.x[1], 5)).forEach(function (t) {
      self.ticks.next({ x1: at(sx(t)), x2: at(sx(t)), y1: H - M.bottom, y2: H - M.bottom + 4 });
      self.tickLabels.next({ x: at(sx(t)), y: H - M.bottom + 15, "text-anchor": "middle" }, fmt(t, 3));
    });
    (d.xticks || []).forEach(function (t) {
      self.tickLabels.next({ x: at(sx(t.x)), y: H - M.bottom + 15, "text-anchor": "middle" }, t.label);
    });
    axis.ticks.forEach(function (t) {
      self.ticks.next({ x1: M.left - 4, x2: M.left, y1: at(sy(t.value)), y2: at(sy(t.value)) });
      self.yLabels.next({ x: M.left - 6, y: at(sy(t.value) + 4), "text-anchor": "end", "data-tick": String(t.value) },
                        t.label);
    });
    var drawn = 0, dropped = 0;
    (d.bars || []).forEach(function (b) {
      if (!isFinite(b.y)) { return; }
      var y0 = sy(Math.max(d.y[0], 0)), y1 = sy(b.y);
      self.bars.next({ x: at(sx(b.x - b.w / 2)), width: at(sx(b.x + b.w / 2) - sx(b.x - b.w / 2)), y: at(Math.min(y0, y1)),
                       height: at(Math.max(Math.abs(y1 - y0), 0.5)), "class": "live-bar " + b.cls, "data-value": String(b.y) });
      drawn += 1;
    });
    (d.hlines || []).forEach(function (h) {
      if (!isFinite(sy(h.y))) { return; }
      self.lines.next({ x1: M.left, x2: W - M.right, y1: at(sy(h.y)), y2: at(sy(h.y)), "class": "live-line " + h.cls });
    });
    (d.vlines || []).forEach(function (v) {
      if (!isFinite(v.x)) { return; }
      self.lines.next({ x1: at(sx(v.x)), x2: at(sx(v.x)), y1: M.top, y2: H - M.bottom, "class": "live-line " + v.cls });
    });
    (d.series || []).forEach(function (s) {
      var path = [], pen = false;
      for (var i = 0; i < s.xs.length; i++) {
        var x = s.xs[i], y = s.ys[i];
        if (!isFinite(x) || !isFinite(y)) { pen = false; continue; }
        if (!isFinite(sy(y))) { pen = false; dropped += 1; continue; }   // <= 0 on a log scale: an underflow
        var py = Math.max(-1e4, Math.min(1e4, sy(y)));            // far outside the box: clipped, never huge
        path.push((pen ? "L" : "M") + at(sx(x)) + " " + at(py));
        pen = true;
      }
      if (path.length >= 2) {
        self.paths.next({ d: path.join(""), "class": "live-curve " + s.cls, "data-series": s.key });
        drawn += 1;
      }
    });
    (d.markers || []).forEach(function (p) {
      if (!isFinite(p.x) || !isFinite(sy(p.y))) { return; }
      if (p.x < d.x[0] || p.x > d.x[1] || p.y < d.y[0] || p.y > d.y[1]) { return; }
      self.marks.next({ cx: at(sx(p.x)), cy: at(sy(p.y)), r: 4, "class": "live-marker " + p.cls });
    });
    [this.ticks, this.tickLabels, this.yLabels, this.bars, this.lines, this.paths, this.marks].forEach(function (p) { p.finish(); });
    // a value the log scale cannot place is one that underflowed to 0 (the quantities drawn on it are > 0): said
    var empty = !drawn ? d.empty : dropped ? "values that underflow to 0 are not drawn on a log scale" : "";
    if (this.message.textContent !== empty) { this.message.textContent = empty; }
    this.svg.setAttribute("data-drawn", String(drawn));
    this.svg.setAttribute("data-dropped", String(dropped));
    var legend = this.legend, key = JSON.stringify(d.legend || []);
    if (legend.getAttribute("data-key") !== key) {              // the same legend: left as it is
      legend.innerHTML = "";
      (d.legend || []).forEach(function (item) {
        var li = el("li", { "class": item.cls }, legend);
        li.innerHTML = item.html;
      });
      legend.setAttribute("data-key", key);
    }
  };

  /* The y range of finite values (0 included when asked), padded. */
  function yRange(values, withZero) {
    var lo = Infinity, hi = -Infinity;
    values.forEach(function (v) { if (isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    if (withZero) { lo = Math.min(lo, 0); hi = Math.max(hi, 0); }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) { hi = lo + Math.max(1, Math.abs(lo)) * 0.1; }
    var pad = (hi - lo) * 0.06;
    return [withZero && lo === 0 ? 0 : lo - pad, hi + pad];
  }

  /* The range of a log axis: the powers of ten just below the smallest positive value and just above the
   * largest (values <= 0 have no place on it; yAxis leaves them out). */
  function logRange(values) {
    var pos = values.filter(function (v) { return isFinite(v) && v > 0; });
    if (!pos.length) { return [0.1, 1]; }
    var lo = Math.floor(Math.log10(Math.min.apply(null, pos))), hi = Math.ceil(Math.log10(Math.max.apply(null, pos)));
    return [Math.pow(10, lo), Math.pow(10, hi > lo ? hi : lo + 1)];
  }

  function flatten(lists) { return [].concat.apply([], lists); }

  // -- the figures ---------------------------------------------------------------------------------------
  var F = window.LiveFormulas;
  var V = function (name) { return "<var>" + name + "</var>"; };
  var EPS = V("\u03b5"), KK = V("K"), DELTA = "\u0394";
  var SUBJ = V("z") + "<sub><var>j</var></sub>";

  /* A control's spec: its name (the state's key and the page address's), its text and label, its range, the
   * step of its slider (its values are rounded to it: positions()), and its slider's values for a state. */
  function kControl(ch) {
    var lim = F.about.chapters[ch].K;
    var ks = logIntegers(lim[0], lim[1], 400);
    return { name: "K", text: "K", label: KK + " classes", min: lim[0], max: lim[1], integer: true, step: 1,
             invalid: "K must be a whole number from " + fmtInt(lim[0]) + " to " + fmtInt(lim[1]) + ".",
             values: function () { return ks; } };
  }

  /* eps: steps of 1/1000, and the uniform edge (K-1)/K as one more position, the double nearest it (not rounded:
   * it is the edge, which the figure reads as (K-1)/K exactly, atEps). */
  function epsControl(ch, meaning) {
    var lim = F.about.chapters[ch].EPS, base = positions(lim[0], lim[1], 1000);
    return { name: "eps", text: "\u03b5", label: EPS + " " + meaning, min: lim[0], max: lim[1],
             step: (lim[1] - lim[0]) / 1000,
             invalid: "\u03b5 must be a number from " + lim[0] + " to " + lim[1] + ".",
             values: function (st) { return withValues(base, [F.ch2_uniform_eps(st.K)]); } };
  }

  function realControl(name, text, label, lo, hi, n, def) {
    var values = positions(lo, hi, n);
    return { name: name, text: text, label: label, min: lo, max: hi, def: def, step: (hi - lo) / n,
             values: function () { return values; }, invalid: text + " must be a number from " + lo + " to " + hi + "." };
  }

  /* The regime of eps, from the generated uniform point (K-1)/K. */
  function regime(st) {
    if (st.eps === 0) { return "hard"; }
    if (st.eps === 1) { return "all"; }
    var u = F.ch2_uniform_eps(st.K);
    return st.eps === u ? "uniform" : st.eps < u ? "smoothing" : "beyond";
  }

  /* At eps = 0 and eps = 1 the loss keeps falling as the gap grows without bound: there is no finite optimum, and
   * no value "at the optimum" to show. */
  function noOptimum(r) { return r === "hard" || r === "all"; }

  /* A generated function of K and eps, at eps = e: where e is the uniform edge (the double nearest (K-1)/K, which
   * the figure reads as that edge: regime), its value at (K-1)/K exactly (F.at_uniform, generated), not the value
   * at that double (the optimal gap 0, not -2.2e-16; the loss variance at the optimum 0, not 4.4e-33). */
  function atEps(name, K, e) {
    var exact = F.at_uniform[name];
    return exact && e === F.ch2_uniform_eps(K) ? exact(K) : F[name](K, e);
  }

  /* States at which a figure of K and eps has each edge note it can show (K = 2 and 3, eps in each regime): the
   * figure reserves the room the tallest set of them takes (Figure), so that reaching an edge moves nothing. */
  function epsEdgeStates() {
    return flatten([2, 3].map(function (K) {
      return [0, 0.25, F.ch2_uniform_eps(K), 0.99, 1].map(function (e) { return { K: K, eps: e }; });
    }));
  }

  var EPS_HINT = "At the edges (" + EPS + " = 0, " + EPS + " = (" + KK + " \u2212 1)/" + KK + ", " + EPS + " above it, " +
    EPS + " = 1, " + KK + " = 2) a note here says what the figure shows there.";

  function out(key, value, text) {
    return "<output data-key=\"" + key + "\" data-value=\"" + String(value) + "\">" + text + "</output>";
  }

  /* alpha for the note's target, beside what it means: below 1 short of the uniform edge, 1 at it, above 1 past
   * it, shown in as many digits as keep it there (fmtSide). */
  function alphaText(r, alpha) {
    var a = V("\u03b1");
    if (r === "beyond" || r === "all") {
      return "No " + a + " in [0, 1] gives it (" + a + " would be " + out("ch2_alpha_of_eps", alpha, fmtSide(alpha, 1, 1)) + ").";
    }
    var shown = r === "smoothing" && alpha > 0 ? fmtSide(alpha, 1, -1) : fmt(alpha);
    return "The frameworks give it at " + a + (/^just/.test(shown) ? " " : " = ") + out("ch2_alpha_of_eps", alpha, shown) + ".";
  }

  /* The optimal gap, on its side of 0: positive short of the uniform edge, 0 at it, negative past it. */
  function gapText(r, gap) {
    return r === "smoothing" ? fmtSide(gap, 0, 1) : r === "beyond" ? fmtSide(gap, 0, -1) : fmt(gap);
  }

  /* eps as text: the uniform edge as (K - 1)/K (the double there, 0.6666666666666666, is not it, and six digits of
   * it, 0.666667, lie past it); any other value in six digits or more, on its side of the edge. */
  function epsText(st, r) {
    var u = F.ch2_uniform_eps(st.K);
    if (r === "uniform") { return "(" + KK + " \u2212 1)/" + KK; }
    return r === "smoothing" && st.eps > 0 ? fmtSide(st.eps, u, -1, 6) : r === "beyond" ? fmtSide(st.eps, u, 1, 6) : fmt(st.eps);
  }

  var FIGURES = {};

  FIGURES["ch1-margin"] = {
    chapter: 1,
    title: "How far LSE is from the largest logit, against the margin",
    controls: function () {
      return [kControl(1),
              realControl("Delta", "\u0394", "margin " + DELTA + " (marked)", 0, 30, 600, 2),
              realControl("s", "s", "spread " + V("s") + " of the others", 0, 10, 200, 1)];
    },
    panels: [{ name: "margin", title: "LSE(" + V("z") + ") \u2212 max<sub><var>j</var></sub> " + SUBJ +
               " on " + V("z") + " = (0, \u2212" + DELTA + ", \u2212" + DELTA + " \u2212 " + V("s") + ", \u2026, \u2212" + DELTA + " \u2212 " + V("s") + ")",
               aria: "The error of the largest logit as an approximation of log-sum-exp, between its two bounds, against the margin" }],
    claims: ["ch1.margin_error", "ch1.lse_bounds"],
    draw: function (st, panels) {
      var logK = F.ch1_log_k(st.K);
      var xs = grid(0, Math.max(10, logK + 6, st.Delta + 1), 240);
      var err = xs.map(function (x) { return F.ch1_error(st.K, x, st.s); });
      var lo = xs.map(function (x) { return F.ch1_lower(st.K, x); });
      var hi = xs.map(function (x) { return F.ch1_upper(st.K, x); });
      var at = { e: F.ch1_error(st.K, st.Delta, st.s), lo: F.ch1_lower(st.K, st.Delta), hi: F.ch1_upper(st.K, st.Delta) };
      // a log scale: the error falls like e^-Delta, a straight line here. Every value drawn is > 0 (a log1p of a
      // positive term); the smallest, at the largest margin the x axis reaches (31), is about 3e-14: none underflows
      panels.margin.draw({
        x: [xs[0], xs[xs.length - 1]], y: logRange(flatten([err, lo, hi, [logK]])), ylog: true,
        xlabel: "margin \u0394 between the two largest logits", ylabel: "LSE \u2212 max (log scale)",
        series: [{ key: "upper", xs: xs, ys: hi, cls: "c-upper" }, { key: "lower", xs: xs, ys: lo, cls: "c-lower" },
                 { key: "error", xs: xs, ys: err, cls: "c-main" }],
        hlines: [{ y: logK, cls: "c-limit" }], vlines: [{ x: st.Delta, cls: "c-mark" }],
        markers: [{ x: st.Delta, y: at.e, cls: "c-main" }],
        legend: [{ cls: "c-main", html: "LSE \u2212 max at your logits" },
                 { cls: "c-upper", html: "upper bound log(1 + (" + KK + " \u2212 1) e<sup>\u2212\u0394</sup>): the others all at max \u2212 \u0394" },
                 { cls: "c-lower", html: "lower bound log(1 + e<sup>\u2212\u0394</sup>)" },
                 { cls: "c-limit", html: "log " + KK + ": the largest error at any logits" }],
        empty: "no value to draw"
      });
      return [
        "At \u0394 = " + out("Delta", st.Delta, fmt(st.Delta)) + ": LSE \u2212 max = " + out("ch1_error", at.e, fmt(at.e)) +
        ", between " + out("ch1_lower", at.lo, fmt(at.lo)) + " and " + out("ch1_upper", at.hi, fmt(at.hi)) +
        "; at any logits it is at most log " + KK + " = " + out("ch1_log_k", logK, fmt(logK)) + "."
      ];
    },
    edges: function (st) {
      var notes = [];
      if (st.K === 2) {
        notes.push(KK + " = 2: a single other logit, so the two bounds coincide and the error is exactly the lower " +
                   "bound; the spread " + V("s") + " has no logit to move.");
      }
      if (st.Delta === 0) {
        notes.push("\u0394 = 0: the two largest logits tie; the error is largest for this spread.");
      }
      return notes;
    },
    edgeStates: function () { return [{ K: 2, Delta: 0 }, { K: 2, Delta: 1 }, { K: 3, Delta: 0 }, { K: 3, Delta: 1 }]; },
    hint: "At the edges (" + KK + " = 2, \u0394 = 0) a note here says what the figure shows there."
  };

  FIGURES["ch2-smoothing"] = {
    chapter: 2,
    title: "The soft target, and the smoothed loss along the logit gap",
    controls: function () {
      return [kControl(2), epsControl(2, "smoothing"), realControl("g", "g", "logit gap " + V("g") + " (marked)", -20, 40, 600, 2)];
    },
    panels: [{ name: "target", title: "Target probabilities: the note's " + EPS + " beside the frameworks' " + V("\u03b1") + " = " + EPS,
               aria: "The target probability of the true class and of each other class, in the note's convention and the frameworks'" },
             { name: "loss", title: "The smoothed loss on " + V("z") + " = (" + V("g") + ", 0, \u2026, 0), its optimum marked",
               aria: "The smoothed loss and the hard-label loss against the logit gap, with the optimum" }],
    claims: ["ch2.soft_target", "ch2.conventions", "ch2.closed_form", "ch2.hard_no_minimiser", "ch2.optimum"],
    draw: function (st, panels) {
      var r = regime(st);
      var note = [atEps("ch2_target_true", st.K, st.eps), atEps("ch2_target_other", st.K, st.eps)];
      var fw = [F.ch2_framework_true(st.K, st.eps), F.ch2_framework_other(st.K, st.eps)];
      panels.target.draw({
        x: [0, 2], y: [0, 1.05], xlabel: "", ylabel: "target probability",
        xticks: [{ x: 0.5, label: "true class" }, { x: 1.5, label: "each other class" }],
        bars: [{ x: 0.35, w: 0.28, y: note[0], cls: "c-main" }, { x: 0.65, w: 0.28, y: fw[0], cls: "c-alt" },
               { x: 1.35, w: 0.28, y: note[1], cls: "c-main" }, { x: 1.65, w: 0.28, y: fw[1], cls: "c-alt" }],
        legend: [{ cls: "c-main", html: "the note: 1 \u2212 " + EPS + " and " + EPS + "/(" + KK + " \u2212 1)" },
                 { cls: "c-alt", html: "the frameworks at " + V("\u03b1") + " = " + EPS + ": 1 \u2212 " + V("\u03b1") + " + " + V("\u03b1") + "/" + KK + " and " + V("\u03b1") + "/" + KK }],
        empty: "no target to draw"
      });
      var gap = atEps("ch2_opt_gap", st.K, st.eps), low = atEps("ch2_min_loss", st.K, st.eps);
      var lo = -4, hi = 12;
      if (isFinite(gap)) { lo = Math.min(lo, gap - 4); hi = Math.max(hi, gap + 4); }
      lo = Math.max(-60, Math.min(lo, st.g - 1)); hi = Math.min(60, Math.max(hi, st.g + 1));
      var xs = withValues(grid(lo, hi, 280), isFinite(gap) && gap > lo && gap < hi ? [gap] : []);
      var loss = xs.map(function (x) { return F.ch2_loss(st.K, st.eps, x); });
      var hard = xs.map(function (x) { return F.ch2_hard_loss(st.K, x); });
      var atG = F.ch2_loss(st.K, st.eps, st.g), hardG = F.ch2_hard_loss(st.K, st.g);
      panels.loss.draw({
        x: [lo, hi], y: yRange(flatten([loss, [low]]), true),
        xlabel: "logit gap g = z\u2081 \u2212 z\u2c7c (the other logits equal)", ylabel: "loss",
        series: [{ key: "hard", xs: xs, ys: hard, cls: "c-alt" }, { key: "smoothed", xs: xs, ys: loss, cls: "c-main" }],
        hlines: isFinite(gap) ? [] : [{ y: low, cls: "c-limit" }],
        vlines: [{ x: st.g, cls: "c-mark" }],
        markers: [{ x: gap, y: low, cls: "c-opt" }, { x: st.g, y: atG, cls: "c-main" }],
        legend: [{ cls: "c-main", html: "smoothed loss " + V("L") + "<sub>" + EPS + "</sub>" },
                 { cls: "c-alt", html: "hard-label loss " + V("L") + "<sub>0</sub>" },
                 { cls: "c-opt", html: "the optimum: gap log((1 \u2212 " + EPS + ")(" + KK + " \u2212 1)/" + EPS + "), loss " + V("H") + "(" + V("p") + "<sub>" + EPS + "</sub>)" }],
        empty: "no loss to draw"
      });
      var lines = [];
      lines.push("The note's target: " + out("ch2_target_true", note[0], fmt(note[0])) + " on the true class, " +
                 out("ch2_target_other", note[1], fmt(note[1])) + " on each other. " +
                 alphaText(r, atEps("ch2_alpha_of_eps", st.K, st.eps)));
      // the gap is finite at every double eps in (0, 1) (its logarithms are taken apart: book/live_figures.py)
      if (noOptimum(r)) {
        lines.push("No finite optimal gap; the loss approaches " + out("ch2_min_loss", low, fmt(low)) + " without reaching it.");
      } else {
        lines.push("Optimal gap " + out("ch2_opt_gap", gap, gapText(r, gap)) + ", minimum loss " + out("ch2_min_loss", low, fmt(low)) +
                   (gap < lo || gap > hi ? " (the optimum lies off the chart)." : "."));
      }
      lines.push("At your gap " + V("g") + " = " + out("g", st.g, fmt(st.g)) + ": " + V("L") + "<sub>" + EPS + "</sub> = " +
                 out("ch2_loss", atG, fmt(atG)) + ", hard-label loss " + out("ch2_hard_loss", hardG, fmt(hardG)) + ".");
      return lines;
    },
    edges: function (st) {
      var notes = [], r = regime(st);
      if (r === "hard") {
        notes.push(EPS + " = 0, hard labels: the target is one-hot and the loss keeps falling as the gap grows: " +
                   "no finite optimum, its infimum 0 is never reached.");
      } else if (r === "uniform") {
        notes.push(EPS + " = (" + KK + " \u2212 1)/" + KK + ": the uniform target 1/" + KK + " on every class; the optimum is at gap 0, " +
                   "and the frameworks' " + V("\u03b1") + " is 1.");
      } else if (r === "beyond") {
        notes.push(EPS + " > (" + KK + " \u2212 1)/" + KK + ": the true class gets less target mass than each other class; the optimal " +
                   "gap is negative, and no " + V("\u03b1") + " in [0, 1] gives this target.");
      } else if (r === "all") {
        notes.push(EPS + " = 1: the true class gets no target mass; the loss keeps falling as the gap goes to \u2212\u221e: no finite " +
                   "optimum (the mirror of " + EPS + " = 0).");
      }
      if (st.K === 2) {
        notes.push(KK + " = 2: a single other class; the uniform target is at " + EPS + " = 1/2.");
      }
      return notes;
    },
    edgeStates: epsEdgeStates,
    hint: EPS_HINT
  };

  FIGURES["ch3-flipping"] = {
    chapter: 3,
    title: "The flipped label, and the noise that flipping adds",
    controls: function () {
      return [kControl(3), epsControl(3, "flip probability"), realControl("m", "m", "true logit " + V("m"), -10, 10, 400, 3)];
    },
    panels: [{ name: "labels", title: "Distribution of the flipped label (true class 1)",
               aria: "The probability that the flipped label is the true class, each other class, and any other class" },
             { name: "noise", title: "Variance over the flip, against " + EPS,
               aria: "The variance of the flipped loss at your logits and at the optimum, and the total variance of the flipped gradient, against epsilon" }],
    claims: ["ch3.flip_distribution", "ch3.flip_probability", "ch3.loss_variance", "ch3.optimum_noise", "ch3.gradient_covariance"],
    draw: function (st, panels) {
      var r = regime(st);
      var keep = atEps("ch3_flip_true", st.K, st.eps), each = atEps("ch3_flip_other", st.K, st.eps);
      var away = atEps("ch3_flip_away", st.K, st.eps);
      panels.labels.draw({
        x: [0, 3], y: [0, 1.05], xlabel: "", ylabel: "probability",
        xticks: [{ x: 0.5, label: "y = 1" }, { x: 1.5, label: "each y = j \u2260 1" }, { x: 2.5, label: "any y \u2260 1" }],
        bars: [{ x: 0.5, w: 0.5, y: keep, cls: "c-main" }, { x: 1.5, w: 0.5, y: each, cls: "c-alt" },
               { x: 2.5, w: 0.5, y: away, cls: "c-limit" }],
        legend: [{ cls: "c-main", html: "kept: 1 \u2212 " + EPS }, { cls: "c-alt", html: "each of the " + KK + " \u2212 1 others: " + EPS + "/(" + KK + " \u2212 1)" },
                 { cls: "c-limit", html: "flipped at all: " + EPS }],
        empty: "no probability to draw"
      });
      var es = withValues(grid(0, 1, 400), [st.eps, F.ch2_uniform_eps(st.K)]);
      var here = es.map(function (e) { return F.ch3_loss_variance(st.K, e, st.m); });
      var optAt = function (e) {          // none at eps = 0 and 1, where there is no finite optimum
        return noOptimum(regime({ K: st.K, eps: e })) ? NaN : atEps("ch3_optimum_variance", st.K, e);
      };
      var opt = es.map(optAt);
      var grad = es.map(function (e) { return atEps("ch3_gradient_trace", st.K, e); });
      var v = { here: F.ch3_loss_variance(st.K, st.eps, st.m), opt: optAt(st.eps),
                grad: atEps("ch3_gradient_trace", st.K, st.eps) };
      panels.noise.draw({
        x: [0, 1], y: yRange(flatten([here, opt, grad]), true), xlabel: "\u03b5 (flip probability)", ylabel: "variance",
        series: [{ key: "here", xs: es, ys: here, cls: "c-main" }, { key: "optimum", xs: es, ys: opt, cls: "c-opt" },
                 { key: "gradient", xs: es, ys: grad, cls: "c-alt" }],
        vlines: [{ x: st.eps, cls: "c-mark" }],
        markers: [{ x: st.eps, y: v.here, cls: "c-main" }, { x: st.eps, y: v.opt, cls: "c-opt" }, { x: st.eps, y: v.grad, cls: "c-alt" }],
        legend: [{ cls: "c-main", html: "loss variance at " + V("z") + " = (" + V("m") + ", 0, \u2026, 0)" },
                 { cls: "c-opt", html: "loss variance at the smoothed optimum" },
                 { cls: "c-alt", html: "gradient noise: trace of its covariance (any logits)" }],
        empty: "no variance to draw"
      });
      return ["Flipped label: kept with probability " + out("ch3_flip_true", keep, fmt(keep)) + ", each other class " +
              out("ch3_flip_other", each, fmt(each)) + ", any other class " + out("ch3_flip_away", away, fmt(away)) + ".",
              "At " + EPS + " = " + out("eps", st.eps, epsText(st, r)) + ": loss variance " + out("ch3_loss_variance", v.here, fmt(v.here)) +
              " at your logits, " + (noOptimum(r) ? "and none at the optimum: there is no finite optimum" :
                                     out("ch3_optimum_variance", v.opt, fmt(v.opt)) + " at the optimum") +
              "; gradient noise " + out("ch3_gradient_trace", v.grad, fmt(v.grad)) + "."];
    },
    edges: function (st) {
      var notes = [], r = regime(st);
      if (r === "hard") {
        notes.push(EPS + " = 0: nothing is flipped; the loss and the gradient carry no noise, and there is no finite optimum.");
      } else if (r === "uniform") {
        notes.push(EPS + " = (" + KK + " \u2212 1)/" + KK + ": the flipped label is uniform over the " + KK + " classes; at the optimum " +
                   "every label costs the same, so the loss does not vary there, while the gradient noise remains.");
      } else if (r === "beyond") {
        notes.push(EPS + " > (" + KK + " \u2212 1)/" + KK + ": a flip makes the true label rarer than each other label.");
      } else if (r === "all") {
        notes.push(EPS + " = 1: every label is flipped, to one of the " + KK + " \u2212 1 others; there is no finite optimum.");
      }
      if (st.K === 2) {
        notes.push(KK + " = 2: a single other class, so a flipped label has no choice" + (r === "all" ?
                   ": every label is swapped, with no randomness left, so neither the loss nor the gradient varies." :
                   "; the uniform point is " + EPS + " = 1/2."));
      }
      return notes;
    },
    edgeStates: epsEdgeStates,
    hint: EPS_HINT
  };

  // -- one figure on the page ----------------------------------------------------------------------------
  function Figure(root, name, spec) {
    var self = this;
    this.root = root;
    this.name = name;
    this.spec = spec;
    this.id = "live-" + name;
    root.id = this.id;
    root.innerHTML = "";
    root.setAttribute("role", "group");
    var title = el("p", { "class": "live-title", id: this.id + "-title" }, root);
    title.textContent = "Live figure: " + spec.title;
    root.setAttribute("aria-labelledby", this.id + "-title");
    var defaults = F.about.chapters[spec.chapter].defaults;
    this.controls = [];
    var specs = spec.controls();
    this.state = {};
    specs.forEach(function (c) {
      self.state[c.name] = c.name === "K" ? defaults.K : c.name === "eps" ? defaults.EPS : c.def;
    });
    this.defaults = JSON.parse(JSON.stringify(this.state));
    var box = el("div", { "class": "live-controls" }, root);
    specs.forEach(function (c) { self.controls.push(new Control(self, c, box)); });
    var asked = new URLSearchParams(location.search);     // a page's address may set values: ?K=1000&eps=0.3
    this.controls.forEach(function (c) {
      var v = asked.has(c.spec.name) ? c.parse(asked.get(c.spec.name)) : null;
      if (v !== null) { self.state[c.spec.name] = v; }
    });
    // the status line (an invalid value) lies over the top of the plots while it shows (book.css): nothing moves
    this.statusLine = el("p", { "class": "live-status", id: this.id + "-status", role: "status", "aria-live": "polite" }, root);
    var panels = el("div", { "class": "live-panels" }, root);
    this.panels = {};
    spec.panels.forEach(function (p) { self.panels[p.name] = new Panel(self, panels, p); });
    this.edgeBox = edgeArea(spec, root);
    this.readout = el("div", { "class": "live-readout", "aria-live": "polite" }, root);
    var src = el("p", { "class": "live-source" }, root);
    src.innerHTML = "Every number here is computed in your browser by JavaScript generated from the verified claims " +
      spec.claims.map(function (c) {
        return "<a href=\"#claim-" + c.replace(/[^a-z0-9]+/gi, "-").toLowerCase() + "\"><code>" + c + "</code></a>";
      }).join(", ") + ".";
    this.printNote = el("p", { "class": "live-print" }, root);
    this.update();
  }

  /* Edge notes as HTML (each a paragraph of class cls), or the figure's hint where there is none. */
  function notesHTML(notes, hint, cls) {
    if (!notes.length) { return "<p class=\"live-edge-hint\">" + hint + "</p>"; }
    return notes.map(function (n) { return "<p class=\"" + cls + "\">" + n + "</p>"; }).join("");
  }

  /* The edge notes' area, below the plots. Every set of notes the figure can show (at spec.edgeStates), and the
   * hint, are laid out hidden in the grid cell the notes shown are in (book.css: .live-edges), so the area is as
   * tall as the tallest set, at any width: reaching an edge moves nothing. Returns the element the notes go in. */
  function edgeArea(spec, parent) {
    var box = el("div", { "class": "live-edges" }, parent), seen = {};
    spec.edgeStates().forEach(function (st) {
      var html = notesHTML(spec.edges(st), spec.hint, "live-edge-copy");
      if (!seen[html]) { el("div", { "class": "live-edge-sizer", "aria-hidden": "true" }, box).innerHTML = html; }
      seen[html] = true;
    });
    return el("div", { "class": "live-edge-now" }, box);
  }

  Figure.prototype.status = function (text) { this.statusLine.textContent = text; };

  Figure.prototype.update = function () {
    var t0 = performance.now(), self = this;
    this.controls.forEach(function (c) { c.refresh(); });
    this.status("");
    var lines = this.spec.draw(this.state, this.panels);
    setHTML(this.readout, lines.map(function (l) { return "<p>" + l + "</p>"; }).join(""));
    var notes = this.spec.edges(this.state);
    setHTML(this.edgeBox, notesHTML(notes, this.spec.hint, "live-edge"));
    var shown = this.controls.map(function (c) {
      var v = self.state[c.spec.name];
      return c.spec.text + " = " +
             (c.spec.integer ? fmtInt(v) : String(v));
    }).join(", ");
    var atDefaults = JSON.stringify(this.state) === JSON.stringify(this.defaults);
    this.printNote.textContent = "A static copy of a live figure, printed at " + shown +
      (atDefaults ? " (the defaults)" : "") +
      ". The live figure, with sliders for these values, is on this chapter's page of the HTML book (" +
      location.pathname.split("/").pop() + "#" + this.id + "; make html builds it).";
    this.root.setAttribute("data-ready", "1");
    this.lastUpdateMs = performance.now() - t0;
  };

  function start() {
    if (!window.LiveFormulas) { return; }
    var api = { figures: {} };
    window.LiveFigures = api;
    Array.prototype.forEach.call(document.querySelectorAll("div.live-figure[data-figure]"), function (root) {
      var name = root.getAttribute("data-figure"), spec = FIGURES[name];
      if (!spec) {
        root.textContent = "Unknown live figure: " + name;
        return;
      }
      var fig = new Figure(root, name, spec);
      api.figures[name] = {
        state: function () { return JSON.parse(JSON.stringify(fig.state)); },
        readouts: function () {
          var o = {};
          Array.prototype.forEach.call(root.querySelectorAll("output[data-key]"), function (e) {
            o[e.getAttribute("data-key")] = Number(e.getAttribute("data-value"));
          });
          return o;
        },
        lastUpdateMs: function () { return fig.lastUpdateMs; },
        positions: function (name) {              // a control's slider values at the current state
          return fig.controls.filter(function (c) { return c.spec.name === name; })[0].values.slice();
        },
        update: function () {                    // milliseconds: the update, and the layout it causes
          var t0 = performance.now();
          fig.update();
          void root.getBoundingClientRect().height;
          return performance.now() - t0;
        }
      };
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
