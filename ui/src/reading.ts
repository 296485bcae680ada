// A page's new reading, said in a sentence: how many words, and for the VLM how many of them
// the page's other reading confirms and which ones are nowhere on the page.
import type { ReadAgain } from "./bindings/ReadAgain";
import type { ReaderChoice } from "./bindings/ReaderChoice";

export const NAMES: Record<ReaderChoice, string> = { ocr: "OCR", vlm: "PaddleOCR-VL" };
const READINGS: Record<string, string> = { "text-layer": "text layer", ocr: "OCR" };

/// What the reading found, in a sentence.
export function summary(r: ReadAgain): string {
  const read = `Read by ${NAMES[r.reader]}: ${r.words} words in ${r.lines} lines`;
  if (r.reader === "ocr") return `${read}.`;
  const against = r.checked_against === "nothing" ? "nothing to check against (no other reading)" : `${r.confirmed} of ${r.words} words confirmed by the page's ${READINGS[r.checked_against ?? ""] ?? r.checked_against} reading`;
  const parts = [`${read} from ${r.regions} regions; ${against}`];
  if (r.not_on_page.length) parts.push(`${r.not_on_page.length} word(s) not on the page: ${r.not_on_page.slice(0, 12).join(" ")}${r.not_on_page.length > 12 ? " …" : ""}`);
  if (r.loops) parts.push(`${r.loops} repetition loop(s) cut`);
  if (r.failed_regions.length) parts.push(`not read: ${r.failed_regions.join("; ")}`);
  return parts.join("; ") + ".";
}
