import { EventStreamError } from "../EventStreamError.js";
import { fromHttpResponse, unexpectedResponse } from "../transports/hubErrors.js";
import { hubUrl } from "../transports/hubUrl.js";
import type { ProjectInfo } from "./ProjectInfo.js";

/** The hub's project list endpoint, relative to its base address. */
export const PROJECTS_PATH = "/api/v1/projects";

/** What {@link listProjects} needs: the hub, and the token when the hub runs in token mode. */
export interface ListProjectsOptions {
  /** The hub's base address; `""` is the page's origin in a browser. */
  readonly url: string;
  /** Called once for the request's bearer token, as a stream calls it for each connection attempt. */
  readonly accessTokenFactory?: () => string | Promise<string>;
  /** Aborts the request. */
  readonly signal?: AbortSignal;
}

/**
 * The projects the hub's database has registered that the caller may read (in token mode, those
 * its token grants), in id order: for a project picker that offers projects before any of their
 * events arrived. Throws an {@link EventStreamError} with the hub's error code (for example
 * `unauthenticated`), or `transport` (retryable) when the hub cannot be reached.
 */
export async function listProjects(options: ListProjectsOptions): Promise<ProjectInfo[]> {
  const url = hubUrl(options.url, PROJECTS_PATH);
  let token: string | undefined;
  try {
    token = options.accessTokenFactory ? await options.accessTokenFactory() : undefined;
  } catch (e) {
    throw new EventStreamError("transport", `The access token factory failed: ${e instanceof Error ? e.message : String(e)}`, true);
  }
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      signal: options.signal, cache: "no-store",
    });
  } catch (e) {
    throw new EventStreamError("transport", `Could not reach the hub at ${url}: ${(e as Error).message}`, true);
  }
  if (!response.ok) throw await fromHttpResponse(response);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw unexpectedResponse(url, response.headers.get("content-type") ?? "", "the hub's project list");
  }
  const projects = (body as { projects?: unknown } | null)?.projects;
  if (!Array.isArray(projects)) throw unexpectedResponse(url, response.headers.get("content-type") ?? "", "the hub's project list");
  return projects.flatMap((p: unknown) => {
    const o = p as { id?: unknown; displayName?: unknown; archived?: unknown } | null;
    return typeof o?.id === "string"
      ? [{ id: o.id, displayName: typeof o.displayName === "string" ? o.displayName : null, archived: o.archived === true }]
      : [];
  });
}
