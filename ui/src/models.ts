// Models: what each local model is for, whether it is installed, its size, licence and source,
// and how to get the ones that are missing. The optional vision-language models can be
// downloaded here (a job with a progress bar; every file checked before it is installed),
// verified, removed, or imported from a folder for computers without internet; and the
// precision they run at (full, or the language model in 8 bits).
import { api } from "./api";
import type { ModelView } from "./bindings/ModelView";
import type { Precision } from "./bindings/Precision";
import { $, errorText, h } from "./dom";
import * as jobs from "./jobs";
import { emit } from "./state";

/// How the vision-language models hold their weights (kept between sessions): f32, or the
/// language model in 8 bits (faster answers and readings, less memory).
export function precision(): Precision {
  return localStorage.getItem("pagewise.precision") === "q8" ? "q8" : "f32";
}

function precisionChoice(): HTMLElement {
  const select = h(
    "select#precision",
    { onchange: (e: Event) => localStorage.setItem("pagewise.precision", (e.target as HTMLSelectElement).value) },
    h("option", { value: "f32" }, "full precision (f32)"),
    h("option", { value: "q8" }, "8-bit language model (about 3x faster, less memory)"),
  );
  select.value = precision();
  return h("p", {}, h("label", {}, "Vision-language models run at ", select));
}

function say(text: string, kind: "ok" | "warn" | "bad" = "ok") {
  $("#models-said").replaceChildren(h(`p.note.${kind}`, {}, text));
}

async function download(m: ModelView) {
  const unpinned = m.version === "unpinned";
  const ask = `Download ${m.name} (about ${mb(m.bytes ?? 0)}) from the Hugging Face hub?` +
    (unpinned ? " Its manifest is not pinned to a version yet: Pagewise takes the hub's current one and checks every file against the hub's own checksums." : "");
  if (!window.confirm(ask)) return;
  const job = jobs.startJob(`Downloading ${m.name} (MB)`);
  try {
    await api.modelGet(m.name, job.id, (p) => jobs.progress(job, Math.round(p.done / 1e6), Math.round(p.total / 1e6), p.file));
    jobs.finish(job);
    say(`${m.name} is installed.`);
    emit("models");
  } catch (e) {
    jobs.finish(job, errorText(e));
    say(errorText(e), "bad");
  }
  render();
}

async function verify(m: ModelView) {
  try {
    const checks = await api.modelVerify(m.name);
    const bad = checks.filter((c) => !c.ok);
    say(bad.length ? `${m.name}: ${bad.map((c) => `${c.file} ${c.detail}`).join("; ")}` : `${m.name}: all ${checks.length} files match their checksums.`, bad.length ? "bad" : "ok");
  } catch (e) {
    say(errorText(e), "bad");
  }
}

async function remove(m: ModelView) {
  if (!window.confirm(`Remove ${m.name} from this computer?`)) return;
  try {
    await api.modelRemove(m.name);
    say(`${m.name} was removed.`);
    emit("models");
  } catch (e) {
    say(errorText(e), "bad");
  }
  render();
}

async function importFolder() {
  try {
    const where = await api.modelImport();
    if (where.length) say(`Imported into ${where.join(", ")}; every file was checked.`);
    emit("models");
  } catch (e) {
    say(errorText(e), "bad");
  }
  render();
}

function actions(m: ModelView): HTMLElement | null {
  if (!m.optional) return null;
  return m.installed
    ? h("span.actions", {}, h("button.small", { onclick: () => verify(m) }, "Verify"), h("button.small", { onclick: () => remove(m) }, "Remove"))
    : h("span.actions", {}, h("button.small", { onclick: () => download(m) }, "Download"));
}

const mb = (b: number) => (b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : `${(b / 1e6).toFixed(1)} MB`);

export async function render() {
  const wrap = $("#models-list");
  try {
    const models = await api.models();
    const missing = models.filter((m) => !m.installed && !m.optional);
    wrap.replaceChildren(
      missing.length
        ? h("p.note.warn", {}, `${missing.length} model file(s) missing. Scans cannot be read and layout on images falls back without them. Install with: `, h("code", {}, missing[0].fetch))
        : h("p.note.ok", {}, "Every model is installed. Everything runs on this computer; nothing is sent anywhere."),
      h(
        "table.models",
        {},
        h("thead", {}, h("tr", {}, ...["Model", "For", "Size", "Licence", "From", "State", ""].map((t) => h("th", {}, t)))),
        h(
          "tbody",
          {},
          ...models.map((m) =>
            h(
              "tr",
              { dataset: { model: m.name } },
              h("td", {}, h("strong", {}, m.name)),
              h("td", {}, m.task),
              h("td", {}, m.bytes != null ? mb(m.bytes) : "—"),
              h("td", {}, m.licence),
              h("td.small", {}, `${m.package} ${m.version}`, h("div.muted", {}, m.source)),
              h(
                "td",
                {},
                m.installed
                  ? h("span.badge.ok", {}, "installed")
                  : m.optional
                    ? h("span", {}, h("span.badge", { title: "Optional: download it when you want it" }, "not downloaded"), h("div.small.muted", {}, h("code", {}, m.fetch)))
                    : h("span.badge.warn", { title: `Run: ${m.fetch}` }, "missing"),
              ),
              h("td", {}, actions(m)),
            ),
          ),
        ),
      ),
      precisionChoice(),
      h("p", {}, h("button#import-model", { onclick: importFolder, title: "For computers without internet: a model folder copied from elsewhere (every file is checked)" }, "Import a model folder…")),
    );
  } catch (e) {
    wrap.replaceChildren(h("p.note.bad", {}, errorText(e)));
  }
}
