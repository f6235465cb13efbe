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


def criterion_measure(app: PlansApplication, plan_id: Any, code: str) -> Any:
    from izlek_plans.domain.criterion import SuccessCriterion

    return app.get_criterion(SuccessCriterion.create_id(plan_id, code)).measure


def test_a_count_of_protocols_counts_those_made_from_the_template_that_names_its_group() -> None:
    app = PlansApplication(env=eventsourcing_env("memory://"))
    try:
        report = import_plan_file(app, IZMIR, IMPORTER)

        measure = criterion_measure(app, report.plan_id, "DI1-C1")
        assert measure.counts == {"entity": "protocol", "kind": "standard_protocol",
                                  "statuses": "signed,in_force,renewed",
                                  "template": "prot-tpl-standart-satin-alma-taahhut"}
        assert criterion_measure(app, report.plan_id, "DI2-C3").counts == {"entity": "cooperative"}
    finally:
        app.close()


def test_without_a_template_a_count_of_protocols_counts_every_kind_until_a_reimport_finds_one(
    tmp_path: Path,
) -> None:
    alone = tmp_path / "plan.yaml"
    alone.write_bytes(IZMIR.read_bytes())
    app = PlansApplication(env=eventsourcing_env("memory://"))
    try:
        first = import_plan_file(app, alone, IMPORTER)
        counts_alone = criterion_measure(app, first.plan_id, "DI1-C1").counts
        (tmp_path / "protocols.yaml").write_bytes((IZMIR.parent / "protocols.yaml").read_bytes())

        with_template = import_plan_file(app, alone, IMPORTER)
        again = import_plan_file(app, alone, IMPORTER)

        assert counts_alone == {"entity": "protocol", "statuses": "signed,in_force,renewed"}
        assert with_template.changed == {"criterion": 1}
        assert criterion_measure(app, first.plan_id, "DI1-C1").counts["kind"] == "standard_protocol"
        assert not again.events_written
    finally:
        app.close()
