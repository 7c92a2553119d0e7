// Builds the live event viewer (viewer/) with esbuild into static files the hub serves at "/":
// index.html, viewer.js, viewer.css. Default output: Hub/wwwroot (committed, so a fresh clone's
// `dotnet run --project Hub` serves it); `--out DIR` writes elsewhere (the up-to-date test).
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, "..");
const outIndex = process.argv.indexOf("--out");
const out = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : resolve(pkg, "../../Hub/wwwroot");

mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(pkg, "viewer/main.tsx")],
  outfile: join(out, "viewer.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  legalComments: "none",
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
copyFileSync(join(pkg, "viewer/viewer.css"), join(out, "viewer.css"));
copyFileSync(join(pkg, "viewer/index.html"), join(out, "index.html"));
console.log(`viewer built into ${out}`);
