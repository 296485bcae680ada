// "Read again": the open page read anew from its pixels, by OCR or by PaddleOCR-VL region by
// region (each region's text shown as it ends), as a job that can be cancelled. The reading
// becomes the page's words; what the VLM wrote that is nowhere on the page is listed.
import { api } from "./api";
import type { ReaderChoice } from "./bindings/ReaderChoice";
import { $, errorText, h } from "./dom";
import * as jobs from "./jobs";
import * as library from "./library";
import * as models from "./models";
import { NAMES, summary } from "./reading";
import { on, state } from "./state";
import * as viewer from "./viewer";

function say(text: string, tone: "ok" | "warn" | "bad" = "ok") {
  $("#read-said").replaceChildren(h(`p.note.${tone}`, {}, text));
}

async function readAgain() {
  const doc = state.current;
  if (!doc) return;
  const page = state.page;
  const reader = $<HTMLSelectElement>("#reader").value as ReaderChoice;
  const button = $<HTMLButtonElement>("#read-again");
  const job = jobs.startJob(`Reading ${doc.name} page ${page} with ${NAMES[reader]}`);
  button.disabled = true;
  say(`Reading page ${page} with ${NAMES[reader]}…`);
  try {
    const r = await api.readAgain(doc.id, page, reader, models.precision(), job.id, (region) => {
      jobs.progress(job, region.region, region.regions, `${region.label}: ${region.text.slice(0, 80)}`);
      say(`Read region ${region.region} of ${region.regions} (${region.label})…`);
    });
    jobs.finish(job);
    viewer.replaceView(r.view);
    say(summary(r), r.not_on_page.length || r.failed_regions.length || r.loops ? "warn" : "ok");
    library.refresh();
  } catch (e) {
    const cancelled = !!e && typeof e === "object" && (e as { kind?: string }).kind === "cancelled";
    job.cancelled = cancelled;
    jobs.finish(job, cancelled ? undefined : errorText(e));
    say(cancelled ? "Cancelled: the page keeps its earlier reading." : errorText(e), cancelled ? "warn" : "bad");
  } finally {
    button.disabled = false;
  }
}

export function mount() {
  $("#read-again").addEventListener("click", readAgain);
  // What a reading said belongs to its page and to the models installed then.
  on("page", () => $("#read-said").replaceChildren());
  on("models", () => $("#read-said").replaceChildren());
}
