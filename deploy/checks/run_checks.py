"""The deployment checks of CI (`make check-deploy`), offline, with the tools of deploy/checks/requirements.txt:

1. no secret file committed (.env, deploy/k8s/overlays/*/secrets/*.env); every Kubernetes overlay rendered with
   `kubectl kustomize` (from a copy of deploy/k8s whose secret files are the committed *.env.example, so the
   work tree is never touched) and validated by validate_manifests.py;
2. docker-compose.yml against the Compose Specification's JSON schema (vendored: deploy/checks/README.md), and
   every variable it requires (${NAME:?...}) listed in .env.example;
3. the Dockerfiles linted with hadolint (any finding fails);
4. checkov over the rendered manifests and the Dockerfiles: no failed check, and every skipped one must say why
   (the text after `=` in its checkov.io/skip annotation); and checkov's secrets scan of what is committed.

Run from the repository root: python deploy/checks/run_checks.py (the tools' bin directory on PATH).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ROOT / "deploy" / "checks"
KUBERNETES_VERSIONS = ("1.30", "1.37")
"""The oldest Kubernetes the manifests are meant for, and the newest the schemas know."""


class CheckFailed(Exception):
    pass


def run(*command: str | Path, quiet: bool = False) -> str:
    done = subprocess.run([str(part) for part in command], cwd=ROOT, capture_output=True, text=True, check=False)
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise CheckFailed(f"{' '.join(map(str, command))} exited {done.returncode}:\n{output}")
    return "" if quiet else output


def render_overlays(workdir: Path) -> list[Path]:
    k8s = workdir / "k8s"
    shutil.copytree(ROOT / "deploy" / "k8s", k8s, ignore=shutil.ignore_patterns("*.env"))
    rendered = []
    for overlay in sorted((k8s / "overlays").iterdir()):
        for example in (overlay / "secrets").glob("*.env.example"):
            shutil.copy(example, example.with_suffix(""))
        output = workdir / f"{overlay.name}.yaml"
        output.write_text(run("kubectl", "kustomize", overlay) + "\n", encoding="utf-8")
        kinds = re.findall(r"^kind: (\S+)$", output.read_text(encoding="utf-8"), flags=re.MULTILINE)
        print(f"  overlay {overlay.name}: {len(kinds)} resources rendered")
        rendered.append(output)
    return rendered


def check_compose() -> None:
    print("  " + run("check-jsonschema", "--schemafile", CHECKS / "compose-spec.json", "docker-compose.yml"))
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    required = sorted(set(re.findall(r"\$\{([A-Z0-9_]+):\?", compose)))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Z0-9_]+)=", example, flags=re.MULTILINE))
    missing = [name for name in required if name not in listed]
    if missing:
        raise CheckFailed(f"docker-compose.yml requires {', '.join(missing)}, which .env.example does not list")
    print(f"  required variables {', '.join(required)}: each in .env.example")


def check_dockerfiles() -> None:
    dockerfiles = sorted((ROOT / "deploy" / "docker").glob("*.Dockerfile"))
    run("hadolint", *dockerfiles, quiet=True)
    print(f"  hadolint: {len(dockerfiles)} Dockerfiles, no finding")


def checkov(workdir: Path, name: str, frameworks: list[str], targets: list[str]) -> tuple[int, int]:
    """Run checkov; (checks passed, checks skipped), or CheckFailed listing the failed and unexplained ones."""
    report = workdir / f"checkov-{name}"
    command = ["checkov", "--skip-download", "--compact", "--output", "json",
               "--output-file-path", str(report), "--framework", *frameworks, *targets]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    try:
        results = json.loads((report / "results_json.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckFailed(f"checkov exited {done.returncode} without a report: {done.stderr.strip()}") from None
    reports = results if isinstance(results, list) else [results]
    failed, unexplained, passed, skipped = [], [], 0, 0
    for framework in reports:
        checks = framework.get("results", {})
        passed += len(checks.get("passed_checks", []))
        for check in checks.get("failed_checks", []):
            failed.append(f"{check['check_id']} {check['check_name']}: {check['resource']} ({check['file_path']})")
        for check in checks.get("skipped_checks", []):
            skipped += 1
            reason = (check.get("check_result") or {}).get("suppress_comment") or ""
            if not reason.strip() or reason.strip() == "No comment provided":
                unexplained.append(f"{check['check_id']}: {check['resource']} skipped without a reason")
    if failed or unexplained:
        raise CheckFailed("checkov:\n" + "\n".join(failed + unexplained))
    if done.returncode != 0:
        raise CheckFailed(f"checkov exited {done.returncode}: {done.stderr.strip()}")
    return passed, skipped


def check_security(rendered: list[Path], workdir: Path) -> None:
    dockerfiles = sorted((ROOT / "deploy" / "docker").glob("*.Dockerfile"))
    targets = [arg for path in [*rendered, *dockerfiles] for arg in ("--file", str(path))]
    passed, skipped = checkov(workdir, "manifests", ["kubernetes", "dockerfile"], targets)
    print(f"  checkov (rendered manifests, Dockerfiles): {passed} checks passed, none failed, "
          f"{skipped} skipped, each with its reason")
    # Secrets in what is committed (the rendered Secrets hold the examples' placeholders, base64-encoded).
    targets = ["--directory", "deploy", "--file", "docker-compose.yml", "--file", ".env.example"]
    passed, skipped = checkov(workdir, "secrets", ["secrets"], targets)
    print(f"  checkov (secrets in deploy/, docker-compose.yml, .env.example): none found ({passed} checks passed)")


def main() -> int:
    steps = []
    with tempfile.TemporaryDirectory(prefix="izlek-deploy-checks-") as temporary:
        workdir = Path(temporary)
        rendered: list[Path] = []

        def kubernetes() -> None:
            tracked = run("git", "ls-files", "--", ".env", "deploy/k8s/overlays/*/secrets/*.env").split()
            if tracked:
                raise CheckFailed(f"secret files are committed: {', '.join(tracked)}")
            rendered.extend(render_overlays(workdir))
            versions = [arg for version in KUBERNETES_VERSIONS for arg in ("--kubernetes", version)]
            for line in run(sys.executable, CHECKS / "validate_manifests.py", *versions, *rendered).splitlines():
                print("  " + line.replace(str(workdir) + "/", ""))

        for title, step in (("Kubernetes manifests", kubernetes), ("docker-compose.yml", check_compose),
                            ("Dockerfiles", check_dockerfiles),
                            ("security scan", lambda: check_security(rendered, workdir))):
            started = time.monotonic()
            print(f"{title}:")
            try:
                step()
            except CheckFailed as failure:
                print(f"  FAILED: {failure}")
                steps.append((title, False))
            else:
                steps.append((title, True))
            print(f"  ({time.monotonic() - started:.1f}s)")
    failed = [title for title, ok in steps if not ok]
    print(f"deployment checks: {len(steps) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
