// An unclosed flow mapping.
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/bad/01-yaml-syntax.yaml");

fn main() {}
