import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { createUser, listUsers, setDisabled, setPassword } from "../../server/auth/users.ts";
import { InvalidInputError } from "../../server/errors.ts";
import { printJson, table } from "../output.ts";

/** A password from stdin (`--password-stdin`, for scripts), or a new random one that is printed once. */
async function passwordFrom(stdin: boolean | undefined): Promise<{ password: string; generated: boolean }> {
  if (!stdin) return { password: randomBytes(12).toString("base64url"), generated: true };
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  const password = text.split("\n")[0]!.trim();
  if (password.length < 10) throw new InvalidInputError("the password on stdin must have at least 10 characters");
  return { password, generated: false };
}

export function registerUsers(program: Command): void {
  const users = program.command("users").description("console users: list, add, set a password, disable or enable");

  users
    .command("list", { isDefault: true })
    .description("every console user with their role")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const all = await listUsers();
      if (opts.json) return printJson(all);
      console.log(table(["email", "role", "created", "state"], all.map((u) => [u.email, u.role, u.createdAt.slice(0, 10), u.disabled ? "disabled" : "active"])));
    });

  users
    .command("add <email>")
    .description("add a user; prints a generated password unless --password-stdin")
    .requiredOption("--role <role>", "admin or helpdesk")
    .option("--name <name>", "display name", "")
    .option("--password-stdin", "read the password from the first line of stdin")
    .action(async (email: string, opts: { role: string; name: string; passwordStdin?: boolean }) => {
      const { password, generated } = await passwordFrom(opts.passwordStdin);
      const user = await createUser({ email, name: opts.name, role: opts.role as "admin" | "helpdesk", password });
      console.log(`added ${user.email} (${user.role})${generated ? `; password: ${password}` : ""}`);
    });

  users
    .command("passwd <email>")
    .description("set a new password; prints a generated one unless --password-stdin")
    .option("--password-stdin", "read the password from the first line of stdin")
    .action(async (email: string, opts: { passwordStdin?: boolean }) => {
      const { password, generated } = await passwordFrom(opts.passwordStdin);
      await setPassword(email, password);
      console.log(`password of ${email} changed${generated ? `; new password: ${password}` : ""}`);
    });

  for (const [verb, disabled] of [["disable", true], ["enable", false]] as const) {
    users
      .command(`${verb} <email>`)
      .description(disabled ? "lock a user out and end their sessions" : "let a disabled user sign in again")
      .action(async (email: string) => {
        await setDisabled(email, disabled);
        console.log(`${email} ${disabled ? "disabled" : "enabled"}`);
      });
  }
}
