// sslbook: glue between the vendored widget manager and this site (not part of any npm package).
// Load it after require.js and before embed-amd.js (see _config.yml, nb_ipywidgets_js).
(function () {
  "use strict";
  // 1. embed-amd.js loads its Font Awesome fonts relative to a path it derives from RequireJS, which
  //    for a page in a subfolder is the page's folder, not _static/widgets/. Point it at the folder
  //    of this script, where the fonts are vendored.
  //    RequireJS derives a module's URL from its name and baseUrl (the page's folder), so map the
  //    html-manager module names onto this folder; embed-amd.js then finds its fonts beside it.
  var script = document.currentScript;
  if (script && script.src) {
    var here = script.src.replace(/[?#].*$/, "").replace(/[^/]*$/, "");
    window.__jupyter_widgets_assets_path__ = here;
    if (window.requirejs && typeof window.requirejs.config === "function") {
      window.requirejs.config({
        paths: {
          "@jupyter-widgets/html-manager": here + "embed-amd",
          "@jupyter-widgets/html-manager/dist": here.replace(/\/$/, ""),
        },
      });
    }
  }
  // 2. @jupyter-widgets/base 8 typesets widget labels with the MathJax 2 API
  //    (MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])); the site runs MathJax 3. Map that
  //    call onto MathJax 3 once MathJax has loaded (its script is deferred; widgets render on "load").
  function installHub() {
    var mj = window.MathJax;
    if (!mj || mj.Hub || typeof mj.typesetPromise !== "function") {
      return;
    }
    mj.Hub = {
      Queue: function () {
        Array.prototype.forEach.call(arguments, function (job) {
          if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
            var el = job[2];
            // Jupyter typesets $...$ in widget labels; this site's MathJax only knows \(...\).
            if (el.childElementCount === 0 && el.textContent.indexOf("$") !== -1) {
              el.textContent = el.textContent
                .replace(/\$\$([^$]+)\$\$/g, "\\[$1\\]")
                .replace(/\$([^$]+)\$/g, "\\($1\\)");
            }
            var ready = mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
            ready.then(function () {
              return mj.typesetPromise([el]);
            }).catch(function (err) {
              console.warn("MathJax typeset of a widget label failed:", err);
            });
          }
        });
      },
    };
  }
  document.addEventListener("DOMContentLoaded", installHub);
  window.addEventListener("load", installHub);
})();
