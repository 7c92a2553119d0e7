/**
 * Reports an error thrown by a consumer's callback without breaking the stream: the host's
 * `reportError` in browsers (it reaches `window.onerror`), `console.error` elsewhere (throwing
 * asynchronously would end a Node process). @internal
 */
export function reportError(error: unknown): void {
  const host = globalThis as { reportError?: (e: unknown) => void };
  if (typeof host.reportError === "function") host.reportError(error);
  else console.error("EventHub client: a callback threw", error);
}
