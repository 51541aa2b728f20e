import { describe, expect, it } from "vitest";
import { fitWidths } from "./data-grid";

describe("fitWidths", () => {
  const columns = [
    { size: 400, fixed: false },
    { size: 200, fixed: false },
    { size: 176, fixed: true },
    { size: 80, fixed: true },
  ];

  it("keeps the sizes when the table fits, or before the box is measured", () => {
    expect(fitWidths(columns, 1000)).toEqual([400, 200, 176, 80]);
    expect(fitWidths(columns, null)).toEqual([400, 200, 176, 80]);
  });

  it("shrinks only the shared columns, in proportion, so the table fits", () => {
    const widths = fitWidths(columns, 700);
    expect(widths.slice(2)).toEqual([176, 80]);
    expect(widths[0]! / widths[1]!).toBeCloseTo(2, 1);
    expect(widths.reduce((n, w) => n + w, 0)).toBeLessThanOrEqual(700);
  });

  it("stops shrinking at a readable width, and lets the table scroll instead", () => {
    expect(fitWidths(columns, 300)).toEqual([88, 88, 176, 80]);
  });
});
