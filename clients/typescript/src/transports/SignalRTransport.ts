import { HubConnectionBuilder, LogLevel, type HubConnection, type ISubscription } from "@microsoft/signalr";
import { EventStreamError } from "../EventStreamError.js";
import type { ProjectNotice } from "../ProjectNotice.js";
import type { StreamRequest } from "../StreamRequest.js";
import { isKnownErrorCode } from "./errorContract.js";
import { errorFromPayload, fromHttpStatus, fromSignalRError, signalFromItem } from "./hubErrors.js";
import { hubUrl } from "./hubUrl.js";
import { loadMessagePackProtocol } from "./loadMessagePackProtocol.js";
import { readState } from "./readState.js";
import type { StateLoader, StateRequest } from "./StateLoader.js";
import type { Transport } from "./Transport.js";
import type { TransportSink } from "./TransportSink.js";

/**
 * How long the SignalR transport waits for the hub to answer its negotiate request (and the other
 * HTTP requests @microsoft/signalr sends); see `EventStreamOptions.connectTimeoutInMilliseconds`.
 */
export const DEFAULT_CONNECT_TIMEOUT_IN_MILLISECONDS = 15_000;

/** The SignalR hub's path, relative to the hub's base address. */
export const SIGNALR_HUB_PATH = "/hubs/events";

/**
 * SignalR transport: one `HubConnection` per attempt, one `StreamEvents(request)` stream on it,
 * opened with `signalItems: true`: the hub ends the stream with a final `reset` or `stream_error`
 * item (the SSE frames' data) and completes it, so how it ended is read as data.
 * SignalR's own automatic reconnect is not used: a reconnected connection would not re-open the
 * stream, and the stream's loop already resumes from its offset with its own delays. @internal
 */
export class SignalRTransport implements Transport {
  /**
   * @param baseUrl - the hub's base address.
   * @param protocol - `json` or `msgpack`.
   * @param accessTokenFactory - the token for each attempt, if any.
   * @param connectTimeoutInMilliseconds - how long the negotiate request may go unanswered.
   */
  constructor(
    private readonly baseUrl: string,
    private readonly protocol: "json" | "msgpack",
    private readonly accessTokenFactory?: () => string | Promise<string>,
    private readonly connectTimeoutInMilliseconds = DEFAULT_CONNECT_TIMEOUT_IN_MILLISECONDS,
  ) {}

  async run(request: StreamRequest, sink: TransportSink, signal: AbortSignal): Promise<void> {
    const connection = await this.build();
    connection.on("ProjectNotice", (notice: ProjectNotice) => sink.notice(notice));
    try {
      if (!(await this.start(connection, signal))) return;
      let after = request.after;
      if (after === null) {
        // "From now" as a fixed point: a drop before the first event resumes from here.
        try {
          after = await connection.invoke<string>("GetHeadOffset");
        } catch (e) {
          if (signal.aborted) return;
          throw fromSignalRError(e);
        }
        if (signal.aborted) return;
        sink.head(after);
      }
      await this.stream(connection, { ...request, after }, sink, signal);
    } finally {
      await connection.stop().catch(() => undefined);
    }
  }

