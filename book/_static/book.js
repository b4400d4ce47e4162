/* The book's own script, on every page.
 * 1. Once MathJax (3) has typeset the page, a JSON summary goes into a hidden <pre id="site-check">:
 *    formulas rendered, MathJax errors, raw $$ left, images (broken ones named), every resource loaded,
 *    the folds (<details> of a claim's checks, a worked example's findings: how many, how many open, the math
 *    typeset inside them) and what is wider than its column (overflow()). The browser test (tests/test_site.py)
 *    reads it.
 * 2. fitForPrint(): for print, the folds are opened (the PDF prints the checks, in small type) and every
 *    formula still wider than its column (displayed, or in the text, on a line of its own) is scaled down to fit;
 *    called on `beforeprint` and by book/builder.py before printing a PDF.
 * 4. Displayed formulas: MathJax 4 breaks one too wide for its column over lines, at the width it has when typeset;
 *    when the window's width changes the page is typeset again, and a formula that still does not fit (one that
 *    cannot be broken enough on a phone) is marked to scroll with a visible cue (class "scrolls", book.css).
 *    displayFormulas() measures each, folds opened for the time of the measure: the report's "display".
 * 3. overflow(): every block of the article whose content is wider than its box (an inline element, a formula in
 *    the text among them, is measured by the box of its line), except a displayed formula, which scrolls inside
 *    the column on purpose (and must itself fit the column).
 */
