import type { JobData } from "./definitions.ts";

export interface PingAnswer {
  server: string;
  worker: string;
  sentAt: string;
  answeredAt: string;
  note?: string;
}

/** The `server.ping` job: proves a server's queue and one of its workers answer. */
export function answerPing(server: string, worker: string, data: JobData<"server.ping">): PingAnswer {
  return { server, worker, sentAt: data.sentAt, answeredAt: new Date().toISOString(), note: data.note };
}

