/**
 * Joins the hub's base address and an absolute path (`/hubs/events`), tolerating a trailing
 * slash on the base. `""` stays relative to the page's origin. @internal
 */
export function hubUrl(base: string, path: string): string {
  return base.replace(/\/+$/, "") + path;
}
