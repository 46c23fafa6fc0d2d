// Two operations named list-ships in one namespace.
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/bad/06-duplicate-operation.yaml");

fn main() {}
