// Generates src/events/eventTypes.generated.ts from Contracts/event-types.json, the one description
// of the event types: value sets, one payload interface per type, the type -> payload map and
// KNOWN_EVENT_TYPES. `--check` exits 1 instead of writing when the committed file differs (the unit
// test test/unit/eventTypesGenerated.test.ts does the same comparison).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const description = resolve(here, "../../../Contracts/event-types.json");
const target = resolve(here, "../src/events/eventTypes.generated.ts");

/** The generated file's text for the description at `path`. */
export function render(path = description) {
  const d = JSON.parse(readFileSync(path, "utf8"));
  const pascal = (type) => type.split("_").map((w) => w[0].toUpperCase() + w.slice(1)).join("");
  const tsType = (f) => {
    const base = f.values ?? { string: "string", boolean: "boolean", integer: "number" }[f.type];
    if (base === undefined) throw new Error(`${f.name}: unknown field type ${f.type}`);
    return f.nullable ? `${base} | null` : base;
  };
  const out = [
    "// Generated from Contracts/event-types.json by scripts/generate-event-types.mjs: do not edit.",
    "// Regenerate with `npm run generate:events -w @eventhub/client`; test/unit/eventTypesGenerated.test.ts",
    "// fails when this file is stale.",
    "",
  ];
  for (const [name, set] of Object.entries(d.valueSets)) {
    out.push(`/** ${set.doc} */`, `export type ${name} = ${set.values.map((v) => JSON.stringify(v)).join(" | ")};`, "");
  }
  for (const t of d.types) {
    out.push(`/** Payload of \`${t.type}\`: ${t.doc[0].toLowerCase()}${t.doc.slice(1)} */`, `export interface ${pascal(t.type)}Payload {`);
    for (const f of t.payload) out.push(`  /** ${f.doc} */`, `  readonly ${f.name}: ${tsType(f)};`);
    out.push("}", "");
  }
  out.push("/** The payload of each known event type. */", "export interface EventPayloads {");
  for (const t of d.types) out.push(`  readonly ${t.type}: ${pascal(t.type)}Payload;`);
  out.push("}", "");
  out.push(
    "/**",
    " * The event types the change log writes today, in the order of the CDC contract. The hub passes",
    " * any other type through untouched; this client delivers those as `UnknownEvent`s.",
    " */",
    "export const KNOWN_EVENT_TYPES = [",
    ...d.types.map((t) => `  ${JSON.stringify(t.type)},`),
    "] as const;",
    "",
  );
  return out.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = render();
  if (process.argv.includes("--check")) {
    if (readFileSync(target, "utf8") !== text) { console.error(`${target} is stale: run node scripts/generate-event-types.mjs`); process.exit(1); }
  } else {
    writeFileSync(target, text);
    console.log(`wrote ${target}`);
  }
}
