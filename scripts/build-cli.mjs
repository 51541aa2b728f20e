/**
 * Bundles the CLI (cli/main.ts and the project modules it imports, not node_modules) into
 * `.cache/cli/main.mjs`, for bin/mailvault to run with plain Node: a call then starts in about
 * half the time it takes through tsx's loader hooks, where every module is resolved and
 * transformed on each start. bin/mailvault builds again whenever a file the bundle was made of,
 * or one that decides how it is built (this script, tsconfig.json, esbuild's version), changed
 * size or time, or is gone: the stamp lists them, each as it was stat'd before it was read.
 * bin/mailvault holds a lock while it checks and builds, so one build runs at a time.
 *
 * Each module keeps its own `import.meta.url`, as when run from source, written relative to the
 * bundle, so files found beside a module (the blob I/O thread's script) are found from the bundle
 * too, also in a checkout moved or copied elsewhere. Written to temporary names and renamed, the
 * bundle first and its stamp last; a failed build leaves neither temporary file.
 *
 * Plain JavaScript: it runs before anything can load TypeScript.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, ".cache", "cli");
const unique = `${process.pid}-${Date.now()}`;
const bundle = path.join(out, `main.mjs.${unique}`);
const stampFile = path.join(out, `stamp.${unique}`);

/** `path size mtime` of each file, as bin/mailvault prints it with `LC_ALL=C stat -c '%n %s %.9Y'`. */
const stamps = new Map();

async function stamp(file) {
  const info = await stat(file, { bigint: true });
  const ns = info.mtimeNs;
  stamps.set(path.relative(root, file), `${info.size} ${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, "0")}`);
}

async function loadOwnFile(file) {
  await stamp(file);
  const text = await readFile(file, "utf8");
  const own = `new URL(${JSON.stringify(path.relative(out, file).split(path.sep).join("/"))}, import.meta.url).href`;
  return { contents: text.replaceAll("import.meta.url", own), loader: file.endsWith(".ts") ? "ts" : "js" };
}

try {
  await mkdir(out, { recursive: true });
  for (const file of ["scripts/build-cli.mjs", "tsconfig.json", "node_modules/esbuild/package.json"]) await stamp(path.join(root, file));
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
    // those that share a name across modules, and errors take theirs from their class).
    keepNames: true,
    logLevel: "error",
    plugins: [{ name: "own-files", setup: (b) => b.onLoad({ filter: /\.(ts|mjs|js)$/ }, (args) => (args.path.includes(`${path.sep}node_modules${path.sep}`) ? undefined : loadOwnFile(args.path))) }],
  });
  await rename(bundle, path.join(out, "main.mjs"));
  await writeFile(stampFile, [...stamps].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([file, line]) => `${file} ${line}\n`).join(""));
  await rename(stampFile, path.join(out, "stamp"));
} finally {
  await Promise.all([bundle, stampFile].map((file) => rm(file, { force: true })));
}
