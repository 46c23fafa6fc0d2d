//! Compile-fail cases: every bad capability is a compile error that points at
//! its file, line and column, with a help line.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
