// The consumed {imo} gets no value from the exposed /vessels/{id}.
logto_client::naftiko_capability!("../../../../logto-macros/core/tests/fixtures/bad/07-unresolved-placeholder.yaml");

fn main() {}
