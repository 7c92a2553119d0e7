// HS256 tokens as an identity provider would mint them, for a hub in token mode (the same key,
// issuer and audience as the .NET tests' TestTokens).
import { createHmac, randomUUID } from "node:crypto";

export const SIGNING_KEY = "eventhub-tests-signing-key-0123456789abcdef";
export const ISSUER = "https://issuer.eventhub.test";
export const AUDIENCE = "eventhub-tests";

/** Hub settings for token mode with this key, issuer and audience, and no clock skew. */
export const TOKEN_MODE: Record<string, string> = {
  "Auth:Mode": "Token", "Auth:SigningKey": SIGNING_KEY, "Auth:Issuer": ISSUER, "Auth:Audience": AUDIENCE, "Auth:ClockSkew": "00:00:00",
};

const b64url = (s: string | Buffer) => Buffer.from(s).toString("base64url");

/** A token for `projects`, valid for `lifetimeInSeconds` (negative: expired that long ago), with a subject of its own; `key` signs it. */
export function mintToken(projects: string[], lifetimeInSeconds = 600, key = SIGNING_KEY): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify({
    iss: ISSUER, aud: AUDIENCE, sub: `ts-${randomUUID()}`, jti: randomUUID(), projects, iat: now, nbf: Math.min(now, now + lifetimeInSeconds) - 1, exp: now + lifetimeInSeconds,
  }));
  const signature = createHmac("sha256", key).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}
