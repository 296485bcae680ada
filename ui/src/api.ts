// The one module that talks to the Rust shell. (Types are generated from Rust in the app stage.)
import { invoke } from "@tauri-apps/api/core";

export interface DocumentSummary { id: string; name: string; kind: string; pages: number; ocr_pages: number; needs_reader_pages: number; failed_pages: number; }
export interface SearchHit { doc_id: string; name: string; page: number; snippet: string; }
export interface ErrorReport { kind: string; message: string; }

export const listDocuments = () => invoke<DocumentSummary[]>("list_documents");
export const search = (query: string) => invoke<SearchHit[]>("search", { query });
