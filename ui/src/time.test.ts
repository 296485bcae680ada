import { describe, expect, it } from "vitest";
import { eta, inWords, withoutPath } from "./time";

describe("eta", () => {
  it("is unknown before the first item and after the last", () => {
    expect(eta({ total: 10, done: 0, started: 0 }, 5000)).toBeNull();
    expect(eta({ total: 10, done: 10, started: 0 }, 5000)).toBeNull();
  });
  it("extrapolates the pace so far", () => {
    // 4 items in 8 s: 2 s each, 6 left.
    expect(eta({ total: 10, done: 4, started: 1000 }, 9000)).toBe(12);
  });
  it("reads as words", () => {
    expect(inWords(0)).toBe("1 s");
    expect(inWords(42)).toBe("42 s");
    expect(inWords(150)).toBe("3 min");
    expect(inWords(3900)).toBe("1 h 5 min");
  });
});

describe("messages", () => {
  it("drop the path the list already shows", () => {
    expect(withoutPath("/a/b.pdf: damaged", "/a/b.pdf")).toBe("damaged");
    expect(withoutPath("cancelled", "/a/b.pdf")).toBe("cancelled");
  });
});
