"""Sphinx extension of the course website (site/_config.yml): pages that load nothing from the network.

Jupyter Book always loads sphinx-thebe, which writes its inline script twice on every page (a console error:
"Identifier 'THEBE_JS_URL' has already been declared") and points at a CDN. The course runs its notebooks in
JupyterLab (site/launch.md), not through thebe, so this extension takes sphinx-thebe's event handlers out
before they add anything.
"""

from __future__ import annotations


def _drop_thebe(app) -> None:
    for listeners in app.events.listeners.values():
        for listener in list(listeners):
            module = getattr(listener.handler, "__module__", "") or ""
            if module.split(".")[0] == "sphinx_thebe" and listener.handler.__name__ != "st_static_path":
                app.disconnect(listener.id)


def setup(app):
    app.setup_extension("sphinx_thebe")  # loaded by Jupyter Book anyway; make sure it comes first
    _drop_thebe(app)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
