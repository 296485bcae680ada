import { describe, expect, it } from "vitest";
import type { BBox } from "./bindings/BBox";
import { boxAt, drawWidth, scaleFor, scrollToShow, toPage, toScreen, union, zoomStep } from "./geometry";

const a4 = { width: 595, height: 842 };

describe("zoom", () => {
  it("fits the width or the whole page", () => {
    expect(scaleFor("fit-width", a4, { width: 1190, height: 500 })).toBeCloseTo(2);
    expect(scaleFor("fit-page", a4, { width: 1190, height: 421 })).toBeCloseTo(0.5);
    expect(scaleFor(1.5, a4, { width: 10, height: 10 })).toBe(1.5);
  });
  it("never collapses on an empty view or page", () => {
    expect(scaleFor("fit-width", { width: 0, height: 0 }, { width: 0, height: 0 })).toBeGreaterThan(0);
  });
  it("steps through the levels and stops at the ends", () => {
    expect(zoomStep(1, 1)).toBe(1.25);
    expect(zoomStep(1, -1)).toBe(0.8);
    expect(zoomStep(1.1, 1)).toBe(1.25);
    expect(zoomStep(1.1, -1)).toBe(1);
    expect(zoomStep(4, 1)).toBe(4);
    expect(zoomStep(0.5, -1)).toBe(0.5);
  });
  it("draws at device pixels, in steps of 100 px, within limits", () => {
    expect(drawWidth(801, 1)).toBe(900);
    expect(drawWidth(800, 2)).toBe(1600);
    expect(drawWidth(10, 1)).toBe(100);
    expect(drawWidth(5000, 2)).toBe(4000);
  });
});

describe("boxes", () => {
  it("map page points to screen pixels and back", () => {
    expect(toScreen([10, 20, 110, 40], 2)).toEqual({ left: 20, top: 40, width: 200, height: 40 });
    expect(toPage(20, 40, 2)).toEqual([10, 20]);
  });
  it("keep a degenerate box visible", () => {
    const r = toScreen([10, 10, 10, 10], 1);
    expect(r.width).toBeGreaterThanOrEqual(1);
    expect(r.height).toBeGreaterThanOrEqual(1);
  });
  it("find the innermost box under a point", () => {
    const boxes: BBox[] = [
      [0, 0, 500, 800],
      [50, 50, 200, 100],
      [300, 300, 400, 400],
    ];
    expect(boxAt(boxes, 60, 60)).toBe(1);
    expect(boxAt(boxes, 10, 700)).toBe(0);
    expect(boxAt(boxes, 550, 10)).toBeNull();
  });
  it("unite boxes", () => {
    expect(union([[1, 2, 3, 4], [0, 5, 2, 9]])).toEqual([0, 2, 3, 9]);
    expect(union([])).toBeNull();
  });
  it("scroll only when the box is not fully in view, centring it", () => {
    const view = { scrollLeft: 0, scrollTop: 0, width: 400, height: 300 };
    expect(scrollToShow({ left: 10, top: 10, width: 50, height: 20 }, view)).toBeNull();
    expect(scrollToShow({ left: 100, top: 1000, width: 50, height: 20 }, view)).toEqual({ left: 0, top: 860 });
  });
});
