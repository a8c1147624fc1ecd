"""The provider contract, run against the JIRA Cloud adapter and the fake JIRA."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from portal.core.providers.base import ConnectionConfig, SprintState
from portal.core.providers.http import HttpPolicy
from portal.core.providers.jira import JiraAdapter
from portal.core.providers.metadata import MetadataCache
from tests.contract.suite import TEST_POLICY, ContractEnv, ProviderContract, SprintWorkContract
from tests.fakes.jira import FakeJira
from tests.fakes.jira_work import TEAM_FIELD

SLUG = "acme-jira"


@pytest.fixture(scope="module")
def running_fake_jira() -> Iterator[FakeJira]:
    fake = FakeJira()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_jira(running_fake_jira: FakeJira) -> FakeJira:
    """The module's fake, back in its seeded state for every test."""
    running_fake_jira.reset()
    return running_fake_jira


def make_jira_adapter(
    fake: FakeJira,
    *,
    token: str | None = None,
    username: str | None = None,
    policy: HttpPolicy = TEST_POLICY,
    metadata: MetadataCache | None = None,
) -> JiraAdapter:
    email, real_token = fake.credentials()
    config = ConnectionConfig(
        slug=SLUG,
        base_url=fake.base_url,
        token=token if token is not None else real_token,
        username=username if username is not None else email,
    )
    return JiraAdapter(config, policy, metadata=metadata)


class FakeJiraProbe:
    """The fake JIRA's own state, read behind the adapter's back (the contract's VendorProbe)."""

    def __init__(self, fake: FakeJira):
        self.fake = fake

    def sprint_of(self, task_id: str) -> str | None:
        sprint = self.fake.current_sprint_of(task_id.upper())
        return str(sprint) if sprint is not None else None

    def sprint(self, sprint_id: str) -> dict[str, Any]:
        sprint = self.fake.sprints[int(sprint_id)]
        return {"name": sprint.name, "state": SprintState(sprint.state), "goal": sprint.goal or None}

    def linked(self, task_id: str) -> set[str]:
        return self.fake.linked_keys(task_id.upper())

    def logged_hours(self, task_id: str) -> float:
        return sum(w.seconds for w in self.fake.worklogs.get(task_id.upper(), [])) / 3600

    def field_value(self, task_id: str, field_id: str) -> Any:
        value = self.fake.issues[task_id.upper()].custom.get(field_id)
        return value.get("value") if isinstance(value, dict) else value

    def retitle(self, task_id: str, title: str) -> None:
        self.fake.retitle(task_id.upper(), title)


def jira_contract_env(fake: FakeJira) -> ContractEnv:
    adapter = make_jira_adapter(fake)

    def seed_tasks(count: int, title_prefix: str = "Seed", assignee_id: str | None = None) -> list[str]:
        return [
            fake.add_issue("ALPHA", f"{title_prefix} task {n}", assignee=assignee_id).key
            for n in range(1, count + 1)
        ]

    def fault(
        status: int, path: str | None = None, method: str | None = None, headers=None, count: int = 1
    ) -> None:
        fake.fail_next(status, path=path, method=method, headers=headers, count=count)

    def count_requests(method: str, path: str) -> int:
        return sum(1 for r in fake.requests if r.method == method.upper() and re.search(path, r.path))

    extra: dict[str, Any] = {
        "token": fake.credentials()[1],
        "clear_faults": fake.clear_faults,
        "long_rate_limit_headers": {"Retry-After": "30"},
        "missing_task_id": "ALPHA-9999",
        "option_field": "Team",
        "option_field_id": TEAM_FIELD,
        "native_query": lambda prefix: f'project = ALPHA AND summary ~ "{prefix}*" ORDER BY key ASC',
    }
    return ContractEnv(
        adapter=adapter,
        slug=SLUG,
        project_id="ALPHA",
        other_user_id=fake.other.account_id,
        other_user_name=fake.other.name,
        make_adapter=lambda **kwargs: make_jira_adapter(fake, **kwargs),
        seed_tasks=seed_tasks,
        fault=fault,
        count_requests=count_requests,
        slow=lambda seconds: fake.delay_next(seconds, count=8),
        sprint_id=str(fake.active_sprint),
        epic_id=fake.epic_key,
        probe=FakeJiraProbe(fake),
        vendor="JIRA",
        extra=extra,
    )


class TestJiraContract(ProviderContract, SprintWorkContract):
    @pytest.fixture
    def contract_env(self, fake_jira: FakeJira) -> Iterator[ContractEnv]:
        env = jira_contract_env(fake_jira)
        yield env
        env.adapter.close()
