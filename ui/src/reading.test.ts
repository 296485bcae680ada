import { describe, expect, it } from "vitest";
import type { ReadAgain } from "./bindings/ReadAgain";
import type { PageView } from "./bindings/PageView";
import { summary } from "./reading";

const base: ReadAgain = {
  view: {} as PageView,
  reader: "ocr",
  words: 42,
  lines: 7,
  checked_against: null,
  confirmed: 0,
  not_on_page: [],
  regions: 0,
  failed_regions: [],
  loops: 0,
};

describe("summary", () => {
  it("counts an OCR reading's words and lines", () => {
    expect(summary(base)).toBe("Read by OCR: 42 words in 7 lines.");
  });
  it("says how much of a VLM reading the page confirms, and what is not on it", () => {
    const words = Array.from({ length: 14 }, (_, i) => `w${i}`);
    const s = summary({ ...base, reader: "vlm", checked_against: "text-layer", confirmed: 30, regions: 3, not_on_page: words, loops: 1, failed_regions: ["Table: out of memory"] });
    expect(s).toContain("from 3 regions; 30 of 42 words confirmed by the page's text layer reading");
    expect(s).toContain("14 word(s) not on the page: w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 …");
    expect(s).toContain("1 repetition loop(s) cut; not read: Table: out of memory.");
  });
  it("says when there was nothing to check against", () => {
    expect(summary({ ...base, reader: "vlm", checked_against: "nothing", regions: 1 })).toContain("nothing to check against");
  });
});
