"""Sphinx fixes for the built site."""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    # Sphinx 7.4 registers an inline script added after the builder starts (sphinx-thebe's
    # `const THEBE_JS_URL = ...`, sphinx-togglebutton's selector) once with filename None and again
    # with filename '' in prepare_writing; the page then declares the const twice -> SyntaxError.
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        key = (js.filename or "", js.priority, tuple(sorted(js.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.add_css_file("sslbook.css")  # _vendor/sslbook.css: long output lines wrap (issue #19)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
