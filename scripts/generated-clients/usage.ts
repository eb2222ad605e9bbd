// A new integrator's first program against cutover, in TypeScript: the types that
// openapi-typescript generates from /openapi.json with no flags (./schema), called
// through openapi-fetch. scripts/generated-clients/run type-checks it (tsc --strict)
// and runs it against a fresh server:  node usage.js BASE_URL PLATFORM_TOKEN
// Each step asserts what the API promises, so a document whose types make a body
// unwritable or a field wrongly required fails to compile here.

import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Error(`expected: ${what}`);
  }
}

/** The answer's body, or the error the server sent instead. */
function body<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data === undefined) {
    throw new Error(`${answer.response.status}: ${JSON.stringify(answer.error)}`);
  }
  return answer.data;
}

/**
 * The answer of a write that was made: a write that takes `dry_run` may also answer
 * (200) what it would do, and a client that did not ask for a dry run says so here.
 */
function made<T>(data: T): Exclude<T, { dry_run: boolean }> {
  if (typeof data === "object" && data !== null && "dry_run" in data) {
    throw new Error("a dry run's answer to a write that was not a dry run");
  }
  return data as Exclude<T, { dry_run: boolean }>;
}

async function main(baseUrl: string, token: string): Promise<void> {
  const client = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${token}` },
  });

  const org: Schemas["Org"] = body(
    await client.POST("/v1/orgs", { body: { name: "Acme Typed" } }),
  );
  check(org.slug === "acme-typed", "a slug derived from the name");
  const workspace = body(
    await client.POST("/v1/orgs/{org_id}/workspaces", {
      params: { path: { org_id: org.org_id } },
      body: { name: "production" },
    }),
  );
  const app = body(
    await client.POST("/v1/orgs/{org_id}/workspaces/{workspace_id}/apps", {
      params: { path: { org_id: org.org_id, workspace_id: workspace.workspace_id } },
      body: { name: "support-bot", parameters: { region: "eu", replicas: 2 } },
    }),
  );
  const path = { org_id: org.org_id, workspace_id: workspace.workspace_id, app_id: app.app_id };
  const appPath = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}" as const;

  // Step config is any JSON object; a step's timeout and retries may be left out.
  const newAugmentation: Schemas["NewAugmentation"] = {
    name: "answer",
    is_template: true,
    stages: [
      {
        name: "respond",
        execution_mode: "parallel",
        steps: [{ name: "llm", type: "inference", config: { model: "small", temperature: 0.2 } }],
      },
    ],
  };
  const augmentation = body(
    await client.POST(`${appPath}/augmentations`, {
      params: { path },
      body: newAugmentation,
    }),
  );
  check(augmentation.stages[0]?.execution_mode === "parallel", "a parallel stage");
  check(augmentation.stages[0]?.steps[0]?.timeout_seconds === 30, "the default timeout");

  const patched = body(
    await client.PATCH(`${appPath}/augmentations/{augmentation_id}`, {
      params: { path: { ...path, augmentation_id: augmentation.augmentation_id } },
      body: { tags: ["support"] },
    }),
  );
  check(patched.is_template, "a PATCH without is_template keeps it");

  const endpoint = body(
    await client.POST(`${appPath}/endpoints`, {
      params: { path },
      body: {
        name: "chat",
        path: "/chat",
        method: "POST",
        augmentation_id: augmentation.augmentation_id,
        input_schema: { type: "object" },
      },
    }),
  );
  check(endpoint.endpoint_type === "sync", "the default endpoint type");

  // `activate` may be left out: the release is cut, not activated.
  const release = made(
    body(
      await client.POST(`${appPath}/releases`, {
        params: { path },
        body: { release_tag: "v1.0.0" },
      }),
    ),
  );
  check(release.status === "ready", "a release that is not active yet");
  const activated = made(
    body(
      await client.POST(`${appPath}/releases/{release_id}/activate`, {
        params: { path: { ...path, release_id: release.release_id } },
      }),
    ),
  );
  check(activated.release.status === "active", "the release is live");
  const live = body(await client.GET(`${appPath}/releases/active`, { params: { path } }));
  check(live.release_id === release.release_id, "the active release is the one activated");

  const minted = body(
    await client.POST("/v1/orgs/{org_id}/tokens", {
      params: { path: { org_id: org.org_id } },
      body: { name: "ci", role: "operator", workspace_ids: [workspace.workspace_id] },
    }),
  );
  check(minted.token.startsWith("cut_"), "a token secret");

  const refused = await client.POST(`${appPath}/releases`, {
    params: { path },
    body: { release_tag: "v1.0.0" },
  });
  check(refused.response.status === 409, "a tag is used once");
  const error = refused.error;
  check(error !== undefined && "details" in error, "an error envelope, not a 422");
  check(error.details["reason"] === "release_tag_exists", "the conflict's reason");
  console.log("typescript client: every step answered as documented");
}

const [baseUrl, token] = process.argv.slice(2);
if (baseUrl === undefined || token === undefined) {
  throw new Error("usage: node usage.js BASE_URL PLATFORM_TOKEN");
}
await main(baseUrl, token);
