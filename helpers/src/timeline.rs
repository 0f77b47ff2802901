//! STUB: being written.
#![allow(missing_docs, unused)]
pub struct Timeline;
pub struct Snapshot;
pub enum Layout { ByTask, ByThread }
