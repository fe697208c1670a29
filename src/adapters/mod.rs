//! Platform I/O. Nothing outside this module talks to a chat platform or a terminal.

pub mod shell;
