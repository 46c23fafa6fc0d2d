// call: regsitry.list-ships (namespace misspelt).
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/bad/04-unknown-call-namespace.yaml");

fn main() {}
