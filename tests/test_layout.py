"""The module graph runs one way, from the ground (keypoints, settings) to the top (the CLI): every import of a cdpose module,
at the top of a file or inside a function, points to a lower floor or the same floor, and there is no circle."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOORS = [["keypoints", "settings", "files"],                 # the ground: the joint schema, the site settings, file errors and writes
          ["data"],                                            # PoseTrack formats: readers, writers, the registry
          ["dataset"],                                         # a data set on disk: layouts, checks, loading, detection files
          ["clips", "scene", "body", "video_io"],              # network inputs; the synthetic scene (rendering), its people; video files
          ["synthetic"],                                       # the synthetic data set (SynthPoseTrack) on disk
          ["backbone", "semantic", "trajectory", "fusion"],    # the method's parts
          ["model"],
          ["evaluation", "profiles", "checkpoints", "predict", "step_cost", "invariance"],
          ["training", "inference", "launch"],   # training a run; running a model; launching runs (torchrun, SLURM)
          ["results", "tables"],                               # labelled tables and the paper's numbers; `cdpose tables`
          ["model_commands", "cli"]]                           # the `cdpose` command and its subcommands
FLOOR = {m: i for i, ms in enumerate(FLOORS) for m in ms}

def imports() -> dict[str, set[str]]:
    "Each module of cdpose/ and the cdpose modules it imports (relative or absolute, anywhere in the file)."
    out = {}
    for p in sorted((ROOT / "cdpose").glob("*.py")):
        if p.name.startswith("_"): continue
        deps = set()
        for n in ast.walk(ast.parse(p.read_text())):
            if isinstance(n, ast.ImportFrom) and n.module:
                if n.level == 1: deps.add(n.module.split(".")[0])
                elif n.module.startswith("cdpose."): deps.add(n.module.split(".")[1])
            elif isinstance(n, ast.Import):
                deps |= {a.name.split(".")[1] for a in n.names if a.name.startswith("cdpose.")}
        out[p.stem] = deps - {p.stem}
    return out

def test_every_module_has_a_floor():
    assert set(imports()) == set(FLOOR), "place the new module on a floor in tests/test_layout.py (and README's table)"

def test_no_import_points_up():
    up = [f"{a} (floor {FLOOR[a]}) imports {b} (floor {FLOOR[b]})" for a, deps in imports().items() for b in deps if FLOOR[b] > FLOOR[a]]
    assert not up, up

def test_no_circle():
    g, state = imports(), {}
    def visit(m, path):
        if state.get(m) == "done": return
        assert state.get(m) != "open", "import circle: " + " -> ".join(path + [m])
        state[m] = "open"
        for d in sorted(g[m]): visit(d, path + [m])
        state[m] = "done"
    for m in g: visit(m, [])

def test_modules_and_exported_cells_are_small():
    "One idea per module and one step per cell (issue 14): no module of cdpose/ over 400 lines, no exported cell over 60."
    big, cells = [], []
    for p in sorted((ROOT / "cdpose").glob("*.py")):
        if p.name.startswith("_"): continue
        lines = p.read_text().splitlines()
        if len(lines) > 400: big.append(f"{p.name}: {len(lines)} lines")
        marks = [i for i, l in enumerate(lines) if l.startswith("# %%")] + [len(lines)]
        cells += [f"{p.name}:{a + 1} ({lines[a]}): {b - a - 1} lines" for a, b in zip(marks, marks[1:]) if b - a - 1 > 60]
    assert not big and not cells, big + cells

def test_the_core_never_imports_the_research_wing():
    "research/ plugs into the core through its registries; no module of cdpose/ imports research/, at the top or inside a function."
    found = []
    for p in sorted((ROOT / "cdpose").glob("*.py")):
        for n in ast.walk(ast.parse(p.read_text())):
            names = [n.module or ""] if isinstance(n, ast.ImportFrom) else [a.name for a in n.names] if isinstance(n, ast.Import) else []
            found += [f"{p.name}:{n.lineno} imports {m}" for m in names if m.split(".")[0] == "research"]
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("research."):
                found.append(f"{p.name}:{n.lineno} names {n.value!r}")     # importlib.import_module("research....")
    assert not found, found

def test_every_module_has_a_docstring():
    "Each module of cdpose/ opens with its docstring (nbdev writes the notebook's title quote there)."
    missing = [p.name for p in sorted((ROOT / "cdpose").glob("*.py")) if not p.name.startswith("_") and not ast.get_docstring(ast.parse(p.read_text()))]
    assert not missing, missing
