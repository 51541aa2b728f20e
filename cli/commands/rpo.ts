import type { Command } from "commander";
import { redoRpo } from "../../server/redo/redo-rpo.ts";
import { printJson, table } from "../output.ts";

function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function registerRpo(program: Command): void {
  program
    .command("rpo")
    .description("what losing the server's machine now would lose: per target, the redo it holds and the age of the oldest record it lacks")
    .requiredOption("-s, --server <name>", "mailbox server")
    .option("--json", "print JSON")
    .action(async (opts: { server: string; json?: boolean }) => {
      const rpo = await redoRpo(opts.server);
      if (opts.json) return printJson(rpo);
      console.log(
        table(
          ["TARGET", "LOCATION", "SHIPPED THROUGH", "AT", "NOT SHIPPED", "RPO", "SAME MACHINE"],
          rpo.targets.map((t) => [
            t.name,
            t.location,
            String(t.lastShippedSeq),
            t.lastShippedAt ? `${t.lastShippedAt.slice(0, 19).replace("T", " ")} UTC` : "-",
            `${t.unshippedRecords} records`,
            age(t.rpoSeconds),
            t.sameMachine ? "yes" : "no",
          ]),
        ),
      );
      for (const t of rpo.targets) if (t.lastError) console.log(`${t.name}: shipping fails since ${t.failingSince?.slice(0, 19).replace("T", " ")} UTC: ${t.lastError}`);
      if (rpo.redoShipSeconds === 0) console.log(`redo shipping is off for ${rpo.server}: redo leaves the machine only with each backup (servers set -s ${rpo.server} redoShipSeconds=30 turns it on)`);
      if (rpo.machineLossRpoSeconds === null) console.log(`every target of ${rpo.server} is on its own machine: losing the machine is not covered (add an off-site target: targets add)`);
    });
}
