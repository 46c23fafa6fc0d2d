// opertions: instead of operations:.
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/bad/09-misspelt-key.yaml");

fn main() {}
