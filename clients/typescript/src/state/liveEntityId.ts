// Why ids are JSON: the hub's key is the JSON array of the key values; prepending the project
// keeps one canonical, unambiguous string per (project, kind's key), whatever the values contain.

/**
 * The id of an entity in a {@link LiveStateSnapshot}'s maps: its project and key values, e.g.
 * `snapshot.sessions.get(liveEntityId("ao", "ao-3"))` or
 * `snapshot.checks.get(liveEntityId("ao", prUrl, "build", commit))`.
 */
export function liveEntityId(projectId: string, ...keyValues: readonly unknown[]): string {
  return JSON.stringify([projectId, ...keyValues], bigintAsNumber);
}

/** MessagePack may decode a large integer as a bigint, which JSON.stringify refuses. @internal */
export function bigintAsNumber(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? Number(value) : value;
}
