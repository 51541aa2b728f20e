/**
 * Bundles the CLI (cli/main.ts and the project modules it imports, not node_modules) into
 * `.cache/cli/main.mjs`, for bin/mailvault to run with plain Node: a call then starts in about
 * half the time it takes through tsx's loader hooks, where every module is resolved and
 * transformed on each start. bin/mailvault builds again whenever a file the bundle was made of
 * changed size or time, or is gone (the stamp file lists them).
 *
 * Each module keeps its own `import.meta.url`, as it has when run from source, so files found
 * beside a module (the blob I/O thread's script) are found from the bundle too. Written to
 * temporary names and renamed, the bundle first and its stamp last, so two calls building at
 * once each leave a whole bundle and a stamp no newer than it.
 *
 * Plain JavaScript: it runs before anything can load TypeScript.
 */
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, ".cache", "cli");
const unique = `${process.pid}-${Date.now()}`;

/** Each project file the bundle reads, as bin/mailvault checks it: `path size mtime`, stat'd before it is read. */
const stamps = new Map();

async function loadOwnFile(file) {
  const info = await stat(file, { bigint: true });
  const ns = info.mtimeNs;
  stamps.set(path.relative(root, file), `${info.size} ${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, "0")}`);
  const text = await readFile(file, "utf8");
  return { contents: text.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(file).href)), loader: file.endsWith(".ts") ? "ts" : "js" };
}

await mkdir(out, { recursive: true });
const bundle = path.join(out, `main.mjs.${unique}`);
await build({
  absWorkingDir: root,
  entryPoints: ["cli/main.ts"],
  outfile: bundle,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  // As tsx compiles: classes and functions keep their names (a bundle would otherwise rename
  // those that share a name across modules, and errors are told apart by theirs).
  keepNames: true,
  logLevel: "error",
  plugins: [{ name: "own-files", setup: (b) => b.onLoad({ filter: /\.(ts|mjs|js)$/ }, (args) => (args.path.includes(`${path.sep}node_modules${path.sep}`) ? undefined : loadOwnFile(args.path))) }],
});
await rename(bundle, path.join(out, "main.mjs"));
const stampFile = path.join(out, `stamp.${unique}`);
await writeFile(stampFile, [...stamps].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([file, stamp]) => `${file} ${stamp}\n`).join(""));
await rename(stampFile, path.join(out, "stamp"));
