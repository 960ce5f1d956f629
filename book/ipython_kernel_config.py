# IPython kernel configuration for the book build: `make book` copies it into the
# IPYTHONDIR that the notebook kernels use. Figures become SVG, crisp on high-density
# screens and when a reader zooms on a phone; a fixed hash salt makes the SVG identical
# from build to build.
c = get_config()  # noqa: F821
c.InlineBackend.figure_formats = {"svg"}
c.InlineBackend.rc = {"svg.hashsalt": "lsbook", "svg.fonttype": "path"}
