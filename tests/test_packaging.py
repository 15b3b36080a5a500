"The package: notebooks and library in sync, notebook tests, dependencies, README, wheel, Jupyter kernel."
import filecmp, re, shutil, subprocess, sys, tomllib
from pathlib import Path

import yaml

from conftest import ROOT

def _names(reqs):
    return {re.split(r"[<>=!~\[; ]", r.strip(), maxsplit=1)[0].lower().replace("_", "-") for r in reqs}

def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(proj["dependencies"] + proj["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    conda = {n for n in _names(d for d in env["dependencies"] if isinstance(d, str))} - {"python", "pip"}
    assert _names(pip) | conda == wanted

def test_nbdev_export_leaves_the_library_unchanged(tmp_path):
    for p in ("nbs", "cdpose", "pyproject.toml", "settings.ini"):
        (shutil.copytree if (ROOT / p).is_dir() else shutil.copy)(ROOT / p, tmp_path / p)
    r = subprocess.run([Path(sys.executable).parent / "nbdev-export"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    cmp = filecmp.dircmp(ROOT / "cdpose", tmp_path / "cdpose", ignore=["__pycache__"])
    def diffs(c): return c.diff_files + c.left_only + c.right_only + [f for s in c.subdirs.values() for f in diffs(s)]
    assert diffs(cmp) == [], f"cdpose/ is out of sync with nbs/: run nbdev-export ({diffs(cmp)})"

def test_library_notebooks_pass_nbdev_test():
    r = subprocess.run([Path(sys.executable).parent / "nbdev-test", "--n-workers", "2"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]

def test_readme_is_generated_from_index_notebook():
    r = subprocess.run([sys.executable, ROOT / "tools" / "make_readme.py", "--check"], cwd=ROOT)
    assert r.returncode == 0, "README.md is out of date: python tools/make_readme.py"
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S).group(1).strip().splitlines()
    assert len(block) == 3 and "pip install --require-hashes -r requirements-lock.txt" in block[0] and "pip install --no-deps -e ." in block[0]
    assert block[1] == "cdpose tables --profile smoke" and "pytest" in block[2]
    assert "--require-hashes -r requirements-lock.txt" in (ROOT / ".ci" / "run").read_text()      # CI installs what the README says
    assert (ROOT / ".ci" / "run").read_text().count("python -m pytest") >= 1

def test_settings_ini_says_where_nbdev_config_lives():
    head = (ROOT / "settings.ini").read_text().split("[cdpose]")[0]
    assert "pyproject.toml" in head and "nbdev" in head

def test_wheel_installs_and_runs_without_the_notebooks(tmp_path):
    r = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "dist", ROOT],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("cdpose-*.whl")
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", site, wheel], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not list(site.rglob("*.ipynb"))
    code = ("import cdpose, sys; assert cdpose.__file__.startswith(sys.argv[1]), cdpose.__file__; "
            "from cdpose.cli import main; sys.exit(main(['synth', sys.argv[2], '--tiny']) or main(['inspect', sys.argv[2]]))")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code, str(site), tmp_path / "data"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "valid" in r.stdout
    assert (site / "bin" / "cdpose").exists()   # the console script is in the wheel

def test_jupyter_kernel_imports_cdpose():
    r = subprocess.run([Path(sys.executable).parent / "jupyter", "kernelspec", "list", "--json"], capture_output=True, text=True)
    assert r.returncode == 0 and "python3" in r.stdout
    import json
    argv = json.loads(r.stdout)["kernelspecs"]["python3"]["spec"]["argv"]
    exe = sys.executable if argv[0] in ("python", "python3") else argv[0]
    r = subprocess.run([exe, "-c", "import cdpose.data, cdpose.synthetic; print('ok')"], capture_output=True, text=True, cwd="/")
    assert r.stdout.strip() == "ok", r.stderr
