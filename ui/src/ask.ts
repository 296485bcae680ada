// The ask panel: a question about the current page or the whole document, the answer with its
// confidence, its evidence highlighted on the page (and scrolled into view), the best guesses
// when nothing is certain, and the document's earlier questions.
import { api } from "./api";
import type { Answer } from "./bindings/Answer";
import type { Asked } from "./bindings/Asked";
import { $, errorText, h } from "./dom";
import * as models from "./models";
import { emit, on, open, state } from "./state";

const PREPARE_AFTER_MS = 1500;

/// When the last question was sent and its answer drawn (read by the benchmark).
export const timings = { asked: 0, answered: 0 };

function showEvidence(a: Answer) {
  const first = a.evidence[0];
  if (!first || !state.current) return;
  if (first.page !== state.page) open(state.current, first.page, a.evidence);
  else {
    state.highlight = a.evidence;
    emit("highlight");
  }
}

function answerCard(a: Answer): HTMLElement {
  const pct = Math.round(a.confidence * 100);
  if (!a.found)
    return h(
      "div.answer.not-found",
      {},
      h("div.answer-text", {}, "No answer found"),
      a.reason ? h("p.muted", {}, a.reason) : null,
      a.checks && a.answer ? h("p.small", {}, `The model said: ${a.answer}`) : null,
      checksNote(a),
      a.guesses.length ? h("div.muted.small", {}, "Best guesses:") : null,
      ...a.guesses.slice(0, 3).map((g) => h("button.guess", { onclick: () => showEvidence({ ...a, evidence: g.evidence }) }, `${g.answer} (${Math.round(g.confidence * 100)}%)`)),
    );
  const where = a.evidence.length ? `page ${a.evidence[0].page}` : "";
  const checks = a.checks ? checksNote(a) : null;
  return h(
    "div.answer",
    {},
    h("div.answer-text", {}, a.answer ?? ""),
    a.normalized && a.normalized !== a.answer
      ? h("div.muted", {}, `${a.normalized}${a.currency ? ` ${a.currency}` : ""}${a.unit ? ` (in ${a.unit})` : ""}`)
      : a.currency || a.unit
        ? h("div.muted", {}, [a.currency, a.unit ? `(in ${a.unit})` : null].filter(Boolean).join(" "))
        : null,
    h("div.confidence", { title: "How sure the answerer is" }, h("meter", { min: 0, max: 100, value: pct, low: 40, high: 70, optimum: 100 }), `${pct}% · ${where}`),
    a.evidence.length ? h("button.link", { onclick: () => showEvidence(a) }, "Show on the page") : null,
    checks,
  );
}

/// What the honesty checks found about a model's answer.
function checksNote(a: Answer): HTMLElement | null {
  const c = a.checks;
  if (!c) return null;
  const parts = [`${c.model}, ${c.tokens} tokens in ${((c.prefill_ms + c.decode_ms) / 1000).toFixed(1)} s`, `evidence: ${c.grounded_by}`];
  if (c.not_on_page.length) parts.push(`not on the page: ${c.not_on_page.join(", ")}`);
  if (c.loop_cut) parts.push("a repetition loop was cut");
  return h("div.small.muted.checks", {}, parts.join(" · "));
}

async function renderHistory() {
  const list = $("#history");
  const doc = state.current;
  if (!doc) return list.replaceChildren();
  try {
    const asked: Asked[] = await api.questions(doc.id);
    list.replaceChildren(
      ...asked
        .slice()
        .reverse()
        .map((q) =>
          h(
            "li",
            { tabindex: 0, onclick: () => ($("#answer").replaceChildren(answerCard(q.answer)), showEvidence(q.answer)) },
            h("div", {}, q.answer.question),
            h("div.muted.small", {}, `${q.answer.found ? q.answer.answer : "not found"} · ${q.page ? `page ${q.page}` : "whole document"}`),
          ),
        ),
    );
  } catch {
    list.replaceChildren();
  }
}

async function ask(e: Event) {
  e.preventDefault();
  const doc = state.current;
  const box = $<HTMLInputElement>("#question");
  const question = box.value.trim();
  if (!doc || !question) return;
  const page = $<HTMLSelectElement>("#scope").value === "page" ? state.page : null;
  timings.asked = performance.now();
  const out = $("#answer");
  out.replaceChildren(h("div.muted", {}, "Reading…"));
  const visual = $<HTMLSelectElement>("#engine").value === "vlm";
  try {
    let streamed = "";
    const a = visual
      ? await api.askVisual(doc.id, question, page, models.precision(), (piece) => {
          streamed += piece;
          out.replaceChildren(h("div.muted", {}, "The model is writing…"), h("div.answer-text.streaming", {}, streamed));
        })
      : await api.ask(doc.id, question, page);
    out.replaceChildren(answerCard(a));
    if (a.found) showEvidence(a);
    requestAnimationFrame(() => {
      timings.answered = performance.now();
      out.dataset.answered = String(timings.answered);
    });
    renderHistory();
  } catch (err) {
    out.replaceChildren(h("div.error", {}, errorText(err)));
  }
}

export function mount() {
  $("#ask-form").addEventListener("submit", ask);
  on("open", () => {
    $("#answer").replaceChildren();
    renderHistory();
  });
  // Prepare a document for questions (embed its wording) once the person rests on a page of
  // it: not while clicking through documents or paging, which it would slow down.
  let timer = 0;
  const prepared = new Set<string>();
  on("page", () => {
    clearTimeout(timer);
    const doc = state.current;
    if (!doc || prepared.has(doc.id)) return;
    timer = window.setTimeout(() => {
      if (state.current?.id !== doc.id) return;
      prepared.add(doc.id);
      api.prepareQuestions(doc.id).catch(() => prepared.delete(doc.id));
    }, PREPARE_AFTER_MS);
  });
}
