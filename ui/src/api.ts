// The one module that talks to the Rust shell. Every type comes from ./bindings, generated from
// the Rust types by ts-rs (`cargo test`), so the two sides cannot drift apart.
import { Channel, invoke } from "@tauri-apps/api/core";
import type { AddOutcome } from "./bindings/AddOutcome";
import type { Answer } from "./bindings/Answer";
import type { Asked } from "./bindings/Asked";
import type { DocId } from "./bindings/DocId";
import type { Document } from "./bindings/Document";
import type { ExtractRun } from "./bindings/ExtractRun";
import type { FieldValue } from "./bindings/FieldValue";
import type { LibraryView } from "./bindings/LibraryView";
import type { ModelView } from "./bindings/ModelView";
import type { ModelProgress } from "./bindings/ModelProgress";
import type { FileCheckView } from "./bindings/FileCheckView";
import type { PageView } from "./bindings/PageView";
import type { Precision } from "./bindings/Precision";
import type { ReadAgain } from "./bindings/ReadAgain";
import type { ReaderChoice } from "./bindings/ReaderChoice";
import type { RegionRead } from "./bindings/RegionRead";
import type { Progress } from "./bindings/Progress";
import type { SchemaView } from "./bindings/SchemaView";
import type { SearchHit } from "./bindings/SearchHit";

function channel<T = Progress>(onMessage: (message: T) => void): Channel<T> {
  const ch = new Channel<T>();
  ch.onmessage = onMessage;
  return ch;
}

export const api = {
  library: () => invoke<LibraryView>("library"),
  documents: (offset: number, limit: number) => invoke<Document[]>("documents", { offset, limit }),
  document: (id: DocId) => invoke<Document>("document", { id }),
  pickFiles: (folders: boolean) => invoke<string[]>("pick_files", { folders }),
  import: (paths: string[], job: number, onProgress: (p: Progress) => void, password: string | null = null) =>
    invoke<AddOutcome[]>("import", { paths, password, job, progress: channel(onProgress) }),
  cancel: (job: number) => invoke<boolean>("cancel", { job }),
  remove: (id: DocId) => invoke<void>("remove_document", { id }),
  page: (id: DocId, page: number) => invoke<PageView>("page_view", { id, page }),
  search: (query: string, semantic: boolean, offset: number, limit: number, onProgress: (p: Progress) => void) =>
    invoke<SearchHit[]>("search", { query, semantic, offset, limit, progress: channel(onProgress) }),
  ask: (id: DocId, question: string, page: number | null) => invoke<Answer>("ask", { id, question, page }),
  askVisual: (id: DocId, question: string, page: number | null, precision: Precision, onText: (piece: string) => void) =>
    invoke<Answer>("ask_visual", { id, question, page, precision, tokens: channel<string>(onText) }),
  readAgain: (id: DocId, page: number, reader: ReaderChoice, precision: Precision, job: number, onRegion: (r: RegionRead) => void) =>
    invoke<ReadAgain>("read_again", { id, page, reader, precision, job, regions: channel<RegionRead>(onRegion) }),
  questions: (id: DocId) => invoke<Asked[]>("questions", { id }),
  prepareQuestions: (id: DocId) => invoke<void>("prepare_questions", { id }),
  schemas: () => invoke<SchemaView[]>("schemas"),
  pickSchema: () => invoke<SchemaView | null>("pick_schema"),
  extract: (ids: DocId[], schema: string, vlm: boolean, precision: Precision, job: number, onProgress: (p: Progress) => void) =>
    invoke<ExtractRun>("extract", { ids, schema, vlm, precision, job, progress: channel(onProgress) }),
  correct: (id: DocId, schema: string, field: string, value: string) => invoke<FieldValue>("correct", { id, schema, field, value }),
  export: (ids: DocId[], schema: string, format: "csv" | "json", withEvidence: boolean) => invoke<string | null>("export", { ids, schema, format, withEvidence }),
  models: () => invoke<ModelView[]>("models"),
  modelGet: (name: string, job: number, onProgress: (p: ModelProgress) => void) => invoke<string>("model_get", { name, job, progress: channel<ModelProgress>(onProgress) }),
  modelVerify: (name: string) => invoke<FileCheckView[]>("model_verify", { name }),
  modelRemove: (name: string) => invoke<boolean>("model_remove", { name }),
  modelImport: () => invoke<string[]>("model_import"),
};

// Page images come through the shell's `page:` protocol (the web view has no file access).
const base = navigator.userAgent.includes("Windows") ? "http://page.localhost/" : "page://localhost/";
/// `drawn` counts the page's readings in this session: a page turned upright by a new reading
/// gets a new URL, so the web view does not show its cached image.
export const pageImage = (doc: DocId, page: number, width: number, drawn = 0) => `${base}p/${doc}/${page}?w=${width}${drawn ? `&r=${drawn}` : ""}`;
/// The photo a photographed page was found in, as it was shot.
export const originalImage = (doc: DocId, page: number, width: number) => `${base}o/${doc}/${page}?w=${width}`;
export const thumbnail = (doc: DocId, page = 1) => `${base}t/${doc}/${page}`;
