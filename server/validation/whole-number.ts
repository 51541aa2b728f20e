/**
 * A whole number as JSON gives it, or as the digits of a query value or a flag. Unlike
 * `z.coerce.number()`, "0x10", "1e3", " 7", "" and true are refused, not read as 16, 1000, 7, 0
 * and 1: what a caller typed is what the number is.
 */
import { z } from "zod";

export function wholeNumber(what: string, { min = 1, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {}) {
  return z.preprocess(
    (value) => (typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value),
    z
      .number(`${what} is a whole number`)
      .min(min, `${what} is at least ${min}`)
      .max(max, max === Number.MAX_SAFE_INTEGER ? `${what} is too large` : `${what} can be at most ${max}`)
      .int(`${what} is a whole number`),
  );
}
