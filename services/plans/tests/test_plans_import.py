"""Importing a plan file: a malformed file is refused whole, naming what is wrong, and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from izlek_common.domain.stamp import Author
from izlek_common.eventstore import eventsourcing_env
from izlek_plans.application import PlansApplication
from izlek_plans.importer import PlanFileError, import_plan_file

IZMIR = Path(__file__).resolve().parents[3] / "examples" / "izmir" / "plan.yaml"
IMPORTER = Author("cli:test", "coordinator", None, "izlek import-plan")


def broken_copy(tmp_path: Path, spoil: Any) -> Path:
    document = yaml.safe_load(IZMIR.read_text(encoding="utf-8"))
    spoil(document)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def first_activity_of(document: dict[str, Any], target: int = 0) -> dict[str, Any]:
    return document["goals"][1]["targets"][target]["responsibilities"][0]["activities"][0]


@pytest.mark.parametrize(("spoil", "named"), [
    (lambda d: first_activity_of(d).pop("text"), "activity T2.1-A01: the field 'text' is missing"),
    (lambda d: first_activity_of(d).update(id="T2.1-A02"), "activity T2.1-A02"),
    (lambda d: d["goals"][0]["targets"][0].update(title=""), "target T1.1"),
    (lambda d: d["success_criteria"][0]["criteria"][0]["measure"].update(target=7), "criterion DI1-C1"),
    (lambda d: d["goals"][0].update(targets="T1.1"), "the wrong shape"),
])
def test_a_malformed_plan_file_is_refused_whole_naming_the_entry(tmp_path: Path, spoil: Any, named: str) -> None:
    app = PlansApplication(env=eventsourcing_env("memory://"))
    try:
        with pytest.raises(PlanFileError, match="nothing was imported") as refused:
            import_plan_file(app, broken_copy(tmp_path, spoil), IMPORTER)
        assert named in str(refused.value)
        assert app.recorder.max_notification_id() is None
    finally:
        app.close()


def test_a_file_without_a_plan_section_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("goals: []\n", encoding="utf-8")
    app = PlansApplication(env=eventsourcing_env("memory://"))
    try:
        with pytest.raises(PlanFileError, match="no 'plan' section"):
            import_plan_file(app, path, IMPORTER)
    finally:
        app.close()
