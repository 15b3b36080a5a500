"""Every command the README shows runs as written: each program exists, every `cdpose` line (also under torchrun)
parses with the real argument parser, scripts exist, and the cheap ones run."""
import importlib.util, os, re, shlex, shutil, subprocess, sys
from pathlib import Path

import pytest

from cdpose.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUN = {"cdpose settings", "nbdev-test nbs/00_keypoints.ipynb", "python tools/make_readme.py"}   # cheap: run them

def readme_commands() -> list[str]:
    "Each command of the README's shell blocks: comments dropped, `a && b` split."
    text = (ROOT / "README.md").read_text()
    out = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            out += [c.strip() for c in line.split("&&") if c.strip()]
    return out

def _parses(args: list[str]):
    "The cdpose parser accepts `args` (placeholders such as GT_DIR are values, so they parse)."
    try: build_parser().parse_args(args)
    except SystemExit as e: pytest.fail(f"`cdpose {' '.join(args)}` from the README does not parse (exit {e.code})")

@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_exists(command):
    tokens = shlex.split(command)
    while tokens and re.fullmatch(r"[A-Z_]+=.*", tokens[0]): tokens = tokens[1:]     # VAR=value prefixes
    prog, args = tokens[0], tokens[1:]
    if prog in (".", "source"): assert (ROOT / args[0]).parent.name == "bin"; return
    if prog == "cdpose": _parses(args)
    elif prog == "torchrun":
        assert (BIN / "torchrun").exists()
        i = args.index("-m"); assert args[i + 1] == "cdpose.cli"; _parses(args[i + 2:])
    elif prog in ("python", "python3"):
        if args[0] == "-m": assert importlib.util.find_spec(args[1]) is not None, args[1]
        else: assert (ROOT / args[0]).is_file(), args[0]
    elif "/" in prog: assert os.access(ROOT / prog, os.X_OK), f"{prog} is not an executable file"
    else: assert (BIN / prog).exists() or shutil.which(prog), f"`{prog}` (README: {command}) is not installed"

@pytest.mark.parametrize("command", sorted(RUN))
def test_cheap_readme_commands_run(command):
    assert command in {c.split(" --check")[0] for c in readme_commands()}, f"{command} is no longer in the README"
    args = shlex.split(command)
    if args[0] == "python": args[0] = sys.executable
    if command.startswith("python tools/make_readme.py"): args.append("--check")     # do not rewrite the README
    exe = args[0] if args[0] == sys.executable else str(BIN / args[0])
    r = subprocess.run([exe, *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{command}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"

def test_docs_configuration_is_complete():
    "The docs site's configuration is committed; the sidebar lists every chapter; what the build generates is ignored."
    import yaml
    quarto = yaml.safe_load((ROOT / "nbs" / "_quarto.yml").read_text())
    assert quarto["format"]["html"]["html-math-method"] and "sidebar.yml" in quarto["metadata-files"]
    sidebar = yaml.safe_load((ROOT / "nbs" / "sidebar.yml").read_text())
    listed = set()
    def walk(items):
        for it in items: walk(it["contents"]) if isinstance(it, dict) else listed.add(it)
    walk(sidebar["website"]["sidebar"]["contents"])
    assert listed == {p.name for p in (ROOT / "nbs").glob("*.ipynb")}
    ignored = (ROOT / ".gitignore").read_text().split()
    assert {"nbs/nbdev.yml", "_docs/", "_proc/"} <= set(ignored)
    assert (ROOT / ".github" / "workflows" / "deploy.yaml").is_file()

# a result or a fact stated with a number: a decimal (or a version), or a number with a unit
STATED = re.compile(r"(?<![\w.\-/])(\d+(?:\.\d+)+|\d+(?:,\d{3})*\s?(?:%|min\b|minutes?\b|seconds?\b|s\b|ms\b|GiB\b|GB\b|MB\b"
                    r"|clips/s\b|mAP\b|hours?\b|x\b|times\b|cores?\b|GPUs?\b|epochs?\b|steps?\b))")
RECORDS = ("paper_tables/**/*.csv", "paper_tables/**/*.json", "pyproject.toml", "tools/make_lock.sh")   # not the lock's versions

def readme_prose_numbers(text: str) -> list[str]:
    "The numbers the README's prose states: not its commands and code, links, or the rendered 'Committed results'."
    prose = text.partition("## Committed results")[0]
    prose = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", prose, flags=re.S))
    return [m.group(1) for m in STATED.finditer(re.sub(r"\]\([^)]*\)", "]", prose))]

def test_every_number_in_the_readme_has_a_record():
    """Issue 32: the README's prose states no number that the committed records (tables, labels, manifests, the lock and
    its settings) do not hold, as a number with that unit; its results section is rendered from them by
    tools/make_readme.py (`--check` in test_cheap_readme_commands_run)."""
    records = "\n".join(p.read_text() for pat in RECORDS for p in ROOT.glob(pat))
    def recorded(n: str) -> bool:
        num, unit = re.match(r"([\d.,]+)\s?(.*)", n).groups()
        after = r"\s?" + re.escape(unit) if unit else ""
        return re.search(r"(?<![\d.])" + re.escape(num) + r"(?!\d|\.\d)" + after, records) is not None
    missing = [n for n in readme_prose_numbers((ROOT / "README.md").read_text()) if not recorded(n)]
    assert not missing, f"README numbers with no committed record behind them: {missing}"
    assert readme_prose_numbers("took 40.5 minutes, on 4 GPUs; `run 3.2 s`") == ["40.5", "4 GPUs"]   # the check sees them
