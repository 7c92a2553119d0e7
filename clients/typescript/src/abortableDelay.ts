/** Resolves after `delayInMilliseconds`, or at once when `signal` aborts. @internal */
export function abortableDelay(delayInMilliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, delayInMilliseconds);
    signal.addEventListener("abort", done);
  });
}
