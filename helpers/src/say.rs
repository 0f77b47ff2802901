//! STUB: being written.
/// STUB
#[macro_export]
macro_rules! say { ($($t:tt)*) => { println!($($t)*) }; }