  /** The live state on a connection of its own, as `StreamState` pages (`readState`), as the protocol decoded it. */
  async loadState(request: StateRequest, signal: AbortSignal): Promise<unknown> {
    const connection = await this.build();
    const onAbort = () => void connection.stop();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      if (!(await this.start(connection, signal))) throw new EventStreamError("aborted", "The state load was stopped.", false);
      return await readState(connection, request);
    } finally {
      signal.removeEventListener("abort", onAbort);
      await connection.stop().catch(() => undefined);
    }
  }

  private async build(): Promise<HubConnection> {
    const builder = new HubConnectionBuilder()
      // SignalR's own timeout for its HTTP requests is 100 s: a hub that accepts the connection and
      // never answers (hung, or another service on its port) kept an attempt silent that long.
      .withUrl(hubUrl(this.baseUrl, SIGNALR_HUB_PATH), {
        timeout: this.connectTimeoutInMilliseconds,
        ...(this.accessTokenFactory ? { accessTokenFactory: this.accessTokenFactory } : {}),
      })
      .configureLogging(LogLevel.None);
    if (this.protocol === "msgpack") builder.withHubProtocol(await loadMessagePackProtocol());
    return builder.build();
  }

  /** Starts `connection`; false when `signal` aborted first. Throws the classified error of a refused start. */
  private async start(connection: HubConnection, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    const started = connection.start();
    const onAbortStart = () => void connection.stop();
    signal.addEventListener("abort", onAbortStart, { once: true });
    try {
      await started;
    } catch (e) {
      if (signal.aborted) return false;
      // @microsoft/signalr's text for its request timeout (its TimeoutError): "Failed to complete
      // negotiation with the server: Error: A timeout occurred."
      if (String((e as Error).message).includes("A timeout occurred")) {
        throw new EventStreamError("transport",
          `Could not connect to the SignalR hub: it did not answer within ${this.connectTimeoutInMilliseconds / 1000} s.`, true);
      }
      const message = `Could not connect to the SignalR hub: ${(e as Error).message}`;
      // The negotiation's HTTP status: 401 wants a fresh token, 400/403/404 stop. @microsoft/signalr
      // wraps the HttpError that carries it in FailedToNegotiateWithServerError, keeping only its
      // text ("... Status code '401'"), so the status is read from there when the property is gone.
      const status = negotiationStatus(e);
      const refusal = status === null ? null : hubBodyError(e);
      if (refusal !== null) throw refusal;
      if (status !== null) throw fromHttpStatus(status, message);
      // The hub closed the connection at its handshake with a coded error (a connection limit):
      // "Server returned an error on close: ... HubException: too_many_connections_per_address: ...".
      const coded = fromSignalRError(e);
      if (coded.code !== "transport") throw coded;
      throw new EventStreamError("transport", message, true);
    } finally {
      signal.removeEventListener("abort", onAbortStart);
    }
    return !signal.aborted;
  }

  private stream(connection: HubConnection, request: StreamRequest, sink: TransportSink, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let subscription: ISubscription<unknown> | undefined;
      let done = false;
      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        signal.removeEventListener("abort", onAbort);
        subscription?.dispose();
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = () => finish();
      connection.onclose((error) => {
        finish(signal.aborted ? undefined
          : new EventStreamError("transport", `The connection to the hub closed${error ? `: ${error.message}` : "."}`, true));
      });
      signal.addEventListener("abort", onAbort);
      subscription = connection.stream<unknown>("StreamEvents", {
        projects: request.projects.length > 0 ? [...request.projects] : null,
        types: request.types.length > 0 ? [...request.types] : null,
        after: request.after,
        signalItems: true,
      }).subscribe({
        next: (item) => {
          if (done) return;
          try {
            const end = signalFromItem(item);
            if (end === null) sink.event(item);
            // The reset signal: not a failure. Report it; the stream continues from its offset.
            else if ("reset" in end) { sink.reset(end.reset); finish(); }
            else finish(end.error);
          } catch (e) {
            finish(e);
          }
        },
        error: (e) => {
          if (signal.aborted) { finish(); return; }
          // Not the stream's own end (that is its final item): the connection failed or closed.
          finish(fromSignalRError(e));
        },
        complete: () => finish(),
      });
      if (done) subscription.dispose();
      else sink.open();
    });
  }
}

/**
 * The hub's own error in a refused negotiation: @microsoft/signalr's fetch client puts the response
 * body in the error's text ("Failed to complete negotiation with the server: Error:
 * {"error":{"code":…}}: Status code '403'"), which says which refusal it is (`host_not_allowed`,
 * `token_expired`) where the status alone does not. Null when the text holds no such body or the
 * contract does not know its code.
 */
function hubBodyError(error: unknown): EventStreamError | null {
  const text = error instanceof Error ? error.message : String(error);
  const start = text.indexOf('{"error"');
  const end = text.lastIndexOf("}");
  if (start < 0 || end < start) return null;
  try {
    const refusal = errorFromPayload(JSON.parse(text.slice(start, end + 1)), text);
    return isKnownErrorCode(refusal.code) ? refusal : null;
  } catch {
    return null;
  }
}

/** The HTTP status that refused SignalR's negotiation, if `error` says one. */
function negotiationStatus(error: unknown): number | null {
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === "number") return status >= 400 ? status : null;
  const match = /Status code '(\d{3})'/.exec(error instanceof Error ? error.message : String(error));
  return match === null ? null : Number(match[1]);
}
