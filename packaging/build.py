"""Build the frozen Clearooms setup wizard for this platform.

    python packaging/build.py              # -> dist/clearooms-wizard/ (+ dist/Clearooms Wizard.app)
    python packaging/build.py --smoke      # then run its --version and check --demo --json
    python packaging/build.py --installer  # Windows: then the Inno Setup installer, in dist/

Needs PyInstaller: ``pip install -e ".[packaging]"``. Run it with the project's own Python (the
virtual environment the wizard is installed in): PyInstaller bundles that interpreter and the
packages installed there. See packaging/README.md for signing on each platform.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "clearooms_wizard.spec"
ISS = ROOT / "packaging" / "windows" / "clearooms-wizard.iss"
NAME = "clearooms-wizard"
APP_BUNDLE = "Clearooms Wizard.app"


def project_version() -> str:
    """``__version__`` from clearooms_wizard/__init__.py, read without importing the package."""
    source = (ROOT / "clearooms_wizard" / "__init__.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__version__" for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            if isinstance(value, str):
                return value
    raise SystemExit("clearooms_wizard/__init__.py has no __version__ string")


def executable(app_dir: Path, console: bool = True) -> Path:
    """The program in a built folder; on Windows ``console`` picks the command-line twin."""
    if sys.platform == "win32":
        return app_dir / (f"{NAME}-cli.exe" if console else f"{NAME}.exe")
    return app_dir / NAME


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def refuse_leaky_binding() -> None:
    """The frozen app carries this environment's Qt binding: never a release that frees None."""
    probe = [sys.executable, "-m", "clearooms_wizard.ui.binding_check"]
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    result = subprocess.run(probe, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(
            "Not building with this Qt binding: install a known-good PySide6-Essentials "
            '(pip install -e ".[packaging]" picks one; the README lists them).'
        )


def packaged_setup_client(client_id: str, work: Path) -> Path:
    """The file the spec ships as the wizard's default setup client (a vendor's own)."""
    sys.path.insert(0, str(ROOT))
    from clearooms_wizard.core.app_setup import PACKAGED_SETUP_CLIENT_FILE, setup_client_from
    from clearooms_wizard.core.store import InvalidInput

    try:
        checked = setup_client_from(client_id).client_id
    except InvalidInput as exc:
        raise SystemExit(str(exc)) from None
    work.mkdir(parents=True, exist_ok=True)
    target = work / PACKAGED_SETUP_CLIENT_FILE
    target.write_text(checked + "\n", encoding="utf-8")
    return target


def run_pyinstaller(dist: Path, work: Path, clean: bool) -> Path:
    if importlib.util.find_spec("PyInstaller") is None:
        raise SystemExit(
            f"PyInstaller is not installed for {sys.executable}. "
            'Install it with: pip install -e ".[packaging]"'
        )
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level=WARN",
        f"--distpath={dist}",
        f"--workpath={work}",
        str(SPEC),
    ]
    if clean:
        command.insert(3, "--clean")
    subprocess.run(command, check=True, cwd=ROOT)
    return dist / NAME


def smoke_test(app_dir: Path) -> None:
    """The two commands the CI test runs, for a quick look on any platform."""
    program = executable(app_dir)
    env = dict(os.environ, CLEAROOMS_WORKSPACE=str(app_dir.parent / "smoke-workspace.sqlite3"))
    for words in (["--version"], ["check", "--demo", "--json"]):
        result = subprocess.run(
            [str(program), *words], capture_output=True, text=True, timeout=120, env=env
        )
        first = (result.stdout.strip().splitlines() or [""])[0]
        print(f"  {program.name} {' '.join(words)}: exit {result.returncode}  {first[:60]}")
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
            raise SystemExit(f"smoke test failed: {program} {' '.join(words)}")


def find_iscc() -> str | None:
    found = shutil.which("iscc") or shutil.which("ISCC")
    if found:
        return found
    for variable in ("ProgramFiles(x86)", "ProgramFiles"):
        base = os.environ.get(variable)
        if base:
            candidate = Path(base) / "Inno Setup 6" / "ISCC.exe"
            if candidate.is_file():
                return str(candidate)
    return None


def build_installer(app_dir: Path, dist: Path, version: str) -> None:
    iscc = find_iscc()
    if iscc is None:
        raise SystemExit("Inno Setup 6 is not installed (ISCC.exe); see packaging/README.md.")
    # The version and the folders are defines, so the script itself never repeats them.
    command = [
        iscc,
        f"/DAppVersion={version}",
        f"/DSourceDir={app_dir}",
        f"/DIconFile={ROOT / 'resources' / 'icons' / f'{NAME}.ico'}",
        f"/O{dist}",
    ]
    # A signing command with $f for the file, e.g. signtool sign /fd sha256 /a ... $f
    sign = os.environ.get("CLEAROOMS_SIGNTOOL")
    if sign:
        for program in sorted(app_dir.glob("*.exe")):
            subprocess.run(sign.replace("$f", f'"{program}"'), shell=True, check=True)
        command += ["/DSign", f"/Sclearooms={sign}"]
    subprocess.run([*command, str(ISS)], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the frozen Clearooms setup wizard.")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument(
        "--work", type=Path, default=ROOT / "build" / "pyinstaller", help="PyInstaller's cache"
    )
    parser.add_argument("--clean", action="store_true", help="ignore PyInstaller's cache")
    parser.add_argument("--smoke", action="store_true", help="run the built program's smoke test")
    parser.add_argument("--installer", action="store_true", help="Windows: build the installer")
    parser.add_argument(
        "--setup-client-id",
        metavar="ID",
        help="the vendor's own public client for administrator sign-ins (default: Azure CLI's)",
    )
    args = parser.parse_args(argv)
    if args.installer and sys.platform != "win32":
        parser.error("--installer builds the Windows installer: run it on Windows")

    version = project_version()
    print(f"Building clearooms-wizard {version} for {sys.platform} with {sys.executable}")
    refuse_leaky_binding()
    os.environ.pop("CLEAROOMS_PACKAGED_SETUP_CLIENT", None)
    if args.setup_client_id:
        packaged = packaged_setup_client(args.setup_client_id, args.work.resolve())
        os.environ["CLEAROOMS_PACKAGED_SETUP_CLIENT"] = str(packaged)
        print(f"Administrators will sign in with the public client {packaged.read_text().strip()}")
    started = time.monotonic()
    app_dir = run_pyinstaller(args.dist.resolve(), args.work.resolve(), args.clean)
    elapsed = time.monotonic() - started
    size = folder_size(app_dir) / 1_000_000
    print(f"Built {app_dir} ({size:.0f} MB) in {elapsed:.0f} s")
    if sys.platform == "darwin":
        print(f"      {args.dist.resolve() / APP_BUNDLE}")
    if args.smoke:
        smoke_test(app_dir)
    if args.installer:
        build_installer(app_dir, args.dist.resolve(), version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
