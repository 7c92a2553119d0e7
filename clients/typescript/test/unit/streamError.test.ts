import { describe, expect, it } from "vitest";
import { parseStreamErrorFrame } from "../../src/transports/hubErrors.js";

describe("the SSE stream_error frame", () => {
  it("makes an expired token a retryable error, so the stream reconnects with a fresh token", () => {
    const error = parseStreamErrorFrame('{"error":{"code":"token_expired","message":"The token has expired."}}');
    expect(error.code).toBe("token_expired");
    expect(error.message).toBe("The token has expired.");
    expect(error.retryable).toBe(true);
  });

  it("keeps a wrong request fatal and survives a body that is not JSON", () => {
    expect(parseStreamErrorFrame('{"error":{"code":"invalid_offset","message":"bad"}}').retryable).toBe(false);
    const raw = parseStreamErrorFrame("not json");
    expect(raw.code).toBe("stream_error");
    expect(raw.message).toBe("not json");
  });
});
