import pino from "pino";
import { config } from "./config.ts";

/** One logger; JSON lines, level from LOG_LEVEL. */
export const logger = pino({ level: config().LOG_LEVEL, base: { pid: process.pid } });
