"""A new integrator's first program against cutover, written with the Python client
that openapi-python-client generates from /openapi.json with no flags.

It is type-checked (mypy --strict) and run against a fresh server by
scripts/generated-clients/run:  python usage.py BASE_URL PLATFORM_TOKEN
Each step asserts what the API promises, so a document that makes the generated
client send the wrong thing (a default on a PATCH, an enum it cannot set) fails here.
"""

import sys
from typing import TypeVar

from cutover_client import AuthenticatedClient
from cutover_client.api.apps import apps_create, apps_get, apps_update
from cutover_client.api.augmentations import augmentations_create, augmentations_update
from cutover_client.api.endpoints import endpoints_create
from cutover_client.api.orgs import orgs_create
from cutover_client.api.releases import (
    releases_activate,
    releases_create,
    releases_get_active,
)
from cutover_client.api.tokens import tokens_create
from cutover_client.api.workspaces import workspaces_create
from cutover_client.models import (
    ActivationAnswer,
    App,
    AppPatch,
    Augmentation,
    AugmentationPatch,
    Endpoint,
    NewApp,
    NewAppParametersType0,
    NewAugmentation,
    NewAugmentationStagesItem,
    NewAugmentationStagesItemExecutionMode,
    NewAugmentationStagesItemStepsItem,
    NewAugmentationStagesItemStepsItemType,
    NewEndpoint,
    NewEndpointMethod,
    NewOrg,
    NewRelease,
    NewToken,
    NewTokenRole,
    NewWorkspace,
    Org,
    ReleaseDetail,
    ReleaseStatus,
    TokenCreated,
    Workspace,
)

T = TypeVar("T")


def expect(answer: object, kind: type[T]) -> T:
    """The answer as `kind`, or the error the server sent instead."""
    if not isinstance(answer, kind):
        raise SystemExit(f"expected a {kind.__name__}, got {answer!r}")
    return answer


def main(base_url: str, token: str) -> None:
    client = AuthenticatedClient(base_url=base_url, token=token)

    org = expect(orgs_create.sync(client=client, body=NewOrg(name="Acme Corp")), Org)
    assert org.slug == "acme-corp", org.slug
    workspace = expect(
        workspaces_create.sync(org.org_id, client=client, body=NewWorkspace(name="production")),
        Workspace,
    )
    ids = (org.org_id, workspace.workspace_id)
    parameters = NewAppParametersType0.from_dict({"region": "eu"})
    app = expect(
        apps_create.sync(*ids, client=client, body=NewApp(name="support-bot", parameters=parameters)),
        App,
    )
    scope = (*ids, app.app_id)

    # A stage whose steps run in parallel, and a template: both set through the client.
    step = NewAugmentationStagesItemStepsItem(
        name="llm", type_=NewAugmentationStagesItemStepsItemType.INFERENCE
    )
    stage = NewAugmentationStagesItem(
        name="respond",
        execution_mode=NewAugmentationStagesItemExecutionMode.PARALLEL,
        steps=[step],
    )
    augmentation = expect(
        augmentations_create.sync(
            *scope,
            client=client,
            body=NewAugmentation(name="answer", stages=[stage], is_template=True),
        ),
        Augmentation,
    )
    assert augmentation.stages[0].execution_mode.value == "parallel"
    assert augmentation.stages[0].steps[0].timeout_seconds == 30, "the server's default"

    # A PATCH of the tags alone leaves everything else as it was.
    patched = expect(
        augmentations_update.sync(
            *scope,
            augmentation.augmentation_id,
            client=client,
            body=AugmentationPatch(tags=["support"]),
        ),
        Augmentation,
    )
    assert patched.tags == ["support"]
    assert patched.is_template, "a PATCH without is_template must not reset it"
    assert patched.stages[0].execution_mode.value == "parallel"

    described = expect(
        apps_update.sync(*scope, client=client, body=AppPatch(description="Answers questions")),
        App,
    )
    assert described.parameters.to_dict() == {"region": "eu"}, "parameters are kept"

    endpoint = expect(
        endpoints_create.sync(
            *scope,
            client=client,
            body=NewEndpoint(
                name="chat",
                path="/chat",
                method=NewEndpointMethod.POST,
                augmentation_id=augmentation.augmentation_id,
            ),
        ),
        Endpoint,
    )
    assert endpoint.endpoint_type.value == "sync", "the server's default"

    # A release is not activated unless asked; activating it makes it the live one.
    release = expect(
        releases_create.sync(*scope, client=client, body=NewRelease(release_tag="v1.0.0")),
        ReleaseDetail,
    )
    assert release.status == ReleaseStatus.READY
    activated = expect(
        releases_activate.sync(*scope, release.release_id, client=client), ActivationAnswer
    )
    assert activated.release.status == ReleaseStatus.ACTIVE
    live = expect(releases_get_active.sync(*scope, client=client), ReleaseDetail)
    assert live.release_id == release.release_id
    assert expect(apps_get.sync(*scope, client=client), App).active_release_id == release.release_id

    minted = expect(
        tokens_create.sync(
            org.org_id,
            client=client,
            body=NewToken(name="ci", role=NewTokenRole.OPERATOR),
        ),
        TokenCreated,
    )
    assert minted.token.startswith("cut_")
    print("python client: every step answered as documented")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
