// with: refers to tools.statuss, which is not declared.
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/bad/08-with-missing-input.yaml");

fn main() {}
