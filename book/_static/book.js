/* The book's own script, on every page.
 * 1. Once MathJax (3) has typeset the page, a JSON summary goes into a hidden <pre id="site-check">:
 *    formulas rendered, MathJax errors, raw $$ left, images (broken ones named), every resource loaded,
 *    the folds (<details> of a claim's checks, a worked example's findings: how many, how many open, the math
 *    typeset inside them) and what is wider than its column (overflow()). The browser test (tests/test_site.py)
 *    reads it.
 * 2. fitForPrint(): for print, the folds are opened (the PDF prints the checks, in small type) and every
 *    formula wider than its column (displayed, or in the text, on a line of its own) is scaled down to fit
 *    (MathJax 3 does not break lines); called on `beforeprint` and by tools/book.py before printing a PDF.
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
      mathjax: !!(window.MathJax && MathJax.startup && MathJax.startup.document),
      formulas: document.querySelectorAll("mjx-container").length,
      math_errors: document.querySelectorAll("mjx-merror, [data-mjx-error]").length,
      raw_tex_left: (text.match(/\$\$/g) || []).length,
      images: imgs.length,
      broken_images: broken,
      resources: performance.getEntriesByType("resource").map(function (e) { return e.name; }),
      tex_outside_math: texOutsideMath(),
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

  function overflow() {
    var article = document.querySelector(".bd-article") || document.querySelector("main") || document.body;
    var wide = [];
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

  window.addEventListener("load", function () {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(report, report);
    } else {
      report();
    }
  });
})();
