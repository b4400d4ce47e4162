/* The book's own script, on every page.
 * 1. Once MathJax (3) has typeset the page, a JSON summary goes into a hidden <pre id="site-check">:
 *    formulas rendered, MathJax errors, raw $$ left, images (broken ones named), every resource loaded.
 *    The browser test (tests/test_site.py) reads it.
 * 2. fitForPrint(): for print, every displayed formula wider than its column is scaled down to fit
 *    (MathJax 3 does not break lines); called on `beforeprint` and by tools/book.py before printing a PDF.
 */
(function () {
  "use strict";

  function summary() {
    var imgs = Array.prototype.slice.call(document.images);
    var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                     .map(function (i) { return i.src.slice(0, 80); });
    var main = document.querySelector("main") || document.body;
    var text = main.innerText;
    return {
      mathjax: !!(window.MathJax && MathJax.startup && MathJax.startup.document),
      formulas: document.querySelectorAll("mjx-container").length,
      math_errors: document.querySelectorAll("mjx-merror, [data-mjx-error]").length,
      raw_tex_left: (text.match(/\$\$/g) || []).length,
      images: imgs.length,
      broken_images: broken,
      resources: performance.getEntriesByType("resource").map(function (e) { return e.name; }),
      title: document.title
    };
  }

  function report() {
    var pre = document.createElement("pre");
    pre.id = "site-check";
    pre.style.display = "none";
    pre.textContent = JSON.stringify(summary());
    document.body.appendChild(pre);
  }

  function fitForPrint() {
    var boxes = document.querySelectorAll('mjx-container[display="true"], mjx-container[jax="CHTML"][display]');
    Array.prototype.forEach.call(boxes, function (box) {
      box.style.fontSize = "";
      var room = box.parentElement.clientWidth, need = box.scrollWidth;
      if (room > 0 && need > room) { box.style.fontSize = Math.floor(9800 * room / need) / 100 + "%"; }
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
