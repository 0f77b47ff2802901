//! STUB: being written.
#![allow(missing_docs, unused)]
pub struct Table;
