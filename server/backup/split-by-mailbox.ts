/**
 * COPY text rows ordered by their first column (the mailbox id), handed over one mailbox's rows at
 * a time. Rows end with a newline and a field never holds a raw one (COPY escapes it), so a
 * chunk is split at newlines and the mailbox read from each row's first field.
 */
export async function splitByMailbox(copy: AsyncIterable<Buffer>, each: (mailboxId: number, rows: Buffer) => Promise<void>): Promise<void> {
  let current: number | null = null;
  let held: Buffer[] = [];
  let rest = Buffer.alloc(0);
  const flush = async () => {
    if (current !== null) await each(current, Buffer.concat(held));
    held = [];
  };
  for await (const chunk of copy) {
    const data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let run = 0;
    let line = 0;
    for (let end = data.indexOf(10, line); end >= 0; line = end + 1, end = data.indexOf(10, line)) {
      const tab = data.indexOf(9, line);
      const id = Number(data.toString("latin1", line, tab < 0 || tab > end ? end : tab));
      if (id !== current) {
        if (line > run) held.push(Buffer.from(data.subarray(run, line)));
        await flush();
        current = id;
        run = line;
      }
    }
    if (line > run) held.push(Buffer.from(data.subarray(run, line)));
    rest = Buffer.from(data.subarray(line));
  }
  if (rest.length) throw new Error("COPY ended in the middle of a row");
  await flush();
}
