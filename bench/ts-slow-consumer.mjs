// What a slow `for await` loop costs the TypeScript client in memory: it streams PROJECT from the
// start of the log (a catch-up of EVENTS events), reads the first event, then reads nothing for
// STALL seconds (an application busy elsewhere), then reads the rest. Prints the heap after the
// stall (after a full GC), the peak resident memory (VmHWM) and how long the whole read took.
// The client's default settings but the transport.
//
//   node --expose-gc bench/ts-slow-consumer.mjs <client dist/index.js> <hub base URL> PROJECT EVENTS STALL TRANSPORT
//
// TRANSPORT: sse, signalr (JSON) or msgpack. bench/ts-slow-consumer.sh runs it for REF's client and this tree's.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [dist, url, project, eventsArg, stallArg, transportArg] = process.argv.slice(2);
const events = Number(eventsArg);
const stall = Number(stallArg ?? 5) * 1000;
const { EventStream } = await import(pathToFileURL(dist).href);
const transport = transportArg === "sse" ? { transport: "sse" } : { transport: "signalr", protocol: transportArg === "msgpack" ? "msgpack" : "json" };
const status = (field) => Number(readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith(field + ":")).split(/\s+/)[1]) / 1024;

const started = performance.now();
const stream = new EventStream({ url, projects: [project], after: "0", ...transport });
let read = 0;
let heap = 0;
let rss = 0;
for await (const item of stream) {
  read++;
  if (read === 1) {
    await new Promise((resolve) => setTimeout(resolve, stall)); // the application reads nothing
    globalThis.gc();
    heap = process.memoryUsage().heapUsed / (1024 * 1024);
    rss = status("VmRSS");
  }
  if (read === events) break;
}
await stream.stop();
console.log(`read ${read} events in ${((performance.now() - started) / 1000).toFixed(1)} s (a ${stall / 1000} s stall after the first); `
  + `after the stall: resident ${rss.toFixed(0)} MiB, heap ${heap.toFixed(0)} MiB; peak resident ${status("VmHWM").toFixed(0)} MiB`);
process.exit(0);
