"""Write README.md from nbs/index.ipynb (nbdev's own `nbdev_readme` needs Quarto, which we do not install).

Usage: python tools/make_readme.py [--check]   (--check exits 1 if README.md is out of date)
"""
import sys
from pathlib import Path

import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parents[1]

def render() -> str:
    "The README text: the markdown cells of index.ipynb, then its code cells (there are none at present)."
    nb = nbformat.read(ROOT / "nbs" / "index.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if c.cell_type == "markdown"]
    body, _ = MarkdownExporter().from_notebook_node(nb)
    body = body.replace("> Continuity-Driven", "Continuity-Driven", 1).strip() + "\n"
    return "<!-- generated from nbs/index.ipynb by tools/make_readme.py: do not edit -->\n" + body

if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if (ROOT / "README.md").read_text() == text else 1)
    (ROOT / "README.md").write_text(text)
