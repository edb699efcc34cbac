"""Property: every answer to schema-generated requests conforms to openapi.yaml (schemathesis).

All operations, with the examples, coverage and fuzzing phases and both positive
and negative data, then the stateful phase over the spec's links. Expected
statuses per check are set so a correct implementation yields no false failures
(see ``CHECKS``). One extra check ties each error answer's ``error.code`` to the
codes the spec lists for that status (``x-error-codes``).
"""

from __future__ import annotations

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig

from contract_tests import contract, in_process, plugin
from contract_tests.target import Control, TenantHandle
from mockserver.spec import default_spec_path

# Answers a correct implementation may give (D5, D6, D10, D11); see README "Schema fuzzing".
CHECKS = {
    "not_a_server_error": {"expected-statuses": ["2xx", "4xx"]},
    # Valid-by-schema data can still name missing records (404), break business rules such as uniqueness or
    # template parameters (422), hit plan limits or opt-outs (403) or OTP limiters (429).
    "positive_data_acceptance": {"expected-statuses": ["2xx", "403", "404", "422", "429"]},
    # Invalid data is refused with the D5/D6 statuses; a bad path id is a 404 (D6).
    "negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "405", "413", "415", "422", "429"]},
}


def build_config(max_examples: int) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "generation": {
                "max-examples": max_examples,
                "mode": "all",
                "no-shrink": True,
                "deterministic": True,
                # Unknown query parameters are ignored like unknown body fields (D5), so they are not negative data;
                # the token is ours to send, not a generated parameter.
                "allow-extra-parameters": False,
                "with-security-parameters": False,
            },
            "checks": CHECKS,
            # Batch Create Contacts answers 200 and lists a failing item in `data.errors` unless
            # `options.continue_on_error` is false (openapi.yaml), so an invalid item is not a refused request.
            "operations": [
                {"include-operation-id": "batchCreateContacts", "checks": {"negative_data_rejection": {"enabled": False}}},
            ],
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": 6},
            },
        }
    )


@schemathesis.check
def error_code_is_listed(ctx, response, case) -> bool | None:
    """An error answer's ``error.code`` is one the spec lists for that status (x-error-codes)."""
    if response.status_code < 400:
        return None
    op = contract.spec().operations.get(contract.operation_for(case.method, case.path) or "")
    if op is None or op.tag == "Comments":
        return None
    codes = op.error_codes.get(response.status_code)
    if codes is None:
        return None
    body = response.json()
    code = (body.get("error") or {}).get("code")
    assert code in codes, f"{op.operation_id} answered {response.status_code} {code}, spec lists {sorted(codes)}"
    return True


@pytest.fixture(scope="session")
def fuzz_tenant(control: Control | None, request: pytest.FixtureRequest) -> TenantHandle:
    return plugin.new_tenant(request, control)


def load_schema():
    """The spec as schemathesis sees it, aimed at the session's target."""
    raw = yaml.safe_load(default_spec_path().read_text())
    loaded = schemathesis.openapi.from_dict(raw, config=build_config(settings.default.max_examples))
    base_url = plugin.current_config().getoption("--base-url")
    if base_url:
        loaded.config.update(base_url=base_url.rstrip("/"))
    else:
        loaded.app = in_process.asgi_app()
    return loaded


schema = load_schema()


@pytest.mark.assumed
@pytest.mark.sends
@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate], deadline=None)
def test_answers_conform_to_the_spec(case, fuzz_tenant):
    """Status codes, content types, headers and bodies of every answer match openapi.yaml (D2-D6)."""
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_tenant.token}"},
        additional_checks=[error_code_is_listed],
    )


@pytest.mark.assumed
@pytest.mark.sends
def test_stateful_link_sequences_conform(fuzz_tenant, control):
    """Chains along the spec's links (create -> get/update/delete, group membership) keep conforming (D8, D13).

    With the control API every scenario gets a fresh tenant, so a replayed scenario meets the same state.
    """

    class Workflow(schema.as_state_machine()):
        def setup(self):
            fresh = control.new_tenant(rate_limit_per_minute=100_000_000) if control is not None else fuzz_tenant
            self.auth = {"Authorization": f"Bearer {fresh.token}"}

        def get_call_kwargs(self, case):
            return {"headers": self.auth}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            super().validate_response(response, case, additional_checks=[error_code_is_listed], **kwargs)

    Workflow.run(
        settings=settings(
            max_examples=settings.default.max_examples,
            stateful_step_count=6,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