(function () {
  "use strict";

  function summary() {
    var imgs = Array.prototype.slice.call(document.images);
    var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                     .map(function (i) { return i.src.slice(0, 80); });
    var main = document.querySelector("main") || document.body;
    var text = main.innerText;
    var folds = Array.prototype.slice.call(document.querySelectorAll("details.checks, details.findings"));
    return {
      folds: folds.length,
      folds_open: folds.filter(function (d) { return d.open; }).length,
      folds_with_math: folds.filter(function (d) { return d.querySelector("mjx-container"); }).length,
      raw_math_in_folds: folds.filter(function (d) { return /\$|\\\(/.test(d.textContent); }).length,
      overflow: overflow(),
      scrolling_tables: scrollingTables,
      mathjax: !!(window.MathJax && MathJax.startup && MathJax.startup.document),
      formulas: document.querySelectorAll("mjx-container").length,
      math_errors: document.querySelectorAll("mjx-merror, [data-mjx-error]").length,
      raw_tex_left: (text.match(/\$\$/g) || []).length,
      images: imgs.length,
      broken_images: broken,
      resources: performance.getEntriesByType("resource").map(function (e) { return e.name; }),
      tex_outside_math: texOutsideMath(),
      display: displayFormulas(),
      width: window.innerWidth,
      title: document.title
    };
  }

  // TeX a reader sees as text: a "$" or a command such as \approx in any text of the page (sidebars and headings
  // included) that is not a typeset formula, code, or this report; and in the page's title (the browser's tab)
  function texOutsideMath() {
    var tex = /\$|\\[A-Za-z]{2,}/, found = [];
    if (tex.test(document.title)) { found.push("title: " + document.title); }
    var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
      acceptNode: function (n) {
        var el = n.parentElement;
        return el && !el.closest("mjx-container, script, style, code, pre, .highlight, #site-check")
          ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
      }
    });
    for (var n = walker.nextNode(); n; n = walker.nextNode()) {
      if (tex.test(n.nodeValue)) { found.push(n.nodeValue.trim().slice(0, 90)); }
    }
    return found;
  }

  // every displayed formula of the article: how many, and each one wider than its box (px needed, px there, whether
  // it scrolls with its cue: overflow-x auto and the shadow of book.css), the folds opened while measured
  function displayFormulas() {
    var closed = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) { return !d.open; });
    closed.forEach(function (d) { d.open = true; });
    var boxes = document.querySelectorAll('mjx-container[display="true"]'), wide = [];
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.closest("#site-check") || box.clientWidth === 0) { return; }
      if (box.scrollWidth > box.clientWidth + 1) {
        var cs = getComputedStyle(box), where = box.closest("section");
        wide.push({need: box.scrollWidth, room: box.clientWidth, section: where ? where.id : "",
                   scrolls: box.classList.contains("scrolls") && /auto|scroll/.test(cs.overflowX) &&
                            /gradient/.test(cs.backgroundImage),
                   text: (box.textContent || "").replace(/\s+/g, " ").slice(0, 60)});
      }
    });
    closed.forEach(function (d) { d.open = false; });
    return {count: boxes.length, wide: wide};
  }

  // a displayed formula that does not fit its box once broken, or a table too wide for a phone, scrolls, with a cue
  // (book.css); a verdict table is marked, to be laid out as cards on a phone
  function markScrolling() {
    var boxes = document.querySelectorAll('mjx-container[display="true"], .pst-scrollable-table-container');
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.clientWidth > 0) { box.classList.toggle("scrolls", box.scrollWidth > box.clientWidth + 1); }
    });
  }

  function markVerdictTables() {
    Array.prototype.forEach.call(document.querySelectorAll(".bd-article table"), function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("th"), function (th) {
        return th.textContent.trim().toLowerCase();
      });
      if (heads.indexOf("verdict") >= 0 && heads.indexOf("claim") >= 0) { table.classList.add("verdict-table"); }
    });
  }
  document.addEventListener("DOMContentLoaded", markVerdictTables);

  // the window's width changed (a phone turned, a window resized): formulas broken again for the new width
  var lastWidth = window.innerWidth, resizing = null, RETYPESET_AFTER_MS = 200;     // the window settled that long
  window.RETYPESET_AFTER_MS = RETYPESET_AFTER_MS;
  function onResize() {
    if (window.innerWidth === lastWidth || !(window.MathJax && MathJax.startup && MathJax.startup.document)) { return; }
    lastWidth = window.innerWidth;
    clearTimeout(resizing);
    resizing = setTimeout(function () {          // typeset again from the measuring of the widths on
      var core = MathJax._ && MathJax._.core && MathJax._.core.MathItem, metrics = core ? core.STATE.METRICS : 110;
      MathJax.startup.promise = MathJax.startup.promise.then(function () {
        return MathJax.startup.document.rerenderPromise(metrics);
      }).then(markScrolling);
    }, RETYPESET_AFTER_MS);
  }

  function report() {
    var pre = document.createElement("pre");
    pre.id = "site-check";
    pre.style.display = "none";
    pre.textContent = JSON.stringify(summary());
    document.body.appendChild(pre);
  }

  function describe(el) {
    var name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
               (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
    var claim = el.closest(".cell_output, section");
    var where = claim && claim.querySelector("[id^='claim-']");
    var need = el.ownerSVGElement ? Math.round(el.getBoundingClientRect().width) : el.scrollWidth;
    var room = el.ownerSVGElement ? Math.round(el.ownerSVGElement.getBoundingClientRect().width) : el.clientWidth;
    return name + " (" + need + " px in " + room + " px" + (where ? ", near " + where.id : "") +
           "): " + (el.innerText || el.textContent || "").trim().slice(0, 70);
  }

  var scrollingTables = [];
  function overflow() {
    var article = document.querySelector(".bd-article") || document.querySelector("main") || document.body;
    var wide = [];
    scrollingTables = [];
    Array.prototype.forEach.call(article.querySelectorAll("*"), function (el) {
      if (el.closest("mjx-container") && el.tagName.toLowerCase() !== "mjx-container") { return; }   // inside
      var svg = el.ownerSVGElement;
      if (svg) {                    // inside a figure: what it draws must lie within the figure (rotation included)
        if (el.tagName.toLowerCase() !== "text" || !el.textContent) { return; }
        var r = el.getBoundingClientRect(), s = svg.getBoundingClientRect();
        if (r.left < s.left - 1 || r.right > s.right + 1) { wide.push(el); }
        return;
      }
      if (el.matches('span.math, mjx-container:not([display="true"])') ||      // a formula in the text, or any
          getComputedStyle(el).display.indexOf("inline") === 0) { return; }    // inline box: its line measures it
      if (el.closest("#site-check") || el.clientWidth === 0) { return; }          // inline, hidden or folded away
      if (el.matches(".pst-scrollable-table-container.scrolls")) {            // scrolls on purpose, with its cue
        scrollingTables.push(describe(el) + (el.querySelector(".verdict-table") ? " [verdict table]" : ""));
        return;
      }
      if (el.matches('mjx-container[display="true"]')) {                      // scrolls on purpose: must fit
        if (el.getBoundingClientRect().width > el.parentElement.clientWidth + 1) { wide.push(el); }
        return;
      }
      if (el.scrollWidth > el.clientWidth + 1) { wide.push(el); }
    });
    // the innermost only: an element that is too wide because a child is adds nothing
    return wide.filter(function (el) { return !wide.some(function (o) { return o !== el && el.contains(o); }); })
               .map(describe);
  }
  window.overflow = overflow;
  window.displayFormulas = displayFormulas;
  window.markScrolling = markScrolling;

  function fitForPrint() {
    Array.prototype.forEach.call(document.querySelectorAll("details.checks, details.findings"),
                                 function (d) { d.open = true; });
    var boxes = document.querySelectorAll('mjx-container[display="true"], mjx-container[jax="CHTML"][display]');
    Array.prototype.forEach.call(boxes, function (box) {
      box.style.fontSize = "";
      var room = box.parentElement.clientWidth, need = box.scrollWidth;
      if (room > 0 && need > room) { box.style.fontSize = Math.floor(9800 * room / need) / 100 + "%"; }
    });
    // a formula in the text cannot break either: one wider than its block, on a line of its own, is scaled down
    var inline = document.querySelectorAll('mjx-container[jax="CHTML"]:not([display])');
    Array.prototype.forEach.call(inline, function (box) {
      box.style.fontSize = "";
      var block = box.parentElement;
      while (block && getComputedStyle(block).display.indexOf("inline") === 0) { block = block.parentElement; }
      if (!block) { return; }
      var need = box.getBoundingClientRect().width;
      if (need > block.clientWidth && block.clientWidth > 0) {
        box.style.fontSize = Math.floor(9800 * block.clientWidth / need) / 100 + "%";
      }
    });
  }
  window.fitForPrint = fitForPrint;
  window.addEventListener("beforeprint", fitForPrint);

  window.addEventListener("resize", onResize);
  window.addEventListener("load", function () {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(function () { markScrolling(); report(); }, report);
    } else {
      report();
    }
  });
})();
