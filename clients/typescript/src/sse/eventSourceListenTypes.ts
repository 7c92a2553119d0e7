import { KNOWN_EVENT_TYPES } from "../events/KnownEventType.js";

/**
 * The `event:` names an `EventSource` must listen for to see what `types` selects: each exact
 * type asked for, plus every known type a family prefix (`pr_*`) or an empty filter matches.
 * The client asks the hub for unnamed frames (`unnamed=true`), which all arrive as `message`; these
 * listeners serve a hub older than that parameter, which names every frame (unknown types under a
 * prefix cannot be listed for it).
 * @internal
 */
export function eventSourceListenTypes(types: readonly string[]): string[] {
  const names = new Set<string>();
  if (types.length === 0) for (const t of KNOWN_EVENT_TYPES) names.add(t);
  for (const t of types) {
    if (t.endsWith("*")) {
      const prefix = t.slice(0, -1);
      for (const k of KNOWN_EVENT_TYPES) if (k.startsWith(prefix)) names.add(k);
    } else {
      names.add(t);
    }
  }
  return [...names];
}
