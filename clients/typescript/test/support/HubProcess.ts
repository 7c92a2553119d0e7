// Starts and stops a real hub process (the built EventHub.Hub.dll) on a loopback port.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, type WriteStream } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

/** The repository's root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
/** The built hub. scripts/test-node.sh builds it; globalSetup builds it if it is missing. */
export const hubDll = resolve(repoRoot, "Hub/bin/Debug/net10.0/EventHub.Hub.dll");

/**
 * A free TCP port on 127.0.0.1 (closed again before it is returned), below the machine's
 * ephemeral range when there is room: a port the kernel picks (listen on 0) comes from the range
 * every outgoing connection's local port is taken from too, so a connect() anywhere on the machine
 * could take it before the hub binds it ("address already in use"). As the hub's LoopbackPorts.Free.
 */
export async function freePort(): Promise<number> {
  const lowest = 10_000;
  const ephemeralLow = ephemeralRangeStart();
  if (ephemeralLow - lowest >= 1_000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = lowest + Math.floor(Math.random() * (ephemeralLow - lowest));
      if ((await listenOnce(port)) !== undefined) return port;
    }
  }
  const port = await listenOnce(0);
  if (port === undefined) throw new Error("no free port on 127.0.0.1");
  return port;
}

/** The first port of the ephemeral range (Linux says it in /proc; elsewhere IANA's default). */
function ephemeralRangeStart(): number {
  try {
    const low = Number.parseInt(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0] ?? "", 10);
    return Number.isFinite(low) ? low : 49_152;
  } catch {
    return 49_152;
  }
}

/** Listens on the port and closes again: the port it got, or undefined if the port is taken. */
function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((ok) => {
    const server = createServer();
    server.once("error", () => ok(undefined));
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => ok(typeof address === "object" && address ? address.port : undefined));
    });
  });
}

/** A running hub process. */
export class HubProcess {
  private output = "";
  private exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess, readonly url: string) {
    const file = HubProcess.logFile(child, url);
    const take = (d: Buffer) => {
      const text = d.toString();
      this.output += text;
      file?.write(text);
    };
    child.stdout!.on("data", take);
    child.stderr!.on("data", take);
    this.exited = new Promise((ok) => child.once("exit", (code) => { file?.end(); ok(code); }));
  }

  /**
   * A file of this hub process's output in the directory EVENTHUB_TS_HUB_LOGS names, if it names
   * one: scripts/test-node.sh does, and prints the hubs' warnings and errors when a suite fails,
   * so that a failure in CI shows the hub's side too, not only the client's.
   */
  private static logFile(child: ChildProcess, url: string): WriteStream | undefined {
    const dir = process.env.EVENTHUB_TS_HUB_LOGS;
    if (!dir) return undefined;
    mkdirSync(dir, { recursive: true });
    const file = createWriteStream(join(dir, `hub-${new URL(url).port}-${child.pid}.log`), { flags: "a" });
    const by = HubProcess.startedBy();
    file.write(`== hub ${url} (pid ${child.pid}) started at ${new Date().toISOString()} by ${by}\n`);
    return file;
  }

  /** The test (or the suite's file, in a hook) that starts a hub: vitest's state, outside a test none. */
  private static startedBy(): string {
    try {
      const { currentTestName, testPath } = expect.getState();
      const file = testPath ? testPath.slice(testPath.indexOf("/test/") + 1) : undefined;
      if (file) return currentTestName ? `${file} > ${currentTestName}` : file;
    } catch { /* not in a test file: the global setup */ }
    return "vitest's global setup";
  }

  /** Everything the process printed (for failure messages). */
  get log(): string {
    return this.output;
  }

  /**
   * Starts the hub with the given configuration (key=value pairs) and waits until it serves
   * requests ("Application started"), at most `timeoutInMilliseconds`.
   */
  static async start(port: number, config: Record<string, string>, timeoutInMilliseconds = 90_000): Promise<HubProcess> {
    if (!existsSync(hubDll)) throw new Error(`${hubDll} is missing: run 'dotnet build Hub' first.`);
    // shutdownTimeoutSeconds: the hub keeps open SSE responses until the host's shutdown timeout
    // (30 s by default) when it stops; 2 s keeps restarts in the resume tests quick.
    // LiveWarmUp:Duration=0: the hub's tests cover the live warm-up; here it would only spend 2 s of CPU per start.
    const args = [hubDll, `--Urls=http://127.0.0.1:${port}`, "--shutdownTimeoutSeconds=2", "--LiveWarmUp:Duration=00:00:00",
      ...Object.entries(config).map(([k, v]) => `--${k}=${v}`)];
    const child = spawn("dotnet", args, {
      cwd: repoRoot,
      env: { ...process.env, DOTNET_NOLOGO: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const hub = new HubProcess(child, `http://127.0.0.1:${port}`);
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`The hub did not start within ${timeoutInMilliseconds} ms:\n${hub.log}`)), timeoutInMilliseconds);
      const check = () => {
        if (hub.output.includes("Application started")) { clearTimeout(timer); child.stdout!.off("data", check); ok(); }
      };
      child.stdout!.on("data", check);
      void hub.exited.then((code) => { clearTimeout(timer); fail(new Error(`The hub exited (${code}) during start-up:\n${hub.log}`)); });
    });
    return hub;
  }

  /** Kills the hub with SIGKILL (no graceful shutdown, no final frame) and waits until it is gone. */
  async kill(timeoutInMilliseconds = 30_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGKILL");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.exited,
      new Promise((_, fail) => { timer = setTimeout(() => fail(new Error("the killed hub did not exit")), timeoutInMilliseconds); }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Stops the hub with SIGTERM (it stops its private cluster, if it has one) and waits for it to exit. */
  async stop(timeoutInMilliseconds = 30_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutInMilliseconds);
    await this.exited;
    clearTimeout(timer);
  }
}
