// The endpoints a base address may already name: the hub's own URL (as the .NET client and the
// CLI accept it) or the SSE endpoint's. The client then uses the base they are under.
const ENDPOINT = /\/(?:hubs\/events|api\/v1\/events)$/i;

/**
 * Joins the hub's base address and an absolute path (`/hubs/events`), tolerating a trailing
 * slash on the base, and a base that already names one of the hub's endpoints
 * (`http://host/hubs/events`, `http://host/api/v1/events`): their base is used. `""` stays
 * relative to the page's origin. @internal
 */
export function hubUrl(base: string, path: string): string {
  return base.replace(/\/+$/, "").replace(ENDPOINT, "") + path;
}
