"""Copy edits made in cdpose/*.py back into their notebook cells (the cell-id markers nbdev-export writes),
inserting a new exported cell for a marker whose id the notebook lacks. Run nbdev-export afterwards: the
library must come out identical."""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = re.compile(r"^# %% \.\./nbs/(?P<nb>[^ ]+\.ipynb) #(?P<id>\w+)\s*$")

def sections(py: Path):
    "(notebook, cell id, source) for every exported cell of a module."
    out, cur, buf = [], None, []
    for line in py.read_text().splitlines(keepends=True):
        m = MARK.match(line.rstrip("\n"))
        if m or line.startswith("# %% auto"):
            if cur: out.append((*cur, "".join(buf)))
            cur, buf = ((m["nb"], m["id"]) if m else None), []
        elif cur: buf.append(line)
    if cur: out.append((*cur, "".join(buf)))
    return out

def sync(py: Path):
    changed = {}
    prev = None
    for nbname, cid, src in sections(py):
        path = ROOT / "nbs" / nbname
        nb = changed.get(path) or json.loads(path.read_text())
        cells = nb["cells"]
        idx = next((i for i, c in enumerate(cells) if c.get("id") == cid), None)
        body = re.sub(r"^from \.(\w+) import", r"from cdpose.\1 import", src.strip("\n"), flags=re.M)
        if idx is None:
            at = next(i for i, c in enumerate(cells) if c.get("id") == prev) + 1 if prev else len(cells)
            cells.insert(at, {"cell_type": "code", "execution_count": None, "id": cid, "metadata": {}, "outputs": [],
                              "source": ("#| export\n" + body).splitlines(keepends=True)})
        else:
            old = "".join(cells[idx]["source"]).splitlines(keepends=True)
            head = [l for l in old if l.startswith("#|")]
            cells[idx]["source"] = ("".join(head) + body).splitlines(keepends=True)
        changed[path], prev = nb, cid
    for path, nb in changed.items(): path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")

if __name__ == "__main__":
    for name in sys.argv[1:]: sync(ROOT / "cdpose" / f"{name}.py")
