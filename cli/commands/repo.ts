import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { attachTarget } from "../../server/backup/attach-target.ts";
import { copyTargetNamed } from "../../server/backup/server-targets.ts";
import { backendFor } from "../../server/backup/target.ts";
import { recordEncryptedTarget } from "../../server/directory/update-settings.ts";
import { getServer } from "../../server/directory/list-servers.ts";
import { InvalidInputError } from "../../server/errors.ts";
import { addKey, configuredPassphrase, initEncryption, listKeys, removeKey } from "../../server/repository/repository-keys.ts";
import { printJson, table } from "../output.ts";

/** The passphrase to add: MAILVAULT_NEW_TARGET_PASSPHRASE, or the file given. */
function newPassphrase(file: string | undefined): string {
  if (file) return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  const value = process.env.MAILVAULT_NEW_TARGET_PASSPHRASE;
  if (!value) throw new InvalidInputError("give the new passphrase in MAILVAULT_NEW_TARGET_PASSPHRASE or with --new-passphrase-file <file>");
  return value;
}

/** The server's own target, or with --target one of its copy targets (which may be encrypted on their own). */
async function targetOf(serverName: string, copyTarget?: string) {
  const server = await getServer(serverName);
  const url = copyTarget ? copyTargetNamed(server, copyTarget).url : server.backupTarget;
  return Object.assign(backendFor(url), { server: server.name, url });
}

export function registerRepo(program: Command): void {
  const repo = program.command("repo").description("a server's backup target: encryption and its passphrases");
  repo
    .command("init")
    .description("set up an empty target before its first backup; --encrypt seals everything with the passphrase in MAILVAULT_TARGET_PASSPHRASE")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("--target <name>", "one of the server's copy targets instead of its own")
    .option("--encrypt", "encrypt the target (fixed once chosen)")
    .action(async (opts: { server: string; target?: string; encrypt?: boolean }) => {
      if (!opts.encrypt) throw new InvalidInputError("a target is set up unencrypted by its first backup: repo init is for --encrypt");
      const target = await targetOf(opts.server, opts.target);
      const passphrase = configuredPassphrase();
      if (!passphrase) throw new InvalidInputError("set MAILVAULT_TARGET_PASSPHRASE (or MAILVAULT_TARGET_PASSPHRASE_FILE) to the passphrase to encrypt with");
      // Recorded in the directory first: a target that loses its keys later is refused, never
      // used in the clear (and if the init fails, the target is refused until it is run again).
      await recordEncryptedTarget(target.server, target.url);
      const id = await initEncryption(target.raw, passphrase);
      target.reset();
      console.log(`${target.location}: encrypted (AES-256-GCM), key ${id}; keep the passphrase: without it the backups cannot be read`);
    });
  repo
    .command("attach")
    .description("a new installation: rebuild a server's directory, catalog and redo from its backup target alone (then restore --server <name> --offline)")
    .argument("<target>", "the target's folder or s3:// URL (an encrypted one opens with MAILVAULT_TARGET_PASSPHRASE)")
    .option("--server <name>", "the server the target must belong to")
    .option("--takeover", "take the target from another installation whose lease is still live (only if that one is gone)")
    .option("--json", "print JSON")
    .action(async (url: string, opts: { server?: string; takeover?: boolean; json?: boolean }) => {
      const started = Date.now();
      const attached = await attachTarget({ url, server: opts.server, takeover: opts.takeover });
      if (opts.json) return printJson({ ...attached, seconds: (Date.now() - started) / 1000 });
      const r = attached.redo;
      console.log(`attached ${attached.server} from ${url.replace(/\?.*$/, "")} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      console.log(`directory: ${attached.accounts} account(s), ${attached.formerNames} former name(s), from ${attached.directoryFrom} (${attached.directoryTakenAt.slice(0, 19).replace("T", " ")} UTC)`);
      const changes = attached.fromRedo;
      if (changes.created + changes.renamed + changes.deleted) console.log(`  since then, from the redo: ${changes.created} created, ${changes.renamed} renamed, ${changes.deleted} deleted`);
      console.log(`catalog: ${attached.sessions} session(s)`);
      console.log(`redo: ${r.segments} shipped segment(s) fetched${r.from ? ` from ${r.from}` : ""}; newest record ${r.throughSeq}${r.throughAt ? ` (${r.throughAt.slice(0, 19).replace("T", " ")} UTC)` : ""}`);
      console.log(`next: ./bin/mailvault restore -s ${attached.server} --offline --wait`);
      if (attached.schedule.length) console.log(`then put its schedule back:\n${attached.schedule.map((c) => `  ${c}`).join("\n")}`);
    });
  const key = repo.command("key").description("the passphrases that open an encrypted target");
  key
    .command("list")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("--target <name>", "one of the server's copy targets instead of its own")
    .option("--json", "print JSON")
    .action(async (opts: { server: string; target?: string; json?: boolean }) => {
      const keys = await listKeys((await targetOf(opts.server, opts.target)).raw);
      if (opts.json) return printJson(keys);
      if (!keys.length) return console.log("the target is not encrypted");
      console.log(table(["ID", "CREATED", "HOST"], keys.map((k) => [k.id, k.created, k.host])));
    });
  key
    .command("add")
    .description("add a passphrase (MAILVAULT_NEW_TARGET_PASSPHRASE); the current one (MAILVAULT_TARGET_PASSPHRASE) must open the target")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("--target <name>", "one of the server's copy targets instead of its own")
    .option("--new-passphrase-file <file>", "read the new passphrase from this file")
    .action(async (opts: { server: string; target?: string; newPassphraseFile?: string }) => {
      const target = await targetOf(opts.server, opts.target);
      const id = await addKey(target.raw, configuredPassphrase(), newPassphrase(opts.newPassphraseFile));
      console.log(`added key ${id}`);
    });
  key
    .command("remove")
    .description("remove a passphrase's key; the last one stays")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("--target <name>", "one of the server's copy targets instead of its own")
    .argument("<id>", "the key's id (repo key list)")
    .action(async (id: string, opts: { server: string; target?: string }) => {
      await removeKey((await targetOf(opts.server, opts.target)).raw, configuredPassphrase(), id);
      console.log(`removed key ${id}`);
    });
}
