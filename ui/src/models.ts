// Models: what each local model is for, whether it is installed, its size, licence and source,
// and how to get the ones that are missing; the optional vision-language models with the command
// that downloads them (`pagewise models get`; downloading from this panel is still to come).
import { api } from "./api";
import { $, errorText, h } from "./dom";

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
        h("thead", {}, h("tr", {}, ...["Model", "For", "Size", "Licence", "From", "State"].map((t) => h("th", {}, t)))),
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
            ),
          ),
        ),
      ),
    );
  } catch (e) {
    wrap.replaceChildren(h("p.note.bad", {}, errorText(e)));
  }
}
