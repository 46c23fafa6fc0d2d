// method: FETCH.
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/bad/12-invalid-method.yaml");

fn main() {}
