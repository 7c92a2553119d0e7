/** A decoded JSON object or MessagePack map as a plain record; null for anything else (arrays included). @internal */
export const asObject = (value: unknown): Record<string, unknown> | null =>
  value instanceof Map ? Object.fromEntries(value) : typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown> : null;
