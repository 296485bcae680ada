//! The ground floor: every type that crosses a stage boundary (ids, geometry, pages and what
//! readers return, layouts, answers and their evidence, field values, progress events, errors).
//! It imports no stage; every other layer builds on it.

mod answer;
mod document;
mod error;
mod fields;
mod geometry;
mod layout;
mod page;
mod progress;
mod search;

pub use answer::{Answer, Asked, Evidence, Guess, ModelChecks, Target};
pub use document::{DocId, Document, FileKind, PageNo};
pub use error::{panic_message, Error, ErrorReport, Result};
pub use fields::{DocumentFields, FieldValue, Item, ValueSource};
pub use geometry::{merge_touching, BBox, TextDirection};
pub use layout::{Cell, KeyValue, Label, LayoutMode, PageLayout, Region, RegionSource};
pub use page::{Corners, FormField, FormFieldKind, Graphics, Line, Page, PageSource, Reading, Word};
pub use progress::{AddOutcome, AddStatus, Progress};
pub use search::{BlockVector, PageMatch, SearchHit};
