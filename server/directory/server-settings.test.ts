import { describe, expect, it } from "vitest";
import { parseServerSettings } from "./server-settings.ts";

describe("parseServerSettings", () => {
  it("gives every default for an empty object, as a new server has", () => {
    const settings = parseServerSettings({});
    expect(settings).toMatchObject({
      lmtpPort: 7025,
      mailboxGroups: 100,
      redoArchive: { maxBytes: 100 * 1024 * 1024, maxAgeSeconds: 60 },
      autoGrouped: { groups: 7, throttle: false },
      redoKeepSeconds: 3600,
      workerConcurrency: 4,
    });
  });

  it("keeps what is set and defaults the rest of a nested group", () => {
    expect(parseServerSettings({ redoArchive: { maxAgeSeconds: 5 } }).redoArchive).toEqual({ maxBytes: 100 * 1024 * 1024, maxAgeSeconds: 5 });
  });

  it("rejects settings that cannot work", () => {
    expect(() => parseServerSettings({ lmtpPort: 70000 })).toThrow();
    expect(() => parseServerSettings({ mailboxGroups: 0 })).toThrow();
  });
});
