"""Plan assertions for roots that use the scones modules: the `scones[plan-testing]` pytest plugin.

    def test_prod_keeps_two_instances(plan):
        p = plan("envs/prod", variables={"model_data_url": "s3://…"})
        assert resources_of(p, "aws_appautoscaling_target")[...]["min_capacity"] == 2
        assert_no_destroy(p)

Reference and CI recipe: docs/plan-testing.md. The fixtures (`plan`, `scones_planner`, `scones_emulator`)
come from scones.plan_testing.plugin, registered through the `pytest11` entry point. Nothing here imports
tftest, policy-sentry or parliament until a plan or a check needs it.
"""

from scones.plan_testing.assertions import (
    assert_encrypted,
    assert_least_privilege,
    assert_no_destroy,
    assert_no_replace,
    assert_tagged,
    resources_of,
)
from scones.plan_testing.emulator import PlanEmulator
from scones.plan_testing.errors import (
    InitFailed,
    MissingDependency,
    PlanAssertionError,
    PlanRejected,
    PlanTestingError,
    RootNotPlannable,
    ToolMissing,
)
from scones.plan_testing.plan import Plan, PolicyDocument, PolicyStatement, ResourceChange
from scones.plan_testing.planner import Planner

__all__ = [
    "InitFailed",
    "MissingDependency",
    "Plan",
    "PlanAssertionError",
    "PlanEmulator",
    "PlanRejected",
    "PlanTestingError",
    "Planner",
    "PolicyDocument",
    "PolicyStatement",
    "ResourceChange",
    "RootNotPlannable",
    "ToolMissing",
    "assert_encrypted",
    "assert_least_privilege",
    "assert_no_destroy",
    "assert_no_replace",
    "assert_tagged",
    "resources_of",
]
